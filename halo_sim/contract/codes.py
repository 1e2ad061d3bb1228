"""Every refusal code the backend answers with, in one list.

Three kinds share the list because a client handles all three as "no, because":
``error`` codes are the ``error`` of an HTTP error body or of an ``error`` frame;
``webhook`` reasons are the ``reason`` of a 200 ``ignored`` answer to a Xendit
callback; ``ws_close`` codes close a socket.  ``tests/contract/test_codes.py``
scans the source for every code raised and fails when this list and the source
disagree, either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["error", "webhook", "ws_close"]


@dataclass(frozen=True)
class RefusalCode:
    """One code: its HTTP status (None when there is no HTTP answer), what it means, where it comes from."""

    code: str
    status: int | None
    meaning: str
    source: str
    kind: Kind = "error"


REFUSAL_CODES: tuple[RefusalCode, ...] = (
    # --- the error classes (simkit/errors.py): the default code of each ----------------------------
    RefusalCode("BAD_REQUEST", 400, "Generic refusal (base class; the backend raises a narrower code).", "any"),
    RefusalCode(
        "VALIDATION_ERROR",
        400,
        "A body, parameter or client frame has the wrong shape; `problems` lists each field.",
        "any route with a body, any client frame",
    ),
    RefusalCode("UNAUTHORIZED", 401, "No valid bearer token.", "every authenticated route"),
    RefusalCode("FORBIDDEN", 403, "A valid token of the wrong role.", "every customer-only or mitra-only route"),
    RefusalCode(
        "NOT_FOUND", 404, "No such resource, or not the caller's (never 403, so ids cannot be probed).", "any lookup"
    ),
    RefusalCode("CONFLICT", 409, "The resource is not in a state that allows the operation.", "services"),
    RefusalCode(
        "ILLEGAL_TRANSITION",
        409,
        "A state machine was asked for a move it does not declare (`state`, `event`).",
        "payment and session machines (`halo_sim/domain`)",
    ),
    RefusalCode(
        "TOO_MANY_REQUESTS",
        429,
        "The caller is blocked for now (base class of OTP_BLOCKED).",
        "OTP auth (customer and mitra)",
    ),
    RefusalCode(
        "FOREIGN_KEY_VIOLATION",
        409,
        "A write would break a foreign key (`sqlstate` 23503, `table`, `column`).",
        "the store, any write",
    ),
    RefusalCode(
        "UNIQUE_VIOLATION",
        409,
        "An insert reuses an existing key (`sqlstate` 23505, `table`).",
        "the store, any insert",
    ),
    # --- auth ---------------------------------------------------------------------------------------
    RefusalCode(
        "OTP_EXPIRED",
        400,
        "No valid OTP for this phone (none issued, or too old).",
        "POST /api/customer/auth/otp/verify, POST /api/mitra/auth/otp/verify",
    ),
    RefusalCode(
        "OTP_INVALID",
        401,
        "Wrong OTP code; `attempts_left` says how many remain.",
        "POST /api/customer/auth/otp/verify, POST /api/mitra/auth/otp/verify",
    ),
    RefusalCode(
        "OTP_BLOCKED",
        429,
        "Too many wrong codes: blocked for HALO_OTP_BLOCK_S (`retry_after_s`).",
        "POST /api/customer/auth/otp/verify, POST /api/mitra/auth/otp/verify",
    ),
    RefusalCode(
        "INVALID_CREDENTIALS",
        401,
        "Wrong mitra phone or password; `attempts_left` before the phone is locked (unknown phones count alike). "
        "With an OTP: the right code for a phone that is no mitra's (no `attempts_left`; no mitra is created).",
        "POST /api/mitra/auth/login, POST /api/mitra/auth/otp/verify",
    ),
    RefusalCode(
        "PASSWORD_LOCKED",
        429,
        "HALO_MITRA_MAX_PASSWORD_ATTEMPTS wrong passwords: the phone is locked for HALO_MITRA_LOCKOUT_S "
        "(`retry_after_s`, also the Retry-After header).",
        "POST /api/mitra/auth/login",
    ),
    RefusalCode(
        "RATE_LIMITED",
        429,
        "Too many anonymous logins or OTP requests from this client IP (or OTP requests for this phone) in "
        "the window HALO_RATE_WINDOW_S (`retry_after_s`, also the Retry-After header).",
        "POST /api/customer/auth/anonymous, POST /api/customer/auth/otp/request, POST /api/mitra/auth/otp/request",
    ),
    # --- payments and Xendit ----------------------------------------------------------------------------
    RefusalCode(
        "PAYMENT_PROVIDER_ERROR",
        502,
        "Xendit refused or was unreachable while creating the invoice (`provider_code`); no payment is created.",
        "POST /api/customer/payments",
    ),
    RefusalCode(
        "INVALID_CALLBACK_TOKEN",
        401,
        "Missing or wrong `x-callback-token` on a Xendit callback.",
        "POST /api/shared/payment/webhooks/xendit",
    ),
    RefusalCode(
        "UNKNOWN_PAYMENT",
        200,
        "Callback ignored: its external_id names no payment.",
        "POST /api/shared/payment/webhooks/xendit",
        "webhook",
    ),
    RefusalCode(
        "INVOICE_MISMATCH",
        200,
        "Callback ignored: the payment is bound to another invoice.",
        "POST /api/shared/payment/webhooks/xendit",
        "webhook",
    ),
    RefusalCode(
        "ALREADY_PAID",
        200,
        "EXPIRED callback ignored: the payment was already paid.",
        "POST /api/shared/payment/webhooks/xendit",
        "webhook",
    ),
    # --- pairing ------------------------------------------------------------------------------------------
    RefusalCode(
        "ROUTE_NOT_FOUND",
        404,
        "No route serves this path (also every `/internal/_test/*` path when the test surface is off).",
        "any unknown path",
    ),
    RefusalCode("METHOD_NOT_ALLOWED", 405, "The path exists but does not take this method.", "any route"),
    RefusalCode(
        "PAYLOAD_TOO_LARGE",
        413,
        "The request body is over 64 KiB (`limit`), or the query string over 2 KiB; nothing was read further.",
        "any route with a body or query parameters",
    ),
    RefusalCode(
        "PAYMENT_EXPIRED",
        409,
        "The payment was confirmed longer than `HALO_PAID_VALIDITY_S` ago: no new pairing attempt; "
        "it is now failed_pairing.",
        "POST /api/customer/pairing/retry, POST /api/customer/chat/request",
    ),
    RefusalCode(
        "UNKNOWN_DURATION",
        400,
        "No price is configured for this `duration_minutes` (the control center's price list).",
        "POST /api/customer/payments",
    ),
    RefusalCode(
        "MITRA_NOT_FOUND",
        404,
        "The named mitra does not exist (a targeted payment's `targeted_mitra_id`, a `_test` hook's mitra).",
        "POST /api/customer/payments, /internal/_test/* mitra hooks",
    ),
    RefusalCode(
        "CUSTOMER_NOT_FOUND",
        404,
        "No customer has this phone.",
        "/internal/_test/* hooks taking a phone",
    ),
    RefusalCode(
        "NO_MITRA_YET",
        409,
        "The session has no mitra yet (still searching), so nothing can be sent as or to it.",
        "/internal/_test/send-chat-message-as-*, /internal/_test/send-fcm-chat-message",
    ),
    RefusalCode(
        "OFFER_WITHDRAWN",
        409,
        "The offer was withdrawn from this mitra (it went offline or became busy); it is offered again "
        "once the mitra is available.",
        "POST /api/mitra/offers/{id}/accept, WS accept_offer",
    ),
    RefusalCode(
        "AMOUNT_MISMATCH",
        200,
        "Callback ignored: `paid_amount` is less than the payment's amount (a partial payment buys no chat).",
        "POST /api/shared/payment/webhooks/xendit",
        "webhook",
    ),
    RefusalCode(
        "PAYMENT_NOT_CONFIRMED",
        409,
        "Pairing needs a confirmed payment.",
        "POST /api/customer/chat/request, POST /api/customer/pairing/retry",
    ),
    RefusalCode(
        "OFFER_TAKEN",
        409,
        "Another mitra's accept won this request.",
        "accept (HTTP or `accept_offer` frame)",
    ),
    RefusalCode(
        "NOT_OFFERED",
        409,
        "The offer was not made to this mitra (or it declined it).",
        "accept / reject (HTTP or frame)",
    ),
    RefusalCode("CLOSED", 409, "The request is no longer searching (failed).", "accept (HTTP or frame)"),
    RefusalCode(
        "MITRA_BUSY", 409, "The mitra is already in an active session; finish it first.", "accept (HTTP or frame)"
    ),
    RefusalCode(
        "NO_PENDING_OFFER",
        404,
        "No session is pending acceptance (for this mitra).",
        "POST /internal/_test/accept-latest-pending, /internal/_test/mitra-accept-latest",
    ),
    RefusalCode(
        "NO_PAIRING_IN_FLIGHT",
        404,
        "No attempt is searching or pending acceptance for this payment or customer.",
        "POST /internal/_test/force-pairing-timeout",
    ),
    # --- sessions -----------------------------------------------------------------------------------------
    RefusalCode(
        "SESSION_ENDED",
        409,
        "The session is over (“Sesi sudah berakhir”): no more messages, no second goodbye.",
        "send message (HTTP or frame), POST /api/chat/sessions/{id}/end",
    ),
    RefusalCode(
        "SESSION_NOT_STARTED",
        409,
        "No mitra has accepted yet (the attempt is searching or pending acceptance, “Sesi belum dimulai”): "
        "nothing can be sent and there is nothing to end.",
        "send message (HTTP or frame), POST /api/chat/sessions/{id}/end",
    ),
    # --- test hooks -------------------------------------------------------------------------------------
    RefusalCode(
        "TEST_TOKEN_REQUIRED",
        401,
        "On a shared host (HALO_TEST_TOKEN set) the test surface needs the right `x-test-token`.",
        "every `/internal/_test/*` and `/control*` route, PUT/PATCH /api/control-center/config",
    ),
    RefusalCode(
        "LOOPBACK_ONLY",
        403,
        "Without HALO_TEST_TOKEN the test surface answers loopback clients (127.0.0.0/8, ::1) only.",
        "every `/internal/_test/*` and `/control*` route, PUT/PATCH /api/control-center/config",
    ),
    RefusalCode(
        "JSON_REQUIRED",
        415,
        "A state-changing test call must send `content-type: application/json` (even with an empty `{}` body), "
        "so a web page cannot fire it as a cross-site simple request.",
        "every POST `/internal/_test/*` route, PUT/PATCH /api/control-center/config",
    ),
    RefusalCode(
        "NO_OTHER_MITRA",
        404,
        "No other free mitra exists to bring online.",
        "POST /internal/_test/force-other-mitra-online",
    ),
    RefusalCode(
        "CLOCK_NOT_VIRTUAL", 409, "The clock is the system clock; it cannot be advanced.", "POST /internal/_test/clock"
    ),
    RefusalCode(
        "UNKNOWN_SETTING",
        400,
        "A name that is not in the settings catalogue (`unknown`, `known`); nothing was changed.",
        "PUT /internal/_test/settings",
    ),
    RefusalCode(
        "INVALID_SETTING",
        400,
        "A catalogued setting with a value of the wrong type or out of range (`problems`); nothing was changed.",
        "PUT /internal/_test/settings",
    ),
    # --- the control center -----------------------------------------------------------------------------
    RefusalCode(
        "FAKE_NOT_RUNNING",
        409,
        "The action needs fake Xendit (or FCM), which this backend was not started with or which does not answer.",
        "POST /control/actions/{pay,expire}-invoice, xendit-faults, flush-callbacks",
    ),
    RefusalCode(
        "FAKE_REFUSED",
        409,
        "The fake refused the action (an invoice no longer PENDING, a bad fault); `fake_status` is its status.",
        "POST /control/actions/{pay,expire}-invoice, xendit-faults, flush-callbacks",
    ),
    # --- WebSocket close codes --------------------------------------------------------------------------
    RefusalCode(
        "4401",
        403,
        "Unknown or missing token: closed before accept (an HTTP 403 at the handshake).",
        "/ws",
        "ws_close",
    ),
    RefusalCode("1001", None, "The backend is shutting down (going away).", "/ws", "ws_close"),
    RefusalCode("1009", None, "A client frame over 64 KiB (message too big): closed by the server.", "/ws", "ws_close"),
)

BY_CODE: dict[str, RefusalCode] = {entry.code: entry for entry in REFUSAL_CODES}
