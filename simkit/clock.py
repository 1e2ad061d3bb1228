"""One clock for the whole simulator.

Every timer of the reference backend and of the fakes reads the time from a
:class:`Clock` handed to it, never from :mod:`time` directly.  The embedded
target runs a :class:`VirtualClock`, so a five-minute timeout costs nothing and a
run is reproducible; ``halo-sim serve`` runs a :class:`SystemClock`, optionally
sped up for manual testing.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Anything that can tell the current time in epoch seconds."""

    def now(self) -> float:
        """Return the current time as seconds since the epoch."""
        ...


class SystemClock:
    """Wall-clock time, optionally running ``speed`` times faster than real time."""

    def __init__(self, speed: float = 1.0) -> None:
        self.speed = speed
        self._origin = time.time()

    def now(self) -> float:
        elapsed = time.time() - self._origin
        return self._origin + elapsed * self.speed


class VirtualClock:
    """A clock that only moves when told to: deterministic tests and instant timeouts."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self.start = start
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        """Move time forward; time never runs backwards, so negative steps are refused."""
        if seconds < 0:
            raise ValueError(f"cannot move a clock backwards ({seconds} s)")
        self._now += seconds
        return self._now

    def rewind(self) -> None:
        """Back to the start: only for a full reset, so every run sees the same timestamps."""
        self._now = self.start


def parse_iso(text: str) -> float:
    """Epoch seconds of an ISO-8601 timestamp (``Z`` or an offset), e.g. a Xendit ``expiry_date``."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def isoformat(epoch: float) -> str:
    """Render epoch seconds the way the Halo backend and Xendit do (UTC, millisecond ISO-8601)."""
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
