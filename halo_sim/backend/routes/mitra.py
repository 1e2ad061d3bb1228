"""``/api/mitra/*``: login, presence, offers."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from halo_sim.backend.routes.common import backend_of, body, caller, client_ip, ok
from halo_sim.backend.routes.customer import register_device
from halo_sim.backend.schemas import MitraLogin, OnlineToggle, OtpRequest, OtpVerify


async def login(request: Request) -> JSONResponse:
    data = await body(request, MitraLogin)
    token, mitra = backend_of(request).auth.mitra_login(data.phone, data.password)
    return ok({"token": token, "mitra": backend_of(request).presence.profile(mitra.id)})


async def request_otp(request: Request) -> JSONResponse:
    data = await body(request, OtpRequest)
    challenge = backend_of(request).auth.request_otp(data.phone, client_ip(request), role="mitra")
    return ok({"sent": True, "phone": data.phone, "issued_at": challenge.issued_at})


async def verify_otp(request: Request) -> JSONResponse:
    data = await body(request, OtpVerify)
    token, mitra = backend_of(request).auth.verify_mitra_otp(data.phone, data.code)
    return ok({"token": token, "mitra": backend_of(request).presence.profile(mitra.id)})


async def profile(request: Request) -> JSONResponse:
    return ok(backend_of(request).presence.profile(caller(request, "mitra").id))


async def set_status(request: Request) -> JSONResponse:
    who = caller(request, "mitra")
    data = await body(request, OnlineToggle)
    presence = backend_of(request).presence
    await presence.set_online(who.id, data.online)
    return ok(presence.profile(who.id))


async def heartbeat(request: Request) -> JSONResponse:
    who = caller(request, "mitra")
    backend = backend_of(request)
    await backend.presence.heartbeat(who.id)
    return ok({**backend.presence.profile(who.id), "next_heartbeat_s": backend.deps.settings.heartbeat_interval_s})


async def accept_offer(request: Request) -> JSONResponse:
    who = caller(request, "mitra")
    return ok(await backend_of(request).pairing.accept(who.id, request.path_params["session_id"]))


async def reject_offer(request: Request) -> JSONResponse:
    who = caller(request, "mitra")
    return ok(await backend_of(request).pairing.reject(who.id, request.path_params["session_id"]))


routes = [
    Route("/api/mitra/auth/login", login, methods=["POST"]),
    Route("/api/mitra/auth/otp/request", request_otp, methods=["POST"]),
    Route("/api/mitra/auth/otp/verify", verify_otp, methods=["POST"]),
    Route("/api/mitra/profile", profile, methods=["GET"]),
    Route("/api/mitra/status", set_status, methods=["POST"]),
    Route("/api/mitra/heartbeat", heartbeat, methods=["POST"]),
    Route("/api/mitra/devices", register_device, methods=["POST"]),
    Route("/api/mitra/offers/{session_id}/accept", accept_offer, methods=["POST"]),
    Route("/api/mitra/offers/{session_id}/reject", reject_offer, methods=["POST"]),
]
