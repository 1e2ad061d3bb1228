"""SLO thresholds judged on Locust's stats at the end of a run: a broken one makes the run exit 1.

A latency bound over a metric that has no sample is broken too ("no samples"): a run that never
paired anyone must not pass its pairing SLO.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from halo_sim.load.metrics import ENTRIES, HTTP_METHODS, REFUSAL
from halo_sim.load.profile import Slo

PERCENTILES = {"p50_ms": 0.50, "p95_ms": 0.95, "p99_ms": 0.99}


@dataclass(frozen=True)
class Verdict:
    """One bound of one SLO, as measured."""

    metric: str
    bound: str
    limit: float
    value: float | None

    @property
    def ok(self) -> bool:
        return self.value is not None and self.value <= self.limit

    def describe(self) -> str:
        shown = "no samples" if self.value is None else f"{self.value:g}"
        return f"{self.metric} {self.bound} {shown} {'≤' if self.ok else '>'} {self.limit:g}"


def evaluate(slos: list[Slo], stats: Any) -> list[Verdict]:
    """Every bound of every SLO against ``stats`` (a Locust ``RequestStats``)."""
    return [
        Verdict(s.metric, bound, limit, measure(stats, s.metric, bound))
        for s in slos
        for bound, limit in s.bounds().items()
    ]


def measure(stats: Any, metric: str, bound: str) -> float | None:
    """The value ``bound`` compares for ``metric``; None when a latency has no sample."""
    entry = _entry(stats, metric)
    if bound == "max_count":
        return float(entry.num_failures) if entry is not None else 0.0
    if bound == "max_fail_ratio":
        return float(entry.fail_ratio) if entry is not None and entry.num_requests else 0.0
    if entry is None or not entry.num_requests:
        return None
    if bound == "max_ms":
        return float(entry.max_response_time)
    return float(entry.get_response_time_percentile(PERCENTILES[bound]))


def _entry(stats: Any, metric: str) -> Any:
    """The stats entry of ``metric``; ``http`` and ``refusals`` are merged over their entries."""
    if metric in ENTRIES:
        found = ENTRIES[metric]
        return stats.entries.get((found.name, found.request_type))
    kinds = HTTP_METHODS if metric == "http" else {REFUSAL}
    from locust.stats import StatsEntry

    merged = StatsEntry(stats, metric, "", use_response_times_cache=False)
    for (_, method), entry in list(stats.entries.items()):
        if method in kinds:
            merged.extend(entry)
    return merged
