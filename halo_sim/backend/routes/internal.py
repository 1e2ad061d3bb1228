"""``/internal/_test/*``: the assertion and shortcut hooks of the Halo team's test flows.

Mounted only when the backend runs in ``dev`` or ``test``; when ``HALO_TEST_TOKEN``
is set (a shared deployment) every call needs it in ``x-test-token``.  The
sim-only extras (``state``, ``reset``, ``clock``, ``seed-mitra``, ``otp``) sit
beside the seed's endpoints.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from halo_sim.backend.routes.common import backend_of, body, ok, render
from halo_sim.backend.schemas import (
    ClockAdvance,
    HistorySeed,
    MitraExclude,
    MitraRef,
    MitraSeed,
    PaymentRef,
    PhoneRef,
    RawPush,
    ResetAll,
    SessionMessage,
)
from halo_sim.backend.services.deps import Principal
from halo_sim.backend.services.notify import PushText
from halo_sim.backend.services.testing import name_pattern
from halo_sim.backend.services.webhooks import XenditCallback
from halo_sim.backend.tables import Mitra, PaymentRequest
from halo_sim.domain.pairing import SessionEvent
from halo_sim.domain.payment import PaymentStatus
from simkit.errors import Conflict, NotFound, Unauthorized, ValidationFailed

PREFIX = "/internal/_test"


def guard(request: Request) -> None:
    """On a shared host the test surface needs the test token (checked in constant time)."""
    expected = backend_of(request).settings.test_token
    if expected and not hmac.compare_digest(request.headers.get("x-test-token", "").encode(), expected.encode()):
        raise Unauthorized("missing or wrong x-test-token", code="TEST_TOKEN_REQUIRED")


async def reset_phone(request: Request) -> JSONResponse:
    data = await body(request, PhoneRef)
    backend = backend_of(request)
    backend.auth.otps.pop(data.phone, None)
    return ok(backend.testing.reset_phone(data.phone))


def _payment_of(request: Request, data: PaymentRef) -> PaymentRequest:
    """By id, or the newest pending payment of the customer with ``phone``."""
    backend = backend_of(request)
    if data.payment_request_id is not None:
        return backend.payments.get(data.payment_request_id)
    if data.phone is None:
        raise ValidationFailed("give payment_request_id or phone")
    customer = backend.testing.customer_by_phone(data.phone)
    return backend.payments.latest_for_customer(customer.id, PaymentStatus.PENDING)


async def force_confirm_payment(request: Request) -> JSONResponse:
    """Confirms through the real confirm path, so ``payment_request.confirmed`` fires (unless lost on purpose)."""
    data = await body(request, PaymentRef)
    payment = _payment_of(request, data)
    return ok(await backend_of(request).payments.confirm_payment(payment.id, "test", announce=not data.lose_event))


async def mark_latest_payment_paid(request: Request) -> JSONResponse:
    """What a PAID callback from Xendit does, through the same webhook handler (no token needed here)."""
    data = await body(request, PaymentRef)
    payment = _payment_of(request, data)
    callback = XenditCallback(
        id=payment.xendit_invoice_id or f"test-invoice-{payment.id}", external_id=payment.id, status="PAID"
    )
    outcome = await backend_of(request).webhook.handle(callback, source="test")
    return ok({**outcome, "payment": render(payment)})


async def run_reconciliation(request: Request) -> JSONResponse:
    """One sweep now, without waiting for the periodic one."""
    return ok(await backend_of(request).reconciler.sweep())


async def accept_latest_pending(request: Request) -> JSONResponse:
    """The newest offer pending acceptance, accepted by the given (or first offered) mitra."""
    data = await body(request, MitraRef)
    backend = backend_of(request)
    mitra_id = data.mitra_id or (backend.testing.mitra_by_phone(data.mitra_phone).id if data.mitra_phone else None)
    session = backend.pairing.latest_pending_offer(mitra_id)
    chosen = mitra_id or next(m for m in session.offered_mitra_ids if m not in session.rejected_mitra_ids)
    return ok(await backend.pairing.accept(chosen, session.id))


async def ws_connection_state(request: Request) -> JSONResponse:
    backend = backend_of(request)
    q = request.query_params
    session = backend.testing.session_of(q.get("session_id"), q.get("customer_phone") or q.get("phone"))
    return ok(backend.testing.ws_state(session))


async def _send_as(request: Request, role: str) -> JSONResponse:
    data = await body(request, SessionMessage)
    backend = backend_of(request)
    session = backend.testing.session_of(data.session_id, data.customer_phone)
    sender_id = session.customer_id if role == "customer" else session.mitra_id
    if sender_id is None:
        raise Conflict(f"session {session.id} has no {role} yet")
    message, delivery = await backend.chat.send(session.id, Principal(role, sender_id), data.text)  # type: ignore[arg-type]
    return ok({"message": render(message), **delivery.to_json()}, status=201)


async def send_as_mitra(request: Request) -> JSONResponse:
    return await _send_as(request, "mitra")


async def send_as_customer(request: Request) -> JSONResponse:
    return await _send_as(request, "customer")


async def send_fcm_chat_message(request: Request) -> JSONResponse:
    """A raw FCM dispatch to a participant, whatever its socket state."""
    data = await body(request, RawPush)
    backend = backend_of(request)
    session = backend.testing.session_of(data.session_id, data.customer_phone)
    user_id = session.customer_id if data.to == "customer" else session.mitra_id
    if user_id is None:
        raise Conflict(f"session {session.id} has no {data.to} yet")
    frame = {"type": "chat_message", "session_id": session.id, "text": data.body}
    delivery = await backend.notifier.push(Principal(data.to, user_id), frame, PushText(data.title, data.body))
    return ok({**delivery.to_json(), "names": delivery.push_names})


async def force_pairing_timeout(request: Request) -> JSONResponse:
    """Skip the wait: blast → PAIRING_FAILED, targeted → RETURNING_CHAT_TIMEOUT; searching or pending_acceptance."""
    data = await body(request, PaymentRef)
    backend = backend_of(request)
    if data.payment_request_id:
        session = backend.pairing.in_flight_of_payment(data.payment_request_id)
    elif data.phone:
        session = backend.pairing.latest_in_flight(backend.testing.customer_by_phone(data.phone).id)
    else:
        raise ValidationFailed("give payment_request_id or phone")
    if session.mode == "targeted":
        failed = await backend.pairing.expire_targeted_pairing_request(session.id)
    else:
        failed = await backend.pairing.fail(session.id, SessionEvent.TIMEOUT)
    return ok(failed)


def _mitra(request: Request, data: MitraRef) -> Mitra:
    mitra = backend_of(request).testing.mitra_ref(data.mitra_id, data.mitra_phone)
    if mitra is None:
        raise ValidationFailed("give mitra_id or mitra_phone")
    return mitra


async def force_mitra_offline(request: Request) -> JSONResponse:
    mitra = _mitra(request, await body(request, MitraRef))
    return ok(backend_of(request).presence.set_online(mitra.id, False))


async def _online(request: Request, mitra: Mitra) -> Mitra:
    backend = backend_of(request)
    backend.presence.set_online(mitra.id, True)
    await backend.pairing.mitra_available(mitra.id)
    return mitra


async def force_other_mitra_online(request: Request) -> JSONResponse:
    """Some mitra other than the excluded one comes online (a bestie baru for the blast)."""
    data = await body(request, MitraExclude)
    backend = backend_of(request)
    excluded = backend.testing.mitra_ref(data.exclude_mitra_id, data.exclude_mitra_phone)
    free = [
        m
        for m in backend.store.rows("mitras")
        if (excluded is None or m.id != excluded.id) and not backend.presence.facts(m).busy
    ]
    free.sort(key=backend.presence.is_online)  # an offline one first: the point is one more online
    if not free:
        raise NotFound("no other free mitra exists; seed one with seed-mitra", code="NO_OTHER_MITRA")
    return ok(await _online(request, free[0]))


async def reset_all_mitras_online(request: Request) -> JSONResponse:
    backend = backend_of(request)
    mitras = [await _online(request, m) for m in backend.store.rows("mitras")]
    return ok({"online": [m.id for m in mitras]})


async def mitra_accept_latest(request: Request) -> JSONResponse:
    """This mitra accepts the newest offer made to it."""
    mitra = _mitra(request, await body(request, MitraRef))
    backend = backend_of(request)
    return ok(await backend.pairing.accept(mitra.id, backend.pairing.latest_pending_offer(mitra.id).id))


async def seed_history_session(request: Request) -> JSONResponse:
    """A past session with a bestie; answers MITRA_NAME_RE for selectors on names with regex specials."""
    data = await body(request, HistorySeed)
    backend = backend_of(request)
    testing = backend.testing
    customer = testing.customer_by_phone(data.customer_phone)
    found = backend.store.find("mitras", phone=data.mitra_phone) if data.mitra_phone else []
    mitra = (
        found[0]
        if found
        else testing.new_mitra(data.mitra_display_name or "Bestie Lama", data.mitra_phone, data.topics)
    )
    session = testing.seed_history(customer, mitra, data.duration_minutes, data.days_ago)
    return ok(
        {
            "session_id": session.id,
            "mitra_id": mitra.id,
            "mitra_phone": mitra.phone,
            "MITRA_NAME": mitra.display_name,
            "MITRA_NAME_RE": name_pattern(mitra.display_name),
        },
        status=201,
    )


async def read_otp(request: Request) -> JSONResponse:
    phone = request.query_params.get("phone")
    if not phone:
        raise ValidationFailed("query parameter phone is required")
    challenge = backend_of(request).auth.read_otp(phone)
    return ok({"phone": phone, "code": challenge.code, "wrong_attempts": challenge.wrong_attempts})


async def seed_mitra(request: Request) -> JSONResponse:
    """Create a mitra (idempotent by phone): the admin step scenarios need before a mitra logs in."""
    data = await body(request, MitraSeed)
    backend = backend_of(request)
    existing = backend.store.find("mitras", phone=data.phone)
    if existing:
        return ok(
            backend.store.update(
                "mitras", existing[0].id, display_name=data.display_name, password=data.password, topics=data.topics
            )
        )
    row = Mitra(
        id=data.id or backend.deps.ids.uuid(),
        phone=data.phone,
        display_name=data.display_name,
        password=data.password,
        topics=data.topics,
    )
    return ok(backend.store.insert("mitras", row), status=201)


async def state(request: Request) -> JSONResponse:
    return ok(backend_of(request).dump())


async def connections(request: Request) -> JSONResponse:
    return ok({"sockets": backend_of(request).hub.connections()})


async def reset(request: Request) -> JSONResponse:
    data = await body(request, ResetAll)
    backend_of(request).reset(data.seed)
    return ok({"reset": True, "seed": backend_of(request).settings.seed})


async def clock(request: Request) -> JSONResponse:
    scheduler = backend_of(request).scheduler
    if request.method == "POST":
        data = await body(request, ClockAdvance)
        if not scheduler.is_virtual:
            raise Conflict(
                "the clock is the system clock; start with a virtual clock to advance it", code="CLOCK_NOT_VIRTUAL"
            )
        fired = await scheduler.advance(data.seconds)
        return ok({"now": scheduler.clock.now(), "fired": fired, "virtual": True})
    return ok({"now": scheduler.clock.now(), "virtual": scheduler.is_virtual})


Endpoint = Callable[[Request], Awaitable[JSONResponse]]


def _guarded(endpoint: Endpoint) -> Endpoint:
    async def wrapped(request: Request) -> JSONResponse:
        guard(request)
        return await endpoint(request)

    wrapped.__name__ = endpoint.__name__
    return wrapped


_TABLE = [
    ("reset-phone", reset_phone, ["POST"]),
    ("force-confirm-payment", force_confirm_payment, ["POST"]),
    ("mark-latest-payment-paid", mark_latest_payment_paid, ["POST"]),
    ("run-reconciliation", run_reconciliation, ["POST"]),
    ("accept-latest-pending", accept_latest_pending, ["POST"]),
    ("ws-connection-state", ws_connection_state, ["GET"]),
    ("send-chat-message-as-mitra", send_as_mitra, ["POST"]),
    ("send-chat-message-as-customer", send_as_customer, ["POST"]),
    ("send-fcm-chat-message", send_fcm_chat_message, ["POST"]),
    ("force-pairing-timeout", force_pairing_timeout, ["POST"]),
    ("force-mitra-offline", force_mitra_offline, ["POST"]),
    ("force-other-mitra-online", force_other_mitra_online, ["POST"]),
    ("reset-all-mitras-online", reset_all_mitras_online, ["POST"]),
    ("mitra-accept-latest", mitra_accept_latest, ["POST"]),
    ("seed-history-session", seed_history_session, ["POST"]),
    ("otp", read_otp, ["GET"]),
    ("seed-mitra", seed_mitra, ["POST"]),
    ("state", state, ["GET"]),
    ("connections", connections, ["GET"]),
    ("reset", reset, ["POST"]),
    ("clock", clock, ["GET", "POST"]),
]

routes = [Route(f"{PREFIX}/{path}", _guarded(fn), methods=methods) for path, fn, methods in _TABLE]
