"""The HTTP surface of the control center, mounted by the backend app beside ``/internal/_test``.

``GET /control`` (the page), ``/control/static/{name}`` (its JS and CSS), ``/control/snapshot``
(the same data as JSON), ``/control/stream`` (Server-Sent Events: ``event: panels``, data a
JSON object of the panels whose HTML changed) and ``POST /control/actions/{name}`` (the
buttons, :mod:`.actions`).  Every route goes through the ``_test`` guard: loopback clients
without a test token; with one, the ``x-test-token`` header or the cookie the page sets when
opened once as ``/control?token=…`` (HttpOnly, SameSite=Strict, and the token leaves the
address bar at once by a redirect).  Actions need a JSON body like every guarded write, so
no other site can fire one from a form.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import quote, unquote

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from halo_sim.backend.routes.common import backend_of, ok, query
from halo_sim.backend.routes.control import closing_within
from halo_sim.backend.routes.internal import guard
from halo_sim.backend.state import ReferenceBackend
from halo_sim.control.actions import action_path, table
from halo_sim.control.feed import Desk
from halo_sim.control.queries import ControlPageQuery, ControlStreamQuery
from halo_sim.control.timeline import Recorder
from halo_sim.control.views import ASSETS, STATIC, panels, templates

PREFIX = "/control"
COOKIE = "halo_control_token"
MIN_INTERVAL_S = 0.2
KEEPALIVE_EVERY = 15  # ticks without news before a comment line keeps proxies from closing the stream


def desk_of(request: Request) -> Desk:
    """The app's control-center state (made by :func:`mount`)."""
    return request.app.state.control  # type: ignore[no-any-return]


def control_guard(request: Request) -> None:
    """The ``_test`` guard, the token also accepted from the page's cookie."""
    presented = request.headers.get("x-test-token") or unquote(request.cookies.get(COOKIE, ""))
    guard(request, presented)


async def page(request: Request) -> Response:
    """The page; ``?token=`` (once) trades the test token for a cookie and drops it from the address."""
    token = query(request, ControlPageQuery).token
    if token is not None:
        guard(request, token)
        done = RedirectResponse(PREFIX, status_code=303)
        if backend_of(request).settings.test_token:  # without one, loopback needs no cookie
            done.set_cookie(COOKIE, quote(token, safe=""), httponly=True, samesite="strict", path=PREFIX)
        return done
    control_guard(request)
    snap = await desk_of(request).snapshot()
    context = {"panels": panels(snap), "snap": snap}
    return templates.TemplateResponse(request, "control.html", context, headers={"Cache-Control": "no-store"})


async def static(request: Request) -> Response:
    """The page's JS and CSS, from the package."""
    control_guard(request)
    name = request.url.path.rsplit("/", 1)[-1]
    return FileResponse(STATIC / name, media_type=ASSETS[name], headers={"Cache-Control": "no-cache"})


async def snapshot(request: Request) -> JSONResponse:
    """What the page shows, as JSON (for scripts, and what the tests read)."""
    control_guard(request)
    return ok(await desk_of(request).snapshot())


async def stream(request: Request) -> StreamingResponse:
    """The panels that changed since the last event, every ``interval`` seconds at most."""
    control_guard(request)
    params = query(request, ControlStreamQuery)
    interval, limit = max(MIN_INTERVAL_S, params.interval), params.limit
    desk, closing = desk_of(request), backend_of(request).closing

    async def events() -> AsyncIterator[str]:
        shown: dict[str, str] = {}
        sent = quiet = 0
        while True:
            fresh = panels(await desk.snapshot())
            changed = {k: v for k, v in fresh.items() if shown.get(k) != v}
            shown.update(changed)
            quiet = 0 if changed else quiet + 1
            if changed:
                yield f"event: panels\ndata: {json.dumps(changed)}\n\n"
                sent += 1
                if sent == limit:
                    return
            elif quiet % KEEPALIVE_EVERY == 0:
                yield ": still here\n\n"
            if await closing_within(closing, interval):
                return

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


Endpoint = Callable[[Request], Awaitable[Response]]


def _guarded(endpoint: Endpoint) -> Endpoint:
    async def wrapped(request: Request) -> Response:
        control_guard(request)
        return await endpoint(request)

    wrapped.__name__ = getattr(endpoint, "__name__", "action")
    return wrapped


def routes() -> list[Route]:
    """The control center's routes (the backend app adds them when its test surface is on)."""
    buttons = [Route(action_path(n), _guarded(a.endpoint), methods=["POST"]) for n, a in table().items()]
    assets = [Route(f"{PREFIX}/static/{name}", static, methods=["GET"]) for name in ASSETS]
    return [
        Route(PREFIX, page, methods=["GET"]),
        *assets,
        Route(f"{PREFIX}/snapshot", snapshot, methods=["GET"]),
        Route(f"{PREFIX}/stream", stream, methods=["GET"]),
        *buttons,
    ]


def mount(backend: ReferenceBackend) -> tuple[list[Route], list[Middleware], Desk]:
    """What the backend app adds for the control center: its routes, the call recorder, its state."""
    desk = Desk(backend)
    return routes(), [Middleware(Recorder, on_call=desk.on_call)], desk
