"""What a run has seen of the events it polls for: pushes and Xendit callbacks.

Frames come to the actor's socket and are stamped as they arrive (:class:`~.actor.Actor`).
Pushes and Xendit callbacks live in the fakes and are read by polling, so the harness
stamps each the first time a poll shows it, and keeps which pushes waits have consumed:
the fake FCM's inbox only grows, and "the next push" means the next one no earlier
``expect_push`` took.  Times are perf-counter readings, shown relative to the run's start
(the transcript's zero), so a failure reads as a timeline.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class Sightings:
    """First-seen times of polled events (by key) and the pushes consumed by waits (by message name)."""

    first_seen: dict[str, float] = field(default_factory=dict)
    consumed_pushes: set[str] = field(default_factory=set)

    def stamp(self, key: str) -> float:
        """When ``key`` was first seen (now, if this is the first time)."""
        return self.first_seen.setdefault(key, time.perf_counter())
