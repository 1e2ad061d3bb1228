"""The events a wait looked at, as a timeline for the failure message of a wait that found nothing.

Each frame, push or callback that arrived is listed with its time since the run started,
whether an earlier wait consumed it, and under each pending one why it is not what the wait
looked for (the ``✗`` lines of :func:`~.expect.diff`), so "no frame within 3 s" comes with
what did come instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from halo_sim.scenario.context import compact
from halo_sim.scenario.expect import diff

SHOWN = 12  # entries listed at most (the latest), so a chatty run stays readable
WHY = 3  # ✗ lines per entry and pattern
STATE = {True: "consumed  ", False: "pending   ", None: ""}
Labelled = tuple[str, dict[str, Any]]  # (label telling patterns apart, or "", expected subset)


@dataclass(frozen=True)
class Sighting:
    """One event as a failure lists it: when, whether a wait took it, what it was, what patterns judge."""

    at: float  # seconds since the run started
    consumed: bool | None  # None: an event no wait consumes (a callback, looked at as a log)
    shown: Any
    judged: Any


def listing(what: str, sightings: Sequence[Sighting], patterns: Sequence[Labelled]) -> list[str]:
    """Every sighting with its time and state, and under each pending one why it misses each pattern.

    ``patterns`` are ``(label, expected)`` pairs; the label tells patterns apart when a wait has several.
    """
    if not sightings:
        return [f"  no {what} arrived"]
    taken = sum(1 for s in sightings if s.consumed)
    lines = [f"  {what} that arrived ({len(sightings)}{f'; {taken} consumed by earlier waits' if taken else ''}):"]
    if len(sightings) > SHOWN:
        lines.append(f"    … {len(sightings) - SHOWN} earlier not shown")
    for seen in sightings[-SHOWN:]:
        lines.append(f"    +{seen.at:.3f} s  {STATE[seen.consumed]}{compact(seen.shown, 160)}")
        lines += [f"      {line}" for line in _verdicts(seen, patterns)]
    return lines


def _verdicts(seen: Sighting, patterns: Sequence[Labelled]) -> list[str]:
    lines: list[str] = []
    for label, expected in patterns:
        problems = diff(expected, seen.judged)
        if not problems:
            lines.append(f"= {label}fits, but an earlier wait consumed it" if seen.consumed else f"✓ {label}fits")
        elif not seen.consumed:
            lines += [f"✗ {label}{p}" for p in problems[:WHY]]
    return lines
