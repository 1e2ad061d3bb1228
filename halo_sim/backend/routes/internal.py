"""``/internal/_test/*``: the assertion and shortcut hooks of the Halo team's test flows.

Safe by default (``guard``): mounted only when the backend runs in ``dev`` or
``test``; when ``HALO_TEST_TOKEN`` is set (a shared deployment) every call needs it
in ``x-test-token``, and without one only loopback clients are answered; a
state-changing call needs a JSON body type, so no browser page can fire one as a
cross-site "simple" request.  The sim-only extras (``state``, ``reset``, ``clock``,
``seed-mitra``, ``otp``) sit beside the seed's endpoints; ``state`` hides tokens,
passwords and OTP codes unless asked with ``?secrets=true``.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from halo_sim.backend.config import is_loopback
from halo_sim.backend.routes.common import backend_of, body, ok, query, render
from halo_sim.backend.schemas import (
    ClockAdvance,
    HistorySeed,
    MitraExclude,
    MitraRef,
    MitraSeed,
    OtpQuery,
    PaymentRef,
    PhoneBody,
    RawPush,
    ResetAll,
    SessionMessage,
    SessionQuery,
    SettingsChange,
)
from halo_sim.backend.services.deps import Role
from simkit.errors import Conflict, DomainError, Forbidden, NotFound, Unauthorized

PREFIX = "/internal/_test"
READ_ONLY = frozenset({"GET", "HEAD", "OPTIONS"})


class UnsupportedMediaType(DomainError):
    """A state-changing test call whose body is not declared JSON."""

    status_code = 415


def guard(request: Request, presented: str | None = None) -> None:
    """Who may use the test surface (and the control center's config write and page), and how.

    Off in production; with a test token, whoever presents it (constant-time check) in
    ``x-test-token`` (or as ``presented``: the control page's cookie); without one, loopback
    clients only.  Writes must say ``application/json``.
    """
    settings = backend_of(request).settings
    if not settings.test_endpoints_enabled:
        raise NotFound(f"no such route: {request.method} {request.url.path}", code="ROUTE_NOT_FOUND")
    expected = settings.test_token
    given = request.headers.get("x-test-token", "") if presented is None else presented
    if expected and not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized("missing or wrong x-test-token", code="TEST_TOKEN_REQUIRED")
    if not expected and not is_loopback(request.client.host if request.client else None):
        raise Forbidden("without HALO_TEST_TOKEN the test surface answers loopback clients only", code="LOOPBACK_ONLY")
    if request.method not in READ_ONLY and not _is_json(request.headers.get("content-type", "")):
        raise UnsupportedMediaType(
            "a state-changing test call needs content-type application/json", code="JSON_REQUIRED"
        )


def _is_json(content_type: str) -> bool:
    """``application/json`` or a ``+json`` type, parameters (charset) aside."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def reset_phone(request: Request) -> JSONResponse:
    data = await body(request, PhoneBody)
    return ok(backend_of(request).testing.reset_phone(data.phone))


async def force_confirm_payment(request: Request) -> JSONResponse:
    """Confirms through the real confirm path, so ``payment_request.confirmed`` fires (unless lost on purpose)."""
    data = await body(request, PaymentRef)
    backend = backend_of(request)
    payment = backend.testing.payment_of(data.payment_request_id, data.phone)
    return ok(await backend.payments.confirm_payment(payment.id, "test", announce=not data.lose_event))


async def mark_latest_payment_paid(request: Request) -> JSONResponse:
    """What a PAID callback from Xendit does, through the same webhook handler (no token needed here)."""
    data = await body(request, PaymentRef)
    testing = backend_of(request).testing
    return ok(await testing.mark_paid(testing.payment_of(data.payment_request_id, data.phone)))


async def run_reconciliation(request: Request) -> JSONResponse:
    """One sweep now, without waiting for the periodic one."""
    return ok(await backend_of(request).reconciler.sweep())


async def accept_latest_pending(request: Request) -> JSONResponse:
    """The newest offer pending acceptance, accepted by the given (or first offered) mitra."""
    data = await body(request, MitraRef)
    testing = backend_of(request).testing
    mitra = testing.mitra_ref(data.mitra_id, data.mitra_phone)
    return ok(await testing.accept_latest_pending(mitra.id if mitra else None))


async def ws_connection_state(request: Request) -> JSONResponse:
    testing = backend_of(request).testing
    q = query(request, SessionQuery)
    return ok(testing.ws_state(testing.session_of(q.session_id, q.customer_phone or q.phone)))


async def _send_as(request: Request, role: Role) -> JSONResponse:
    data = await body(request, SessionMessage)
    message, delivery = await backend_of(request).testing.send_as(role, data.session_id, data.customer_phone, data.text)
    return ok({"message": render(message), **delivery.to_json()}, status=201)


async def send_as_mitra(request: Request) -> JSONResponse:
    return await _send_as(request, "mitra")


async def send_as_customer(request: Request) -> JSONResponse:
    return await _send_as(request, "customer")


async def send_fcm_chat_message(request: Request) -> JSONResponse:
    """A raw FCM dispatch to a participant, whatever its socket state."""
    data = await body(request, RawPush)
    testing = backend_of(request).testing
    delivery = await testing.raw_push(data.session_id, data.customer_phone, data.to, data.title, data.body)
    return ok({**delivery.to_json(), "names": delivery.push_names})


async def force_pairing_timeout(request: Request) -> JSONResponse:
    """Skip the wait: blast → PAIRING_FAILED, targeted → RETURNING_CHAT_TIMEOUT; searching or pending_acceptance."""
    data = await body(request, PaymentRef)
    return ok(await backend_of(request).testing.force_timeout(data.payment_request_id, data.phone))


async def force_mitra_offline(request: Request) -> JSONResponse:
    data = await body(request, MitraRef)
    backend = backend_of(request)
    mitra = backend.testing.named_mitra(data.mitra_id, data.mitra_phone)
    return ok(await backend.presence.set_online(mitra.id, False))


async def force_other_mitra_online(request: Request) -> JSONResponse:
    """Some mitra other than the excluded one comes online (a bestie baru for the blast)."""
    data = await body(request, MitraExclude)
    testing = backend_of(request).testing
    excluded = testing.mitra_ref(data.exclude_mitra_id, data.exclude_mitra_phone)
    return ok(await testing.force_other_mitra_online(excluded))


async def reset_all_mitras_online(request: Request) -> JSONResponse:
    return ok({"online": await backend_of(request).testing.all_mitras_online()})


async def mitra_accept_latest(request: Request) -> JSONResponse:
    """This mitra accepts the newest offer made to it."""
    data = await body(request, MitraRef)
    testing = backend_of(request).testing
    return ok(await testing.accept_latest_pending(testing.named_mitra(data.mitra_id, data.mitra_phone).id))


async def seed_history_session(request: Request) -> JSONResponse:
    """A past session with a bestie; answers MITRA_NAME_RE for selectors on names with regex specials."""
    d = await body(request, HistorySeed)
    seeded = backend_of(request).testing.seed_history_session(
        d.customer_phone, d.mitra_phone, d.mitra_display_name, d.topics, d.duration_minutes, d.days_ago
    )
    return ok(seeded, status=201)


async def read_otp(request: Request) -> JSONResponse:
    q = query(request, OtpQuery)
    phone = q.phone
    challenge = backend_of(request).auth.read_otp(phone, q.role)
    return ok({"phone": phone, "code": challenge.code, "wrong_attempts": challenge.wrong_attempts})


async def seed_mitra(request: Request) -> JSONResponse:
    """Create a mitra (idempotent by phone): the admin step scenarios need before a mitra logs in."""
    d = await body(request, MitraSeed)
    row, created = backend_of(request).testing.seed_mitra(d.phone, d.display_name, d.password, d.topics, d.id)
    return ok(row, status=201 if created else 200)


async def discovery(request: Request) -> JSONResponse:
    """Capabilities, fakes' URLs and callback token: what ``--target URL`` reads (guarded like every hook)."""
    return ok(backend_of(request).discovery())


async def state(request: Request) -> JSONResponse:
    """The whole state; tokens, passwords and OTP codes only with ``?secrets=true``."""
    return ok(backend_of(request).dump(secrets=request.query_params.get("secrets") == "true"))


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


async def settings(request: Request) -> JSONResponse:
    """The catalogued settings now (GET), or some of them changed (PUT: all valid, or nothing changes)."""
    tuning = backend_of(request).tuning
    if request.method == "PUT":
        return ok(tuning.update((await body(request, SettingsChange)).root))
    return ok(tuning.current())


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
    ("discovery", discovery, ["GET"]),
    ("connections", connections, ["GET"]),
    ("reset", reset, ["POST"]),
    ("clock", clock, ["GET", "POST"]),
    ("settings", settings, ["GET", "PUT"]),
]

routes = [Route(f"{PREFIX}/{path}", _guarded(fn), methods=methods) for path, fn, methods in _TABLE]
