"""``/api/customer/*``: onboarding, profile, devices, payments, legacy chat request."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from halo_sim.backend.routes.common import backend_of, body, caller, client_ip, ok, render
from halo_sim.backend.schemas import (
    ChatRequest,
    DeviceRegistration,
    DisplayName,
    OtpRequest,
    OtpVerify,
    PairingRetry,
    PaymentCreate,
)
from halo_sim.domain.pairing import Mode


async def request_otp(request: Request) -> JSONResponse:
    data = await body(request, OtpRequest)
    challenge = backend_of(request).auth.request_otp(data.phone, client_ip(request))
    return ok({"sent": True, "phone": data.phone, "issued_at": challenge.issued_at})


async def verify_otp(request: Request) -> JSONResponse:
    data = await body(request, OtpVerify)
    token, customer = backend_of(request).auth.verify_otp(data.phone, data.code)
    return ok({"token": token, "customer": render(customer)})


async def login_anonymous(request: Request) -> JSONResponse:
    token, customer = backend_of(request).auth.login_anonymous(client_ip(request))
    return ok({"token": token, "customer": render(customer)})


async def profile(request: Request) -> JSONResponse:
    return ok(backend_of(request).auth.profile(caller(request, "customer")))


async def update_profile(request: Request) -> JSONResponse:
    who = caller(request, "customer")
    data = await body(request, DisplayName)
    return ok(backend_of(request).auth.set_display_name(who.id, data.display_name))


async def register_device(request: Request) -> JSONResponse:
    """Shared by customers and mitras: the app registers its FCM token and OS permission."""
    who = caller(request)
    data = await body(request, DeviceRegistration)
    return ok(backend_of(request).devices.register(who, data.fcm_token, data.platform, data.notifications_enabled))


async def create_payment(request: Request) -> JSONResponse:
    who = caller(request, "customer")
    data = await body(request, PaymentCreate)
    row = await backend_of(request).payments.request_payment(
        who.id, data.duration_minutes, data.product, data.metadata, data.targeted_mitra_id, data.topic_sensitivity
    )
    return ok(row, status=201)


async def get_payment(request: Request) -> JSONResponse:
    who = caller(request, "customer")
    return ok(backend_of(request).payments.get_for_customer(request.path_params["payment_id"], who.id))


async def pending_payments(request: Request) -> JSONResponse:
    who = caller(request, "customer")
    return ok({"payments": render(backend_of(request).payments.pending_for_customer(who.id))})


async def legacy_chat_request(request: Request) -> JSONResponse:
    """The client-driven start of the cutover; idempotent with the server-driven blast."""
    who = caller(request, "customer")
    data = await body(request, ChatRequest)
    return ok(await backend_of(request).pairing.request_chat(data.payment_request_id, who.id))


async def retry_pairing(request: Request) -> JSONResponse:
    """ "Coba cari lagi" on the same payment; ``mode: blast`` is "cari bestie lain" after a targeted wait."""
    who = caller(request, "customer")
    data = await body(request, PairingRetry)
    mode = Mode.BLAST if data.mode == "blast" else None
    return ok(await backend_of(request).pairing.retry(data.payment_request_id, who.id, mode))


async def history(request: Request) -> JSONResponse:
    who = caller(request, "customer")
    items = backend_of(request).history.of(who.id)
    return ok({"items": items, "has_items": bool(items)})


async def mitra_availability(request: Request) -> JSONResponse:
    """Before paying for a targeted chat: is that bestie online? (the prePayReturning popup)."""
    caller(request, "customer")  # any signed-in customer; mitras and strangers are refused (docs/contract.md)
    return ok(backend_of(request).presence.availability(request.path_params["mitra_id"]))


routes = [
    Route("/api/customer/auth/otp/request", request_otp, methods=["POST"]),
    Route("/api/customer/auth/otp/verify", verify_otp, methods=["POST"]),
    Route("/api/customer/auth/anonymous", login_anonymous, methods=["POST"]),
    Route("/api/customer/profile", profile, methods=["GET"]),
    Route("/api/customer/profile", update_profile, methods=["PUT", "PATCH"]),
    Route("/api/customer/devices", register_device, methods=["POST"]),
    Route("/api/customer/payments", create_payment, methods=["POST"]),
    Route("/api/customer/payments/pending", pending_payments, methods=["GET"]),
    Route("/api/customer/payments/{payment_id}", get_payment, methods=["GET"]),
    Route("/api/customer/chat/request", legacy_chat_request, methods=["POST"]),
    Route("/api/customer/pairing/retry", retry_pairing, methods=["POST"]),
    Route("/api/customer/history", history, methods=["GET"]),
    Route("/api/customer/mitras/{mitra_id}/availability", mitra_availability, methods=["GET"]),
]
