"""The ASGI app of the reference backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from halo_sim.backend.openapi import serve as openapi
from halo_sim.backend.routes import chat, control, customer, internal, mitra, webhooks, ws
from halo_sim.backend.routes.common import domain_error, http_error
from halo_sim.backend.state import ReferenceBackend
from halo_sim.control import routes as control_center
from simkit.errors import DomainError


async def health(request: Request) -> JSONResponse:
    backend: ReferenceBackend = request.app.state.backend
    return JSONResponse(
        {"status": "ok", "env": backend.settings.env, "test_endpoints": backend.settings.test_endpoints_enabled}
    )


def create_app(backend: ReferenceBackend | None = None) -> Starlette:
    """Build the app around ``backend`` (a fresh default one if not given)."""
    backend = backend or ReferenceBackend()
    routes = [  # the hot paths first: Starlette tries the routes in order for every request
        *webhooks.routes,
        *ws.routes,
        *chat.routes,
        Route("/health", health),
        Route("/openapi.json", openapi, methods=["GET"]),
        *customer.routes,
        *mitra.routes,
        *control.routes,
    ]
    middleware: list[Middleware] = []
    desk = None
    if backend.settings.test_endpoints_enabled:  # the control center is part of the test surface
        control_routes, middleware, desk = control_center.mount(backend)
        routes += [*internal.routes, *control_routes]

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        backend.scheduler.start()
        await backend.start()
        try:
            yield
        finally:
            await backend.close()

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={DomainError: domain_error, HTTPException: http_error},
        middleware=middleware,
    )
    app.state.backend = backend
    app.state.control = desk
    app.state.drain = backend.drain  # sockets get 1001 (going away) before uvicorn's 1012; SSE streams end
    return app
