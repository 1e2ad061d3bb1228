"""What a target really supports: its base URL, its WebSocket, and each capability, asked over the wire.

A targets file *declares* capabilities; :func:`probe` checks them, so a wrong
declaration shows up as one table row (``halo-sim target check``) instead of as
scenarios failing in confusing ways.  Every capability is probed, declared or
not, so an undeclared one that answers can be added to the file.

How each one is recognised (paths under the target's base URL unless noted):

* base URL — ``GET /health``: any HTTP answer means something listens there;
* WebSocket — ``{ws_url}/ws``: an unauthenticated connect is refused by a Halo
  backend with 403 at the handshake, so any HTTP answer there counts as reachable;
* ``test_endpoints`` — ``GET /internal/_test/ws-connection-state``: the route exists;
* ``otp_readable`` — ``GET /internal/_test/otp?phone=+620000000000``: the route exists
  (a 404 whose JSON says there is no OTP for that phone is the expected answer);
* ``state_dump`` — ``GET /internal/_test/state`` answers 200;
* ``virtual_clock`` — ``GET /internal/_test/clock`` answers 200 with ``virtual: true``;
* ``seed_mitra`` — ``POST /internal/_test/seed-mitra`` with an empty body is refused
  as invalid (400), which proves the route without creating anyone;
* ``fcm_inbox`` — ``GET {fcm_url}/_fake/inbox`` answers 200;
* ``xendit_fake`` — ``GET {xendit_url}/_fake/state`` answers 200;
* ``settings`` — ``GET /internal/_test/settings`` answers 200 with the settings as a JSON object.

"The route exists" tells a missing route from a 404 about a missing *thing* by the
JSON ``error`` field: a domain 404 carries one (``NOT_FOUND``, ``NO_OTP``…); a
missing route answers without a JSON body, or says so (``no test endpoint``).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import websockets
from websockets.exceptions import InvalidStatus

from halo_sim.targets.base import CAPABILITIES, Target
from simkit.tls import client_context

TIMEOUT_S = 5.0
PROBE_PHONE = "+620000000000"
TEST = "/internal/_test"
BASICS = ("base_url", "websocket")
# What a 404 for a route that does not exist says (as opposed to a 404 about a missing resource).
NO_ROUTE = re.compile(
    r"no test endpoint|no such (route|endpoint)|route not found|cannot (get|post|put|patch|delete)\b", re.IGNORECASE
)


@dataclass(frozen=True)
class Check:
    """One probed fact: ``declared`` (the target claims it; always true for the basics), ``ok`` (it answers)."""

    name: str
    declared: bool
    ok: bool
    detail: str

    @property
    def missing(self) -> bool:
        """Declared (or required) but not there: what makes ``target check`` fail."""
        return self.declared and not self.ok


@dataclass(frozen=True)
class _Answer:
    status: int
    body: Any

    def error_code(self) -> str | None:
        error = self.body.get("error") if isinstance(self.body, dict) else None
        return str(error) if error is not None else None

    def route_missing(self) -> bool:
        """A 404 that is about the route, not about a resource the route looked up."""
        if self.status != 404:
            return False
        code = self.error_code()
        message = str(self.body.get("message", "")) if isinstance(self.body, dict) else ""
        return code is None or bool(NO_ROUTE.search(code) or NO_ROUTE.search(message))

    def summary(self) -> str:
        code = self.error_code()
        return f"{self.status} {code}" if code else str(self.status)


class _Unreachable(Exception):
    """No HTTP answer at all (refused, timed out, bad address)."""


async def probe(target: Target) -> list[Check]:
    """Probe the base URL, the WebSocket and every capability of ``target`` (declared or not)."""
    async with httpx.AsyncClient(timeout=TIMEOUT_S, verify=client_context()) as http:
        prober = _Prober(target, http)
        probes: list[tuple[str, Callable[[], Awaitable[tuple[bool, str]]]]] = [
            ("base_url", prober.base_url),
            ("websocket", prober.websocket),
            *((name, getattr(prober, name)) for name in CAPABILITIES),
        ]
        outcomes = await asyncio.gather(*(_guarded(run) for _, run in probes))
    return [
        Check(name, name in BASICS or target.has(name), ok, detail) for (name, _), (ok, detail) in zip(probes, outcomes)
    ]


async def _guarded(run: Callable[[], Awaitable[tuple[bool, str]]]) -> tuple[bool, str]:
    try:
        return await run()
    except _Unreachable as exc:
        return False, str(exc)


class _Prober:
    """One coroutine per check; each returns ``(ok, detail)``."""

    def __init__(self, target: Target, http: httpx.AsyncClient) -> None:
        self.target = target
        self.http = http

    async def _ask(self, method: str, url: str, *, test: bool = True, **kwargs: Any) -> _Answer:
        headers = self.target.test_headers() if test else {}
        try:
            response = await self.http.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise _Unreachable(f"no answer from {url}: {type(exc).__name__} {exc}".rstrip()) from None
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text[:200]
        return _Answer(response.status_code, body)

    async def _test_route(self, method: str, path: str, **kwargs: Any) -> tuple[_Answer, str]:
        answer = await self._ask(method, f"{self.target.base_url}{TEST}/{path}", **kwargs)
        return answer, f"{method} {TEST}/{path} → {answer.summary()}"

    # --- the basics ---------------------------------------------------------------

    async def base_url(self) -> tuple[bool, str]:
        answer = await self._ask("GET", f"{self.target.base_url}/health", test=False)
        return True, f"{self.target.base_url} answers (GET /health → {answer.summary()})"

    async def websocket(self) -> tuple[bool, str]:
        url = f"{self.target.ws_url}/ws"
        try:
            async with websockets.connect(url, open_timeout=TIMEOUT_S):
                return True, f"{url} accepted a connection without a token"
        except InvalidStatus as exc:
            status = exc.response.status_code
            why = " (refused without a token, as a Halo backend does)" if status == 403 else ""
            return True, f"{url} answers HTTP {status} at the handshake{why}"
        except (OSError, TimeoutError, websockets.InvalidHandshake, websockets.InvalidURI) as exc:
            return False, f"no WebSocket answer at {url}: {type(exc).__name__} {exc}".rstrip()

    # --- the capabilities, in the order of CAPABILITIES ------------------------------

    async def test_endpoints(self) -> tuple[bool, str]:
        answer, said = await self._test_route("GET", "ws-connection-state")
        return self._route_exists(answer, said)

    async def otp_readable(self) -> tuple[bool, str]:
        answer, said = await self._test_route("GET", "otp", params={"phone": PROBE_PHONE})
        return self._route_exists(answer, said)

    async def state_dump(self) -> tuple[bool, str]:
        answer, said = await self._test_route("GET", "state")
        return self._refused(answer, said) or (answer.status == 200, said)

    async def virtual_clock(self) -> tuple[bool, str]:
        answer, said = await self._test_route("GET", "clock")
        if answer.status != 200:
            return self._refused(answer, said) or (False, said)
        virtual = isinstance(answer.body, dict) and answer.body.get("virtual") is True
        return virtual, said + ("" if virtual else " but the clock is not virtual")

    async def seed_mitra(self) -> tuple[bool, str]:
        answer, said = await self._test_route("POST", "seed-mitra", json={})
        if answer.status in (400, 422):
            return True, said + " (route exists; an empty body is refused)"
        return self._refused(answer, said) or (
            False,
            said + ("" if answer.route_missing() else ": expected 400 for an empty body"),
        )

    async def fcm_inbox(self) -> tuple[bool, str]:
        return await self._fake(self.target.fcm_url, "fcm_url", "/_fake/inbox")

    async def xendit_fake(self) -> tuple[bool, str]:
        return await self._fake(self.target.xendit_url, "xendit_url", "/_fake/state")

    async def settings(self) -> tuple[bool, str]:
        answer, said = await self._test_route("GET", "settings")
        if answer.status != 200:
            return self._refused(answer, said) or (False, said)
        named = isinstance(answer.body, dict) and bool(answer.body)
        return named, said + ("" if named else " but the answer is not the settings")

    # --- shared judgements ---------------------------------------------------------

    def _route_exists(self, answer: _Answer, said: str) -> tuple[bool, str]:
        refused = self._refused(answer, said)
        if refused:
            return refused
        if answer.route_missing():
            return False, said + " (no such route)"
        return True, said + (
            " (the route exists; the probe asks for nothing that does)" if answer.status == 404 else ""
        )

    def _refused(self, answer: _Answer, said: str) -> tuple[bool, str] | None:
        """The route is there but will not serve us: the test token is missing or wrong."""
        if answer.status in (401, 403):
            token = "the test token was refused" if self.target.test_token else "it needs a test token"
            return False, f"{said}: {token} (test_token_env in the targets file, or HALO_TEST_TOKEN)"
        return None

    async def _fake(self, base: str | None, setting: str, path: str) -> tuple[bool, str]:
        if base is None:
            return False, f"the target has no {setting}"
        answer = await self._ask("GET", f"{base.rstrip('/')}{path}", test=False)
        return answer.status == 200, f"GET {base.rstrip('/')}{path} → {answer.summary()}"


__all__ = ["Check", "probe"]
