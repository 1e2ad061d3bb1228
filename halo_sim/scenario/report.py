"""Results of a run, and the reporters that show them as they happen."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from halo_sim.scenario.secrets import redact
from halo_sim.scenario.snippet import step_yaml

Status = Literal["passed", "failed", "skipped", "error"]


@dataclass
class StepRecord:
    """One step as it ran."""

    index: int
    phase: Literal["setup", "step", "cleanup"]
    title: str
    line: int | None
    status: Status
    summary: str = ""
    details: list[str] = field(default_factory=list)
    seconds: float = 0.0
    started: float = 0.0  # seconds since the run began, on the transcript's clock (places the step in the diagram)

    def hide(self, secrets: tuple[str, ...]) -> None:
        """Show ``***`` in place of any secret value in what this step says (before it is reported)."""
        self.summary = redact(self.summary, secrets)
        self.details = redact(self.details, secrets)


@dataclass
class ScenarioResult:
    """A whole run: status, steps, and the transcript for a failure report."""

    id: str
    name: str
    path: str
    target: str
    seed: int
    status: Status = "passed"
    reason: str = ""
    steps: list[StepRecord] = field(default_factory=list)
    seconds: float = 0.0
    transcript: list[dict[str, Any]] = field(default_factory=list)
    frames: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # For the HTML report's sequence diagram: when each frame arrived (run-relative), which actor
    # each FCM token is, where the backend and the fakes answer, and the virtual clock at the start.
    frame_times: dict[str, list[float]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    endpoints: dict[str, str] = field(default_factory=dict)
    virtual_start: float | None = None

    @property
    def failed_step(self) -> StepRecord | None:
        """The step that failed (or crashed), if any."""
        return next((s for s in self.steps if s.status in ("failed", "error")), None)

    def headline(self) -> str:
        """One line: which step failed, where, and why (the skip or error reason when no step failed)."""
        step = self.failed_step
        if step is None:
            return self.reason
        return f"{step_name(step)} '{step.title}' {step.status} at {self.where(step)}: {step.summary}"

    def where(self, step: StepRecord) -> str:
        """``file:line`` of a step (the file alone for the setup steps an actor's spec implies)."""
        return f"{self.path}:{step.line}" if step.line else self.path

    def failure_text(self) -> str:
        """What went wrong, as people read it: the step, its file:line, the difference, the step's YAML."""
        step = self.failed_step
        if step is None:
            return self.reason
        source = step_yaml(self.path, step.line)
        shown = [f"the step ({self.where(step)}):", *(f"  {text}" for text in source)] if source else []
        return "\n".join([self.headline(), *step.details, *shown])

    def redact(self, secrets: tuple[str, ...]) -> None:
        """Hide ``secrets`` in everything the result shows (a last sweep: steps and transcript are
        already redacted as they are recorded; the reason and the frames are not)."""
        self.reason = redact(self.reason, secrets)
        self.frames = redact(self.frames, secrets)
        self.transcript = redact(self.transcript, secrets)
        for step in self.steps:
            step.hide(secrets)

    def write(self, folder: Path) -> Path:
        """Save the whole result (steps, transcript, frames) as JSON; returns the file."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.id}.json"
        path.write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False, default=str), encoding="utf-8")
        return path

    def data(self) -> dict[str, Any]:
        """The result as its JSON report holds it (what the HTML report is drawn from)."""
        return json.loads(json.dumps(asdict(self), ensure_ascii=False, default=str))  # type: ignore[no-any-return]


def step_name(step: StepRecord) -> str:
    """``step 3``, ``setup step 1`` or ``cleanup step 2`` (never "step step")."""
    prefix = "" if step.phase == "step" else f"{step.phase} "
    return f"{prefix}step {step.index + 1}"


class Reporter(Protocol):
    """Told about each step as it finishes."""

    def step_done(self, result: ScenarioResult, record: StepRecord) -> None: ...


class SilentReporter:
    """For pytest: everything goes into the result, nothing to the terminal."""

    def step_done(self, result: ScenarioResult, record: StepRecord) -> None:
        return None
