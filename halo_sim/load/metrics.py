"""Halo's latencies as Locust metrics: each is fired through ``events.request``, so it lands in
Locust's stats, charts, CSV and HTML (and is summed over workers by the master) like any request.

Cross-user timings need a meeting point: a message carries its send time in its text (so the
recipient times it on any worker or machine, clocks permitting), while an offer carries only
the session id, so the first offer seen by a mitra is noted in this process's
:data:`OFFERS` and the customer of that session reads it (on several workers, only when a
mitra of that worker was offered: the blast reaches every online mitra).
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from typing import Any, NamedTuple

from halo_sim.load.profile import Metric


class Entry(NamedTuple):
    """Where a metric sits in Locust's stats: ``(request_type, name)``."""

    request_type: str
    name: str


ENTRIES: dict[Metric, Entry] = {
    "pairing.offer": Entry("HALO", "pairing: confirmed→offer"),
    "pairing.match": Entry("HALO", "pairing: offer→match"),
    "pairing.webhook": Entry("HALO", "pairing: webhook→blast"),
    "delivery.ws": Entry("HALO", "delivery: sent→WS"),
    "delivery.fcm": Entry("HALO", "delivery: sent→FCM"),
    "messages.lost": Entry("HALO", "lost message"),
    "ws.connect": Entry("WS", "connect"),
    "ws.ack": Entry("WS", "chat_message→ack"),
}
LATENCIES: tuple[Metric, ...] = (
    "pairing.offer",
    "pairing.match",
    "pairing.webhook",
    "delivery.ws",
    "delivery.fcm",
    "ws.connect",
    "ws.ack",
)
REFUSAL = "REFUSAL"
HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
STAMP = re.compile(r"@(\d+\.\d+)")


class Stopping:
    """Set when the run starts stopping: users are being stopped (mitras go offline, sockets close) while
    others still wait, and what they then miss is the stop, not the system; samples from then on are dropped."""

    def __init__(self) -> None:
        self.now = False

    def __call__(self, **_: Any) -> None:
        self.now = True


STOPPING = Stopping()


def fire(environment: Any, metric: Metric, ms: float, failure: str | None = None) -> None:
    """One sample of ``metric`` (``failure``: it failed, counted in the failures table)."""
    if STOPPING.now:
        return
    entry = ENTRIES[metric]
    environment.events.request.fire(
        request_type=entry.request_type,
        name=entry.name,
        response_time=max(ms, 0.0),
        response_length=0,
        exception=RuntimeError(failure) if failure else None,
        context={},
    )


def refusal(environment: Any, code: str, expected: bool) -> None:
    """A refusal code the backend answered; expected ones (a lost accept race) are not failures."""
    if STOPPING.now:
        return
    environment.events.request.fire(
        request_type=REFUSAL,
        name=code,
        response_time=0,
        response_length=0,
        exception=None if expected else RuntimeError(f"refused: {code}"),
        context={},
    )


def stamped(text: str) -> str:
    """A message text carrying its send time, so the recipient can time its delivery."""
    return f"{text} @{time.time():.6f}"


def sent_at(text: str) -> float | None:
    """The send time a :func:`stamped` text carries."""
    found = STAMP.search(text)
    return float(found.group(1)) if found else None


def since_ms(start: float, end: float | None = None) -> float:
    """Milliseconds from ``start`` (epoch seconds) to ``end`` or now."""
    return ((end if end is not None else time.time()) - start) * 1000


class FirstSeen:
    """Session id → the first time an offer for it reached a mitra of this process (bounded)."""

    def __init__(self, cap: int = 100_000) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._cap = cap

    def note(self, key: str, at: float) -> None:
        if key in self._seen:
            self._seen[key] = min(self._seen[key], at)
        else:
            self._seen[key] = at
            if len(self._seen) > self._cap:
                self._seen.popitem(last=False)

    def get(self, key: str) -> float | None:
        return self._seen.get(key)


OFFERS = FirstSeen()
