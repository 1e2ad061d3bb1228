"""A run's report as a sequence diagram's model: lanes (who) and messages (what, in time order).

Pure: it reads the JSON report of a run (a dict) and nothing else, so ``--html`` at run
time and ``halo-sim report`` on an old JSON file draw the same picture.

Where each message comes from:

* an HTTP exchange of the transcript is two messages, the call and its answer, between
  the app that made it (the entry's ``actor``, else the actor the step is named after, else
  the harness) and the server its URL belongs to (the report's ``endpoints``); ``_test`` and
  ``_fake`` calls are the harness's;
* ``ws_open``/``ws_send``/``ws_close`` are an app's, towards the backend; every frame an
  app received is a message from the backend at the time it arrived (``frame_times``);
* pushes and Xendit callbacks are not seen as they happen: the harness reads them from the
  fakes' logs (``fcm.expect_push``, ``xendit.expect_callback``).  Each one a look-up reveals
  for the first time is drawn right before that look-up (backend → FCM → app, fake Xendit →
  backend), with its own time on the fakes' clock in its payload;
* the virtual clock: the run reads it once after the reset (``virtual_start``) and every
  answer of the clock hook moves it; it only moves then, so each message gets the virtual
  time exactly (none on a target without a virtual clock).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

HARNESS = "harness"
SERVERS = {"backend": "backend", "xendit": "fake Xendit", "fcm": "fake FCM"}
CLOCK_PATH = "/_test/clock"


@dataclass(frozen=True)
class Lane:
    """One column of the diagram: an app, a server, or the harness itself."""

    key: str
    label: str


@dataclass
class Message:
    """One arrow: from a lane to a lane at a moment, with what it carried."""

    t: float | None
    source: str
    target: str
    label: str
    kind: str
    payload: Any = None
    virtual: float | None = None
    step: int | None = None
    bad: bool = False
    index: int = 0
    clock: float | None = None  # the virtual time this answer of the clock hook says it is now
    anchor: float | None = None  # when its exchange began (an answer belongs to its call's step)
    count: int = 1  # frames of one kind in a burst are one arrow (a clock jump sends hundreds of ticks)


@dataclass
class StepBand:
    """A step of the run: the rows of its messages, its status and, if it failed, why."""

    index: int
    name: str
    title: str
    status: str
    started: float
    seconds: float
    summary: str = ""
    details: list[str] = field(default_factory=list)
    line: int | None = None

    @property
    def failed(self) -> bool:
        return self.status in ("failed", "error")


@dataclass
class Sequence:
    """The whole picture: lanes left to right, messages top to bottom, the steps they belong to."""

    lanes: list[Lane]
    messages: list[Message]
    steps: list[StepBand]
    virtual_start: float | None = None


def sequence(report: dict[str, Any]) -> Sequence:
    """The diagram's model of a JSON report."""
    steps = _steps(report)
    ordered = sorted(_messages(report, steps), key=lambda m: (m.t is None, m.t or 0.0))
    for message in ordered:
        message.step = _step_at(steps, message.t if message.anchor is None else message.anchor)
    messages = list(_bursts(ordered))
    for number, message in enumerate(messages):
        message.index = number
    _virtual_times(messages, report.get("virtual_start"))
    return Sequence(_lanes(report, messages), messages, steps, report.get("virtual_start"))


def step_name(step: dict[str, Any]) -> str:
    """``step 3``, ``setup step 1``, as the terminal and the JSON report say it."""
    prefix = "" if step.get("phase") == "step" else f"{step.get('phase')} "
    return f"{prefix}step {int(step.get('index', 0)) + 1}"


def _steps(report: dict[str, Any]) -> list[StepBand]:
    return [
        StepBand(
            index=number,
            name=step_name(step),
            title=str(step.get("title", "")),
            status=str(step.get("status", "")),
            started=float(step.get("started") or 0.0),
            seconds=float(step.get("seconds") or 0.0),
            summary=str(step.get("summary", "")),
            details=[str(d) for d in step.get("details", [])],
            line=step.get("line"),
        )
        for number, step in enumerate(report.get("steps", []))
    ]


def _step_at(steps: list[StepBand], t: float | None) -> int | None:
    """The step running at ``t``: the last one begun by then, if it had not ended (else clean-up: none)."""
    if t is None or not any(s.started for s in steps):
        return None
    begun = [s for s in steps if s.started <= t]
    if not begun:
        return None
    last = begun[-1]
    ended = last is steps[-1] and t > last.started + last.seconds
    return None if ended else last.index


def _messages(report: dict[str, Any], steps: list[StepBand]) -> Iterator[Message]:
    seen: set[str] = set()
    for entry in report.get("transcript", []):
        yield from _entry(report, steps, entry, seen)
    yield from _frames(report)


def _entry(report: dict[str, Any], steps: list[StepBand], entry: dict[str, Any], seen: set[str]) -> Iterator[Message]:
    kind, t = entry.get("kind"), entry.get("t")
    actor = str(entry.get("actor") or HARNESS)
    if kind == "http":
        yield from _revealed(report, entry, seen)
        yield from _http(report, steps, entry)
    elif kind == "ws_open":
        yield Message(t, actor, "backend", "WS open (hello)", "ws", entry.get("hello"))
    elif kind == "ws_send":
        frame = entry.get("frame") or {}
        yield Message(t, actor, "backend", f"WS {frame.get('type', 'frame')}", "ws", frame)
    elif kind == "ws_close":
        yield Message(t, actor, "backend", "WS close (app to background)", "ws")
    else:
        yield Message(t, HARNESS, HARNESS, str(entry.get("text", kind)), "note", entry)


def _http(report: dict[str, Any], steps: list[StepBand], entry: dict[str, Any]) -> Iterator[Message]:
    server, path = server_of(report.get("endpoints", {}), str(entry.get("url", "")))
    client = _client(entry, server, path, steps)
    method, status, t = str(entry.get("method", "")), int(entry.get("status") or 0), entry.get("t")
    request = {"method": method, "url": entry.get("url"), "body": entry.get("request")}
    yield Message(entry.get("sent", t), client, server, f"{method} {path}", "http", request)
    body = entry.get("response")
    answer = Message(t, server, client, f"{status} {_gist(body)}", "answer", {"status": status, "body": body})
    answer.bad, answer.clock, answer.anchor = status >= 400, _clock_reading(path, body), entry.get("sent")
    yield answer


def _clock_reading(path: str, body: Any) -> float | None:
    """The virtual time an answer of the clock hook gives (``{"now": ..., "virtual": true}``)."""
    if path.endswith(CLOCK_PATH) and isinstance(body, dict) and body.get("virtual") is True:
        now = body.get("now")
        return float(now) if isinstance(now, (int, float)) else None
    return None


def server_of(endpoints: dict[str, str], url: str) -> tuple[str, str]:
    """The lane a URL belongs to and the path under it (the backend when no endpoint matches)."""
    for lane, base in sorted(endpoints.items(), key=lambda item: len(item[1]), reverse=True):
        base = base.rstrip("/")
        if url == base or url.startswith(base + "/"):
            return lane, urlsplit(url[len(base) :]).path or "/"
    return "backend", urlsplit(url).path or "/"


def _client(entry: dict[str, Any], server: str, path: str, steps: list[StepBand]) -> str:
    """Who made a call: its recorded actor, else the actor its step is named after; the harness for hooks."""
    if "/_test/" in path or path.startswith("/_fake/") or server != "backend":
        return HARNESS
    if entry.get("actor"):
        return str(entry["actor"])
    step = _step_at(steps, entry.get("t"))
    owner = steps[step].title.split(".", 1)[0] if step is not None and "." in steps[step].title else ""
    return owner if owner and owner not in ("test", "http", "fcm", "xendit", "parallel") else HARNESS


def _gist(body: Any, limit: int = 40) -> str:
    """A few words of an answer for the arrow's label (the payload has all of it)."""
    if isinstance(body, dict):
        for key in ("code", "status", "state", "delivered_via", "id"):
            if key in body and not isinstance(body[key], (dict, list)):
                return f"{key}={body[key]}"[:limit]
    return "" if body in (None, "", {}) else json.dumps(body, ensure_ascii=False, default=str)[:limit]


def _revealed(report: dict[str, Any], entry: dict[str, Any], seen: set[str]) -> Iterator[Message]:
    """Pushes and callbacks a fake's log shows for the first time, drawn just before the look-up."""
    server, path = server_of(report.get("endpoints", {}), str(entry.get("url", "")))
    body, t = entry.get("response"), entry.get("sent", entry.get("t"))
    if not isinstance(body, dict):
        return
    if server == "fcm" and path == "/_fake/inbox":
        token = (parse_qs(urlsplit(str(entry.get("url"))).query).get("token") or [""])[0]
        for push in body.get("messages", []):
            yield from _push(report.get("tokens", {}), token, push, t, seen)
    if server == "xendit" and path == "/_fake/callbacks":
        for attempt in body.get("log", []):
            yield from _callback(attempt, t, seen)


def _push(tokens: dict[str, str], token: str, push: dict[str, Any], t: Any, seen: set[str]) -> Iterator[Message]:
    key = f"push {push.get('name') or json.dumps(push, sort_keys=True, default=str)}"
    if key in seen:
        return
    seen.add(key)
    message = push.get("message") or {}
    what = (message.get("data") or {}).get("type") or (message.get("notification") or {}).get("title") or "message"
    app = tokens.get(str(push.get("target") or token))
    yield Message(t, "backend", "fcm", f"push {what}", "push", push)
    if app:
        yield Message(t, "fcm", app, f"push {what}", "push", push)


def _callback(attempt: dict[str, Any], t: Any, seen: set[str]) -> Iterator[Message]:
    key = "callback " + json.dumps([attempt.get(k) for k in ("callback_id", "copy", "attempt", "outcome")])
    if key in seen:
        return
    seen.add(key)
    label = f"callback {attempt.get('status', '')} → {attempt.get('response_status') or attempt.get('outcome')}"
    yield Message(t, "xendit", "backend", label, "callback", attempt, bad=attempt.get("outcome") != "delivered")


def _frames(report: dict[str, Any]) -> Iterator[Message]:
    """Every frame an app received, from the backend, at its arrival (unknown in reports made before times)."""
    times = report.get("frame_times", {})
    for actor, frames in report.get("frames", {}).items():
        arrived = times.get(actor, [])
        for number, frame in enumerate(frames):
            t = arrived[number] if number < len(arrived) else None
            kind = frame.get("type", "frame") if isinstance(frame, dict) else "frame"
            yield Message(t, "backend", actor, f"WS {kind}", "frame", frame)


def _bursts(messages: list[Message]) -> Iterator[Message]:
    """Consecutive frames of one step, one arrow per (lane, kind) with a count and the first and last payload."""
    burst: dict[tuple[str, str], Message] = {}
    for message in messages:
        key = (message.target, message.label)
        first = next(iter(burst.values()), None)
        if message.kind != "frame" or (first is not None and first.step != message.step):
            yield from burst.values()
            burst = {}
        if message.kind != "frame":
            yield message
        elif key in burst:
            _merge(burst[key], message)
        else:
            burst[key] = message
    yield from burst.values()


def _merge(into: Message, frame: Message) -> None:
    first = into.payload if into.count == 1 else into.payload["first"]
    into.count += 1
    into.payload = {"count": into.count, "first": first, "last": frame.payload}


def _virtual_times(messages: list[Message], start: float | None) -> None:
    """Each message's virtual time: the last clock reading up to it (the clock moves only when advanced)."""
    now = start
    for message in messages:
        now = message.clock if message.clock is not None else now
        message.virtual = now


def _lanes(report: dict[str, Any], messages: list[Message]) -> list[Lane]:
    """Harness, the apps (in the scenario's order), then the backend and the fakes that took part."""
    used = {m.source for m in messages} | {m.target for m in messages}
    apps = list(dict.fromkeys([*report.get("frames", {}), *report.get("tokens", {}).values()]))
    apps += [lane for lane in dict.fromkeys(m.source for m in messages) if lane not in apps]
    apps = [a for a in apps if a in used and a not in SERVERS and a != HARNESS]
    lanes = [Lane(HARNESS, HARNESS)] if HARNESS in used else []
    lanes += [Lane(app, app) for app in apps]
    return lanes + [Lane(key, label) for key, label in SERVERS.items() if key in used or key == "backend"]
