"""The HTML pages: one self-contained file per run, and the suite's index of them.

Everything is inline (CSS, the SVG, the script that opens payloads), so a file opened
from a CI artifact on a machine without network shows all of it.  Rendering reads only
the run's JSON report (and the scenario file, for each step's YAML, when it is there).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from halo_sim.report.sequence import Message, Sequence, sequence, step_name
from halo_sim.report.svg import draw, virtual_offset
from halo_sim.scenario.snippet import step_yaml
from simkit.errors import HaloSimError

TEMPLATES = Path(__file__).parent / "templates"
REQUIRED = ("id", "status", "steps", "transcript")


class ReportError(HaloSimError):
    """A JSON file that is not a scenario report: the CLI says it in one line and exits 2."""


def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["j2"]), trim_blocks=True)


def load(path: Path) -> dict[str, Any]:
    """A JSON report from disk; a missing, unreadable or foreign file is a :class:`ReportError`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReportError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ReportError(f"{path} is not JSON: {exc}") from None
    missing = [key for key in REQUIRED if not isinstance(data, dict) or key not in data]
    if missing:
        raise ReportError(f"{path} is not a halo-sim scenario report (no {', '.join(missing)})")
    return data  # type: ignore[no-any-return]


def render(report: dict[str, Any]) -> str:
    """The report page of one run."""
    seq = sequence(report)
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            report=report,
            svg=draw(seq),
            steps=[_step(report, step) for step in report.get("steps", [])],
            failed=_failed(report),
            payloads={m.index: _payload(m, seq) for m in seq.messages},
            clock=_clock(seq),
            lanes=[lane.label for lane in seq.lanes],
        )
    )


def write(report: dict[str, Any], path: Path) -> Path:
    """Render ``report`` to ``path`` (folders made as needed); returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(report), encoding="utf-8")
    return path


def render_index(rows: list[dict[str, Any]], title: str = "halo-sim suite") -> str:
    """The suite's index: one row per scenario (id, status, seconds, reason, its page)."""
    counts = {status: sum(1 for r in rows if r["status"] == status) for status in ("passed", "failed", "skipped")}
    counts["failed"] += sum(1 for r in rows if r["status"] == "error")
    ordered = sorted(rows, key=lambda r: (r["status"] not in ("failed", "error"), r["status"] != "skipped", r["id"]))
    return _environment().get_template("index.html.j2").render(rows=ordered, counts=counts, title=title)


def _step(report: dict[str, Any], step: dict[str, Any]) -> dict[str, Any]:
    return {
        **step,
        "name": step_name(step),
        "yaml": step_yaml(str(report.get("path", "")), step.get("line")),
        "where": f"{report.get('path')}:{step['line']}" if step.get("line") else "",
        "failed": step.get("status") in ("failed", "error"),
    }


def _failed(report: dict[str, Any]) -> dict[str, Any] | None:
    """The failing step as the page's summary shows it; None when no step failed."""
    for number, step in enumerate(report.get("steps", [])):
        if step.get("status") in ("failed", "error"):
            return {"number": number, **_step(report, step)}
    return None


def _payload(message: Message, seq: Sequence) -> dict[str, Any]:
    labels = {lane.key: lane.label for lane in seq.lanes}
    return {
        "label": message.label + (f" ×{message.count}" if message.count > 1 else ""),
        "route": f"{labels.get(message.source, message.source)} → {labels.get(message.target, message.target)}",
        "t": message.t,
        "virtual": _virtual(message.virtual, seq.virtual_start),
        "step": seq.steps[message.step].name if message.step is not None else None,
        "payload": message.payload,
    }


def _virtual(moment: float | None, start: float | None) -> str | None:
    if moment is None or start is None:
        return None
    return f"{virtual_offset(moment - start)} ({datetime.fromtimestamp(moment, UTC).isoformat()})"


def _clock(seq: Sequence) -> str:
    if seq.virtual_start is None:
        return "wall times only (the target has no virtual clock)"
    start = datetime.fromtimestamp(seq.virtual_start, UTC).isoformat()
    return f"virtual clock from {start} (v+0:00); it moves only when a step advances it"
