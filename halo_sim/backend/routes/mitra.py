"""``/api/mitra/*``: login, presence, offers."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from halo_sim.backend.routes.common import backend_of, body, caller, ok, render
from halo_sim.backend.routes.customer import register_device
from halo_sim.backend.schemas import MitraLogin, OnlineToggle
from halo_sim.domain.pairing import SessionStatus


def mitra_view(request: Request, mitra_id: str) -> dict[str, object]:
    """A mitra row without its password, with its effective presence."""
    backend = backend_of(request)
    mitra = backend.store.require("mitras", mitra_id)
    data = render(mitra)
    data.pop("password", None)
    data["is_online"] = backend.presence.is_online(mitra)
    active = backend.store.find("chat_sessions", mitra_id=mitra.id, status=SessionStatus.ACTIVE)
    data["active_session_id"] = active[-1].id if active else None
    return data  # type: ignore[no-any-return]


async def login(request: Request) -> JSONResponse:
    data = await body(request, MitraLogin)
    token, mitra = backend_of(request).auth.mitra_login(data.phone, data.password)
    return ok({"token": token, "mitra": mitra_view(request, mitra.id)})


async def profile(request: Request) -> JSONResponse:
    return ok(mitra_view(request, caller(request, "mitra").id))


async def set_status(request: Request) -> JSONResponse:
    who = caller(request, "mitra")
    data = await body(request, OnlineToggle)
    backend = backend_of(request)
    backend.presence.set_online(who.id, data.online)
    if data.online:
        await backend.pairing.mitra_available(who.id)
    return ok(mitra_view(request, who.id))


async def heartbeat(request: Request) -> JSONResponse:
    who = caller(request, "mitra")
    backend_of(request).presence.heartbeat(who.id)
    await backend_of(request).pairing.mitra_available(who.id)  # back from a lapse: offer what still searches
    return ok({**mitra_view(request, who.id), "next_heartbeat_s": backend_of(request).settings.heartbeat_interval_s})


async def accept_offer(request: Request) -> JSONResponse:
    who = caller(request, "mitra")
    return ok(await backend_of(request).pairing.accept(who.id, request.path_params["session_id"]))


async def reject_offer(request: Request) -> JSONResponse:
    who = caller(request, "mitra")
    return ok(await backend_of(request).pairing.reject(who.id, request.path_params["session_id"]))


routes = [
    Route("/api/mitra/auth/login", login, methods=["POST"]),
    Route("/api/mitra/profile", profile, methods=["GET"]),
    Route("/api/mitra/status", set_status, methods=["POST"]),
    Route("/api/mitra/heartbeat", heartbeat, methods=["POST"]),
    Route("/api/mitra/devices", register_device, methods=["POST"]),
    Route("/api/mitra/offers/{session_id}/accept", accept_offer, methods=["POST"]),
    Route("/api/mitra/offers/{session_id}/reject", reject_offer, methods=["POST"]),
]
