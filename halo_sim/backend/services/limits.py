"""Abuse limits on the injected clock: counts per key in fixed windows, and strikes before a lockout.

What the real backend would have in front of its auth routes (an SMS costs money,
every anonymous login adds a customer row, a password can be guessed).  Both keep
at most ``MAX_KEYS`` keys, dropping the stalest first, so a spray of new keys
cannot grow memory without bound either.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_KEYS = 10_000


@dataclass
class Window:
    """The requests of one key in the current window."""

    started: float
    count: int = 0


class RateLimit:
    """At most ``limit`` hits per key per ``window_s`` seconds."""

    def __init__(self, limit: int, window_s: float, now: Callable[[], float]) -> None:
        self.limit, self.window_s, self.now = limit, window_s, now
        self.windows: dict[str, Window] = {}

    def hit(self, key: str) -> int | None:
        """Count one request; None if allowed, else the whole seconds until the window reopens."""
        now = self.now()
        window = self.windows.get(key)
        if window is None or now - window.started >= self.window_s:
            window = self.windows[key] = Window(now)
            _bound(self.windows)
        if window.count >= self.limit:
            return max(1, math.ceil(window.started + self.window_s - now))
        window.count += 1
        return None


@dataclass
class Strikes:
    """Wrong attempts against one key, and until when it is locked."""

    count: int = 0
    locked_until: float | None = None


class Lockout:
    """``max_strikes`` wrong attempts lock a key for ``lock_s`` seconds; a success forgets them."""

    def __init__(self, max_strikes: int, lock_s: float, now: Callable[[], float]) -> None:
        self.max_strikes, self.lock_s, self.now = max_strikes, lock_s, now
        self.strikes: dict[str, Strikes] = {}

    def locked_for(self, key: str) -> int | None:
        """Whole seconds ``key`` stays locked, or None; an expired lock starts the count afresh."""
        entry = self.strikes.get(key)
        if entry is None or entry.locked_until is None:
            return None
        if entry.locked_until <= self.now():
            del self.strikes[key]
            return None
        return max(1, math.ceil(entry.locked_until - self.now()))

    def strike(self, key: str) -> int:
        """Count a wrong attempt; the attempts left before the lock (0: locked now)."""
        entry = self.strikes.setdefault(key, Strikes())
        _bound(self.strikes)
        entry.count += 1
        left = max(0, self.max_strikes - entry.count)
        if left == 0:
            entry.locked_until = self.now() + self.lock_s
        return left

    def forget(self, key: str) -> None:
        """A success: the key's wrong attempts no longer count."""
        self.strikes.pop(key, None)


def _bound(entries: dict[str, Any]) -> None:
    """Drop the oldest keys (insertion order) beyond ``MAX_KEYS``."""
    while len(entries) > MAX_KEYS:
        del entries[next(iter(entries))]
