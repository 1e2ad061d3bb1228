"""Timers on the injected clock.

The domain never sleeps: it asks the :class:`Scheduler` to call something at a
given clock time.  With a :class:`~simkit.clock.SystemClock` a driver task
wakes up when the next timer is due; with a :class:`~simkit.clock.VirtualClock`
nothing fires until :meth:`Scheduler.advance` moves time forward, stepping to
each due time in order, so a five-minute pairing timeout takes microseconds and
fires in a reproducible order.  One scheduler may be shared by the reference
backend and the fakes (the embedded target does this), giving them one clock.
"""

from __future__ import annotations

import asyncio
import heapq
import inspect
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from simkit.bounded import BoundedLog
from simkit.clock import Clock, VirtualClock

log = logging.getLogger(__name__)

#: Cancelled timers wait in the heap until due (a paid invoice's expiry: a day, up to a year), so the
#: heap is swept of them whenever it doubled since the last sweep (and holds at least this many).
COMPACT_MIN = 1024

TimerCallback = Callable[[], Awaitable[Any] | Any]


@dataclass(order=True)
class Timer:
    """A callback due at ``when`` (clock seconds); ``seq`` keeps equal times in FIFO order."""

    when: float
    seq: int
    name: str = field(compare=False)
    callback: TimerCallback = field(compare=False, repr=False)
    cancelled: bool = field(default=False, compare=False)
    owner: str = field(default="", compare=False)

    def cancel(self) -> None:
        """Stop this timer from firing; cheap, the heap drops it lazily."""
        self.cancelled = True


class Scheduler:
    """A due-time queue of callbacks read against one clock."""

    def __init__(self, clock: Clock, poll_interval: float = 0.05) -> None:
        self.clock = clock
        self.poll_interval = poll_interval
        self.errors: BoundedLog[str] = BoundedLog(200)  # the newest timer failures
        self._heap: list[Timer] = []
        self._compact_at = COMPACT_MIN
        self._seq = itertools.count()
        self._driver: asyncio.Task[None] | None = None
        self._wakeup: asyncio.Event | None = None

    @property
    def is_virtual(self) -> bool:
        """True when time only moves through :meth:`advance`."""
        return isinstance(self.clock, VirtualClock)

    def call_at(self, when: float, callback: TimerCallback, name: str = "", owner: str = "") -> Timer:
        """Schedule ``callback`` at clock time ``when``; ``owner`` lets one component clear only its own."""
        timer = Timer(when, next(self._seq), name or getattr(callback, "__name__", "timer"), callback, owner=owner)
        heapq.heappush(self._heap, timer)
        if len(self._heap) >= self._compact_at:
            self._compact()
        if self._wakeup is not None:
            self._wakeup.set()
        return timer

    def _compact(self) -> None:
        """Drop the cancelled timers: O(heap) once per doubling, so O(1) per timer, and a long-running
        ``serve`` holds only live timers plus at most as many cancelled ones."""
        self._heap[:] = [t for t in self._heap if not t.cancelled]
        heapq.heapify(self._heap)
        self._compact_at = max(COMPACT_MIN, 2 * len(self._heap))

    def call_later(self, delay: float, callback: TimerCallback, name: str = "", owner: str = "") -> Timer:
        """Schedule ``callback`` ``delay`` seconds from the clock's now."""
        return self.call_at(self.clock.now() + delay, callback, name, owner)

    def pending(self) -> list[Timer]:
        """Live timers in firing order (for state dumps and tests)."""
        return sorted(t for t in self._heap if not t.cancelled)

    def next_due(self) -> float | None:
        """Clock time of the next live timer, if any."""
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0].when if self._heap else None

    async def run_due(self) -> int:
        """Fire every timer due at the clock's now, in order; returns how many fired."""
        fired = 0
        while (due := self.next_due()) is not None and due <= self.clock.now():
            await self._fire(heapq.heappop(self._heap))
            fired += 1
        return fired

    async def advance(self, seconds: float) -> int:
        """Virtual clock only: move time forward, stopping at each due timer in turn."""
        if not isinstance(self.clock, VirtualClock):
            raise TypeError("advance() needs a VirtualClock; the system clock moves by itself")
        target = self.clock.now() + seconds
        fired = await self.run_due()
        while (due := self.next_due()) is not None and due <= target:
            self.clock.advance(max(0.0, due - self.clock.now()))
            fired += await self.run_due()
        self.clock.advance(max(0.0, target - self.clock.now()))
        return fired

    async def _fire(self, timer: Timer) -> None:
        try:
            result = timer.callback()
            if inspect.isawaitable(result):
                await result
        except Exception as exc:  # one broken timer must not stop the others; recorded for the state dump
            log.exception("timer %s failed", timer.name)
            self.errors.append(f"{timer.name}: {exc!r}")

    def start(self) -> None:
        """Start the driver task in the running loop (system clock only; idempotent)."""
        if self.is_virtual or (self._driver is not None and not self._driver.done()):
            return
        self._wakeup = asyncio.Event()
        self._driver = asyncio.get_running_loop().create_task(self._drive())

    async def stop(self) -> None:
        """Cancel the driver task, if one runs."""
        if self._driver is not None:
            self._driver.cancel()
            await asyncio.gather(self._driver, return_exceptions=True)
            self._driver = None

    async def _drive(self) -> None:
        assert self._wakeup is not None
        while True:
            await self.run_due()
            due = self.next_due()
            wait = self.poll_interval if due is None else max(0.0, min(self.poll_interval, due - self.clock.now()))
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout=wait)
            except TimeoutError:
                pass

    def clear(self, owner: str | None = None) -> None:
        """Drop every timer, or only ``owner``'s (a component resetting itself on a shared scheduler)."""
        if owner is None:
            self._heap.clear()
            return
        for timer in self._heap:
            if timer.owner == owner:
                timer.cancel()
