"""Everything a scenario run said and heard, for the report of a failed run."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from halo_sim.scenario.secrets import redact


@dataclass
class Transcript:
    """HTTP exchanges, WS frames, push look-ups and notes, in order, with run-relative times.

    ``secrets`` (the target's secret values) are replaced by ``***`` as each event is recorded.
    """

    entries: list[dict[str, Any]] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    secrets: tuple[str, ...] = ()

    def add(self, kind: str, **data: Any) -> None:
        """Record one event, secrets hidden."""
        self.entries.append({"t": self.since(time.perf_counter()), "kind": kind, **redact(data, self.secrets)})

    def since(self, moment: float) -> float:
        """A ``perf_counter()`` reading as seconds since the run began (the ``t`` of entries)."""
        return round(moment - self.started, 6)
