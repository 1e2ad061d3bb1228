"""One bounded, time-stamped log of what happened: HTTP calls, WS frames, events, pushes, callbacks.

The backend already keeps its logs (the event bus history, the hub's sent frames, the
webhook log), each bounded but unstamped; the fakes keep theirs (FCM inbox, Xendit
delivery log).  Rather than change each producer, the timeline reads every source from a
cursor (how many entries it has seen so far), turns what is new into an :class:`Entry`
and keeps the newest :data:`TIMELINE_CAP` in a :class:`~simkit.bounded.BoundedLog`.  A
backend entry is stamped when the timeline first sees it (on the next HTTP call or feed
tick, so within a tick of the truth); HTTP calls are recorded by :class:`Recorder` as they
finish, and the fakes' entries carry their own times.  ``refs`` holds the ids an entry is
about (user, session, payment, invoice): what the page's filter matches.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from itertools import islice
from typing import Any, TypedDict

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from simkit.bounded import BoundedLog

TIMELINE_CAP = 500
QUIET_PREFIXES = ("/control", "/api/control-center/stats/stream")  # the page's own polling is not news


class Entry(TypedDict):
    """One line of the timeline."""

    at: float
    kind: str  # http, frame, event, webhook, push, callback
    text: str
    refs: list[str]


def ids_in(data: dict[str, Any]) -> list[str]:
    """The string values of ``*_id`` / ``id`` keys, one level of nesting included."""
    found: list[str] = []
    for key, value in data.items():
        if isinstance(value, dict):
            found += ids_in(value) if key != "data" else [v for v in value.values() if isinstance(v, str)]
        elif isinstance(value, str) and (key == "id" or key.endswith("_id")):
            found.append(value)
    return found


def list_like(source: Collection[Any]) -> Any:
    """``source`` as a reversible sequence (a deque or list); anything else is copied once."""
    return source if hasattr(source, "__reversed__") else list(source)


class Cursor:
    """How far one source has been read; a replaced or shrunk source is read again from its start."""

    def __init__(self) -> None:
        self.source: object = None
        self.seen = 0

    def fresh(self, source: Collection[Any], total: int) -> list[Any]:
        """The entries of ``source`` not seen yet; ``total`` counts every entry it ever held."""
        if source is not self.source or total < self.seen:
            self.source, self.seen = source, 0
        new = min(total - self.seen, len(source))
        self.seen = total
        if new <= 0:
            return []
        if isinstance(source, list):
            return source[len(source) - new :]
        return list(islice(reversed(list_like(source)), new))[::-1]  # a deque: read from its end, O(new)


class Timeline:
    """The newest :data:`TIMELINE_CAP` entries from every source, oldest first."""

    def __init__(self, cap: int = TIMELINE_CAP) -> None:
        self.log: BoundedLog[Entry] = BoundedLog(cap)
        self.cursors: dict[str, Cursor] = {}

    def add(self, at: float, kind: str, text: str, refs: Iterable[str]) -> None:
        """Record one entry."""
        self.log.append(Entry(at=at, kind=kind, text=text, refs=[r for r in refs if r]))

    def read(self, name: str, source: Collection[Any], total: int | None = None) -> list[Any]:
        """What ``source`` holds that the timeline has not read yet."""
        cursor = self.cursors.setdefault(name, Cursor())
        return cursor.fresh(source, len(source) if total is None else total)

    def backend(self, backend: Any) -> None:
        """Read the backend's own logs (events, frames, webhooks) and stamp what is new with its clock."""
        now = backend.deps.now()
        history = backend.deps.bus.history
        seen = self.cursors.get("events")
        if seen is not None and seen.source is not None and seen.source is not history:
            self.log.clear()  # the backend was reset (its clock rewound too): what came before is another run
        for event in self.read("events", history, len(history) + history.dropped):
            self.add(now, "event", _describe_event(event), ids_in(event))
        hub = backend.hub
        for sent in self.read("frames", hub.sent, hub.frames_sent):
            self.add(now, "frame", _describe_frame(sent), [sent["to"].partition(":")[2], *ids_in(sent["frame"])])
        log = backend.webhook.log
        for hook in self.read("webhooks", log, len(log) + log.dropped):
            self.add(hook.get("at", now), "webhook", _describe_webhook(hook), ids_in(hook))

    def newest(self, limit: int, now: float) -> list[Entry]:
        """At most ``limit`` entries, newest first; none from after ``now`` (a reset rewound the clock past them)."""
        kept = [e for e in self.log.newest() if e["at"] <= now]
        return sorted(kept, key=lambda e: e["at"])[::-1][:limit]  # equal times: newest first


def _describe_event(event: dict[str, Any]) -> str:
    details = " ".join(f"{k}={v}" for k, v in event.items() if k != "event")
    return f"{event['event']} {details}".strip()


def _describe_frame(sent: dict[str, Any]) -> str:
    frame = sent["frame"]
    kind = frame.get("type", "?") if isinstance(frame, dict) else "?"
    missed = "" if sent.get("delivered") else " (no socket open)"
    return f"WS {kind} → {sent['to']}{missed}"


def _describe_webhook(hook: dict[str, Any]) -> str:
    fields = ("status", "external_id", "outcome", "reason", "source")
    return "webhook " + " ".join(f"{k}={hook[k]}" for k in fields if hook.get(k) is not None)


class Recorder:
    """ASGI middleware: every HTTP call the backend answers is reported to ``on_call`` with its status.

    Only the method and path are passed on: query strings and bodies may carry OTPs,
    passwords and tokens, and the timeline never shows them.
    """

    def __init__(self, app: ASGIApp, on_call: Callable[[Scope, int], None]) -> None:
        self.app = app
        self.on_call = on_call

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(QUIET_PREFIXES):
            await self.app(scope, receive, send)
            return
        status = [500]

        async def watching(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watching)
        finally:
            self.on_call(scope, status[0])
