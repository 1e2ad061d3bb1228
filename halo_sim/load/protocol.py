"""The app's protocol for a gevent user: route-table HTTP calls and one ``/ws`` socket.

HTTP goes through the Locust user's client (so every call is a Locust request, named by
its route-table action, and a live target's remapped paths apply).  The socket is
``websocket-client`` on gevent's patched sockets: a reader greenlet keeps the frames
with their arrival time, and waits take the first frame that matches.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import urlencode

import gevent
import websocket
from gevent.event import Event

from halo_sim.load import metrics
from halo_sim.targets.base import Target

IGNORED = frozenset({"session_tick", "pong", "heartbeat_ack", "session_warning"})
# Refusals that are the system working: a lost accept race, an offer gone while deciding.
EXPECTED_REFUSALS = frozenset({"OFFER_TAKEN", "NOT_OFFERED", "CLOSED", "MITRA_BUSY", "OFFER_WITHDRAWN"})


class Arrived(NamedTuple):
    """A server frame and when it arrived (epoch seconds)."""

    frame: dict[str, Any]
    at: float


class HaloError(Exception):
    """A call or a wait that did not give what the flow needs; the user's iteration ends."""


class Socket:
    """An app's open ``/ws``: registered (its hello read) before the constructor returns."""

    def __init__(self, environment: Any, url: str, timeout: float = 5.0) -> None:
        start = time.time()
        try:
            self.ws = websocket.create_connection(url, timeout=timeout, enable_multithread=False)
            self.hello = json.loads(self.ws.recv())
        except (OSError, websocket.WebSocketException) as exc:
            metrics.fire(environment, "ws.connect", metrics.since_ms(start), f"{type(exc).__name__}: {exc}")
            raise HaloError(f"ws connect failed: {exc}") from None
        metrics.fire(environment, "ws.connect", metrics.since_ms(start))
        self.ws.settimeout(None)
        self.frames: deque[Arrived] = deque(maxlen=1000)
        self._arrived = Event()
        self.closed = False
        self._reader = gevent.spawn(self._read)

    def _read(self) -> None:
        try:
            while True:
                raw = self.ws.recv()
                if not raw:
                    break
                frame, at = json.loads(raw), time.time()
                if frame.get("type") == "pairing_offer":
                    metrics.OFFERS.note(str(frame.get("session_id")), at)  # when it arrived, not when handled
                if frame.get("type") not in IGNORED:
                    self.frames.append(Arrived(frame, at))
                    self._arrived.set()
        except (OSError, websocket.WebSocketException, ValueError):
            pass
        self.closed = True
        self._arrived.set()

    def send(self, frame: dict[str, Any]) -> None:
        """One client frame."""
        try:
            self.ws.send(json.dumps(frame))
        except (OSError, websocket.WebSocketException) as exc:
            raise HaloError(f"ws send failed: {exc}") from None

    def wait(self, match: Callable[[dict[str, Any]], bool], timeout: float) -> Arrived | None:
        """The first kept frame for which ``match`` is true (removed from the queue), waiting up to ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            for arrived in list(self.frames):
                if match(arrived.frame):
                    self.frames.remove(arrived)
                    return arrived
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.closed:
                return None
            self._arrived.clear()
            self._arrived.wait(remaining)

    def next(self, timeout: float) -> Arrived | None:
        """The oldest kept frame, whatever it is."""
        return self.wait(lambda _: True, timeout)

    def close(self) -> None:
        """Close as the app's lifecycle observer does on pause (the reader stops first: one greenlet per read)."""
        self._reader.kill(block=True, timeout=1)
        try:
            self.ws.close(timeout=1)
        except (OSError, websocket.WebSocketException):
            pass
        self.closed = True


def of_type(kind: str, **fields: Any) -> Callable[[dict[str, Any]], bool]:
    """A frame matcher: this ``type`` and these top-level fields."""
    return lambda f: f.get("type") == kind and all(f.get(k) == v for k, v in fields.items())


class Api:
    """Route-table actions over a Locust HTTP client, with the user's bearer token."""

    def __init__(self, environment: Any, client: Any, target: Target) -> None:
        self.environment = environment
        self.client = client
        self.target = target
        self.token: str | None = None

    def call(self, action: str, args: dict[str, Any] | None = None, expected: tuple[int, ...] = ()) -> dict[str, Any]:
        """Perform ``action``; a 4xx/5xx is a failure named by its refusal code (raises :class:`HaloError`)."""
        route = self.target.routes[action]
        path, body, query = route.build(args or {})
        headers = self._headers(route.auth)
        payload = body or ({} if route.method != "GET" and route.auth == "test" else None)
        url = self.target.base_url + path + (f"?{urlencode(query)}" if query else "")
        return self.request(route.method, url, action, payload, headers, expected)

    def _headers(self, auth: str) -> dict[str, str]:
        if auth == "test":
            return self.target.test_headers()
        return {"Authorization": f"Bearer {self.token}"} if auth == "actor" and self.token else {}

    def request(
        self,
        method: str,
        url: str,
        name: str,
        payload: Any = None,
        headers: dict[str, str] | None = None,
        expected: tuple[int, ...] = (),
    ) -> dict[str, Any]:
        """One HTTP exchange as a Locust request named ``name``; the JSON body back."""
        with self.client.request(
            method, url, name=name, json=payload, headers=headers or {}, catch_response=True
        ) as response:
            status = int(response.status_code or 0)
            data: dict[str, Any] = _json(response)
            if status < 400 or status in expected:
                response.success()
                return data
            code = str(data.get("error", ""))
            if code in EXPECTED_REFUSALS:
                response.success()  # the system working (a lost race), counted under REFUSAL only
            else:
                response.failure(f"HTTP {status} {code}".strip())
            if code:
                metrics.refusal(self.environment, code, code in EXPECTED_REFUSALS)
            raise HaloError(f"{name}: HTTP {status} {code}")


def _json(response: Any) -> dict[str, Any]:
    """The body as a JSON object ({} for anything else: an empty body, a list, HTML from a proxy)."""
    try:
        data = json.loads(response.text or "null")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
