"""``/api/config`` for the apps and ``/api/control-center/*`` for the dashboard.

The stats stream is Server-Sent Events: one ``stats`` event now, then one every
``interval`` seconds (wall clock: this is a live view), ``limit`` events at most
when given (handy for scripts and tests).  A stream ends when the server drains.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from halo_sim.backend.routes.common import backend_of, body, ok, query
from halo_sim.backend.routes.internal import guard
from halo_sim.backend.schemas import ConfigUpdate, StatsStreamQuery, SupportHandles

MIN_INTERVAL_S = 0.05


async def app_config(request: Request) -> JSONResponse:
    return ok(backend_of(request).control.config())


async def update_config(request: Request) -> JSONResponse:
    """The control center changes prices and support handles; guarded like the ``_test`` surface."""
    guard(request)
    data = await body(request, ConfigUpdate)
    prices = {p.duration_minutes: p.amount for p in data.prices} if data.prices else None
    support = data.support or SupportHandles()
    return ok(backend_of(request).control.update_config(prices, support.whatsapp, support.telegram))


async def stats(request: Request) -> JSONResponse:
    return ok(backend_of(request).control.stats())


async def closing_within(closing: asyncio.Event, seconds: float) -> bool:
    """Wait ``seconds``, or less if the server starts closing; True when it does."""
    if closing.is_set() or seconds <= 0:  # no waiter task that a cancelled stream would leave unstarted
        return closing.is_set()
    try:
        await asyncio.wait_for(closing.wait(), seconds)
    except TimeoutError:
        return False
    return True


async def stats_stream(request: Request) -> StreamingResponse:
    params = query(request, StatsStreamQuery)
    interval, limit = max(MIN_INTERVAL_S, params.interval), params.limit
    backend = backend_of(request)
    control = backend.control

    async def events() -> AsyncIterator[str]:
        sent = 0
        while True:
            yield f"event: stats\ndata: {json.dumps(control.stats())}\n\n"
            sent += 1
            if sent == limit:
                return  # no wait after the last event: a bounded stream ends as soon as it is sent
            if await closing_within(backend.closing, interval):
                return  # the server drains: end the stream instead of holding the shutdown up

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


routes = [
    Route("/api/config", app_config, methods=["GET"]),
    Route("/api/control-center/config", app_config, methods=["GET"]),
    Route("/api/control-center/config", update_config, methods=["PUT", "PATCH"]),
    Route("/api/control-center/stats", stats, methods=["GET"]),
    Route("/api/control-center/stats/stream", stats_stream, methods=["GET"]),
]
