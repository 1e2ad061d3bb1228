"""A load profile (``load/*.yaml``): who runs, how fast, how long, what they do, and the SLOs.

Validated before anything starts, like a scenario: every problem names the file and the line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from simkit.errors import HaloSimError
from simkit.yamlsrc import load_located

PaymentPath = Literal["auto", "force_confirm", "webhook", "checkout"]
Metric = Literal[
    "pairing.offer",
    "pairing.match",
    "pairing.webhook",
    "delivery.ws",
    "delivery.fcm",
    "ws.connect",
    "ws.ack",
    "http",
    "messages.lost",
    "refusals",
]


class ProfileError(HaloSimError):
    """A load profile that cannot run: ``file:line: where: what``."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Range(Strict):
    """Seconds drawn uniformly from ``[min, max]`` (think times, delays)."""

    min: float = Field(ge=0)
    max: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) is below min ({self.min})")
        return self


class Users(Strict):
    customer: int = Field(ge=0, le=100_000)
    mitra: int = Field(ge=0, le=100_000)


class CustomerBehaviour(Strict):
    """One customer's loop: pay, wait for a bestie, chat, background and resume, end; again."""

    duration_minutes: int = Field(default=15, gt=0)
    payment: PaymentPath = "auto"
    messages: int = Field(default=3, ge=0, le=1000)
    think_s: Range = Range(min=0.2, max=0.5)
    background: bool = True
    pairing_timeout_s: float = Field(default=10.0, gt=0)
    reply_timeout_s: float = Field(default=5.0, gt=0)
    pause_s: Range = Range(min=0.5, max=1.0)


class MitraBehaviour(Strict):
    """One mitra: online, heartbeat, accept offers (with a probability, after a delay), reply."""

    accept_probability: float = Field(default=1.0, ge=0, le=1)
    accept_delay_s: Range = Range(min=0.0, max=0.2)
    reply_think_s: Range = Range(min=0.05, max=0.2)
    background_reply_delay_s: float = Field(default=0.3, ge=0)
    heartbeat_s: float = Field(default=10.0, gt=0)


class Slo(Strict):
    """A threshold on one metric; any broken one makes the run exit 1."""

    metric: Metric
    p50_ms: float | None = Field(default=None, ge=0)
    p95_ms: float | None = Field(default=None, ge=0)
    p99_ms: float | None = Field(default=None, ge=0)
    max_ms: float | None = Field(default=None, ge=0)
    max_count: int | None = Field(default=None, ge=0)
    max_fail_ratio: float | None = Field(default=None, ge=0, le=1)

    @model_validator(mode="after")
    def _some_bound(self) -> Slo:
        if not self.bounds():
            raise ValueError("an SLO needs a bound: p50_ms, p95_ms, p99_ms, max_ms, max_count or max_fail_ratio")
        return self

    def bounds(self) -> dict[str, float]:
        """The bounds given, by name."""
        return {k: v for k, v in self.model_dump(exclude={"metric"}).items() if v is not None}


class LoadProfile(Strict):
    """The whole profile file."""

    name: str
    description: str = ""
    users: Users
    spawn_rate: float = Field(default=10.0, gt=0)
    duration_s: float = Field(default=60.0, gt=0)
    customer: CustomerBehaviour = CustomerBehaviour()
    mitra: MitraBehaviour = MitraBehaviour()
    slo: list[Slo] = Field(default_factory=list)


def load_profile(source: str) -> tuple[LoadProfile, Path]:
    """A profile by path, or by name from ``load/`` (``smoke`` → ``load/smoke.yaml``)."""
    path = _find(source)
    try:
        located = load_located(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read the load profile: {exc.strerror or exc}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ProfileError(f"{path}:{mark.line + 1 if mark else '?'}: not valid YAML: {exc.problem}") from None
    try:
        return LoadProfile.model_validate(located.data), path
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        line = located.line_of(tuple(str(p) if isinstance(p, str) else p for p in first["loc"]))
        raise ProfileError(f"{path}:{line or 1}: {where}: {first['msg']}") from None


def _find(source: str) -> Path:
    given = Path(source)
    if given.suffix in (".yaml", ".yml") or given.exists():
        return given
    named = Path("load") / f"{source}.yaml"
    if not named.exists():
        known = sorted(p.stem for p in Path("load").glob("*.yaml"))
        raise ProfileError(f"no load profile {source!r} (a path, or one of load/: {', '.join(known) or 'none'})")
    return named
