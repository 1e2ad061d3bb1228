"""What every fake service shares: recorded calls and the ``/_fake`` control plane.

Like moto's ``/moto-api``, each fake (``fake_fcm``, ``fake_xendit``) exposes a
control plane on reserved routes so tests and scenarios can reset it, read its
state, list the calls it received and inject faults — over HTTP, exactly as they
would against a fake running as a separate process:

* ``POST /_fake/reset`` – forget everything;
* ``GET /_fake/state`` – the whole state as JSON;
* ``GET /_fake/calls`` – the requests received on the service API, in order (the newest ones:
  ``bound`` says how many were dropped);
* ``GET|POST|DELETE /_fake/faults`` – read, set (merge) or clear injected faults.

A fake's backend object implements :class:`FakeService`; :func:`control_routes`
and :class:`CallRecorder` do the rest.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from simkit.bounded import BoundedLog

CONTROL_PREFIX = "/_fake"


@dataclass
class RecordedCall:
    """One request received on a fake's service API."""

    method: str
    path: str
    status: int
    body: Any
    at: float


class FakeService(Protocol):
    """The state object of a fake, as the control plane sees it."""

    @property
    def calls(self) -> list[RecordedCall]: ...  # a BoundedLog in both fakes: the newest requests

    def now(self) -> float: ...

    def reset(self) -> None: ...

    def state(self) -> dict[str, Any]: ...

    def faults(self) -> dict[str, Any]: ...

    def set_faults(self, spec: dict[str, Any]) -> dict[str, Any]: ...

    def clear_faults(self) -> None: ...


def control_routes(service: FakeService) -> list[Route]:
    """The ``/_fake/*`` routes for one fake's backend object."""

    async def reset(_: Request) -> JSONResponse:
        service.reset()
        return JSONResponse({"reset": True})

    async def state(_: Request) -> JSONResponse:
        return JSONResponse(service.state())

    async def calls(_: Request) -> JSONResponse:
        log = service.calls
        if isinstance(log, BoundedLog):
            return JSONResponse({"calls": [asdict(c) for c in log.newest()], "bound": log.describe()})
        return JSONResponse({"calls": [asdict(c) for c in log], "bound": None})

    async def faults(request: Request) -> JSONResponse:
        if request.method == "DELETE":
            service.clear_faults()
        elif request.method == "POST":
            try:
                spec = await request.json()
            except ValueError:
                return JSONResponse({"error": "faults body must be a JSON object"}, status_code=400)
            if not isinstance(spec, dict):
                return JSONResponse({"error": "faults body must be a JSON object"}, status_code=400)
            try:
                service.set_faults(spec)
            except ValueError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(service.faults())

    return [
        Route(f"{CONTROL_PREFIX}/reset", reset, methods=["POST"]),
        Route(f"{CONTROL_PREFIX}/state", state, methods=["GET"]),
        Route(f"{CONTROL_PREFIX}/calls", calls, methods=["GET"]),
        Route(f"{CONTROL_PREFIX}/faults", faults, methods=["GET", "POST", "DELETE"]),
    ]


def count_param(request: Request, name: str) -> int | None:
    """An optional non-negative integer query parameter (``after``, ``limit``); anything else raises
    ValueError, which the routes answer with 400."""
    text = request.query_params.get(name)
    if text is None:
        return None
    if not text.isdigit():
        raise ValueError(f"{name} must be a non-negative integer, not {text!r}")
    return int(text)


class CallRecorder:
    """ASGI middleware appending every service-API request (not the control plane) to ``service.calls``."""

    def __init__(self, app: ASGIApp, service: FakeService) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        status = 500

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
            return message

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, recording_receive, recording_send)
        finally:
            self.service.calls.append(
                RecordedCall(scope["method"], scope["path"], status, _decode(b"".join(chunks)), self.service.now())
            )


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")
