"""The HTTP surface of fake FCM: thin translation between Starlette and :class:`FcmBackend`.

* ``POST /v1/projects/{project}/messages:send`` – the FCM HTTP v1 send API;
* ``/_fake/reset|state|calls|faults`` – the shared control plane (:mod:`simkit.fakekit`);
* ``GET|DELETE /_fake/inbox[?token=T|?target=topic:x]`` – read or empty the inboxes; a read also
  takes ``after=N`` (only messages numbered above N) and ``limit=K`` (only the newest K), and says
  what the inbox's bound dropped (``bound``: kept, cap, dropped);
* ``POST /_fake/tokens/{token}/unregister|register`` – uninstall (or reinstall) an app.

Service-API requests are recorded by :class:`~simkit.fakekit.CallRecorder`;
control-plane ones are not, so reading the calls does not change them.
"""

from __future__ import annotations

import asyncio

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fake_fcm.errors import FcmError
from fake_fcm.models import FcmBackend
from simkit.fakekit import CONTROL_PREFIX, CallRecorder, control_routes, count_param

SEND_PATH = "/v1/projects/{project}/messages:send"
GOOGLE_JSON = "application/json; charset=UTF-8"


def create_app(backend: FcmBackend | None = None) -> Starlette:
    """A fake FCM server app over ``backend`` (a fresh one if None), reachable as ``app.state.backend``."""
    service = backend if backend is not None else FcmBackend()
    routes = [Route(SEND_PATH, send_message, methods=["POST"]), *control_routes(service), *_fake_routes()]
    app = Starlette(routes=routes, middleware=[Middleware(CallRecorder, service=service)])
    app.state.backend = service
    return app


def _fake_routes() -> list[Route]:
    return [
        Route(f"{CONTROL_PREFIX}/inbox", read_inbox, methods=["GET"]),
        Route(f"{CONTROL_PREFIX}/inbox", clear_inbox, methods=["DELETE"]),
        Route(f"{CONTROL_PREFIX}/tokens/{{token}}/unregister", unregister_token, methods=["POST"]),
        Route(f"{CONTROL_PREFIX}/tokens/{{token}}/register", register_token, methods=["POST"]),
    ]


def _backend(request: Request) -> FcmBackend:
    backend: FcmBackend = request.app.state.backend
    return backend


async def send_message(request: Request) -> JSONResponse:
    """The FCM v1 send API; the injected latency is the one deliberate real-time wait of the fake."""
    backend = _backend(request)
    if (delay := backend.latency_seconds()) > 0:
        await asyncio.sleep(delay)
    raw = await request.body()
    try:
        result = backend.send_json(request.path_params["project"], request.headers.get("authorization"), raw)
    except FcmError as exc:
        return JSONResponse(exc.to_body(), status_code=exc.http_status, media_type=GOOGLE_JSON)
    return JSONResponse(result, media_type=GOOGLE_JSON)


def _inbox_target(request: Request) -> str | None:
    """``?token=`` for a device, ``?target=`` for any inbox key (``topic:news``); neither means all."""
    return request.query_params.get("target") or request.query_params.get("token")


async def read_inbox(request: Request) -> JSONResponse:
    """The messages FCM accepted (the kept ones), for assertions, and what the inbox's bound dropped."""
    backend = _backend(request)
    try:
        after, limit = count_param(request, "after"), count_param(request, "limit")
    except ValueError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse(backend.inbox_page(_inbox_target(request), after, limit))


async def clear_inbox(request: Request) -> JSONResponse:
    """Drop messages already asserted on, so the next assertion starts clean."""
    return JSONResponse({"cleared": _backend(request).clear_inbox(_inbox_target(request))})


async def unregister_token(request: Request) -> JSONResponse:
    """Simulate an uninstalled app: its token now answers UNREGISTERED."""
    token = request.path_params["token"]
    _backend(request).unregister(token)
    return JSONResponse({"token": token, "registered": False})


async def register_token(request: Request) -> JSONResponse:
    """Undo an unregister (and make the token known under ``strict_tokens``)."""
    token = request.path_params["token"]
    _backend(request).register(token)
    return JSONResponse({"token": token, "registered": True})
