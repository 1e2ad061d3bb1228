"""One declaration per HTTP operation: what it takes, what it answers, who may call it, how it refuses.

``OPERATIONS`` maps ``(METHOD, path)`` to an :class:`Operation`; ``openapi.py`` turns it
into the OpenAPI document.  The document is built from the app's own routes, and a
route missing here fails the build (and ``tests/backend/test_openapi.py``), so a
new route cannot be left out.  Error codes are those of ``contract/codes.py``; the
generic ones of an operation's auth and input are added by :meth:`Operation.codes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from halo_sim.backend import responses
from halo_sim.backend import schemas as s
from halo_sim.backend.services.webhooks import XenditCallback
from halo_sim.backend.tables import ChatSession, Customer, Device, PaymentRequest
from halo_sim.contract.settings import TunableSettings
from halo_sim.control.actions import declarations
from halo_sim.control.queries import ControlPageQuery, ControlStreamQuery
from simkit.xendit_wire import WEBHOOK_PATH

Auth = Literal["none", "customer", "mitra", "bearer", "test", "callback"]

AUTH_CODES: dict[Auth, tuple[str, ...]] = {
    "none": (),
    "customer": ("UNAUTHORIZED", "FORBIDDEN"),
    "mitra": ("UNAUTHORIZED", "FORBIDDEN"),
    "bearer": ("UNAUTHORIZED",),
    "test": ("TEST_TOKEN_REQUIRED", "LOOPBACK_ONLY", "JSON_REQUIRED"),
    "callback": ("INVALID_CALLBACK_TOKEN",),
}


@dataclass(frozen=True)
class Operation:
    """One method on one path, as the document declares it."""

    summary: str
    response: Any  # a model, a row dataclass, or None for a non-JSON answer
    auth: Auth = "none"
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    status: tuple[int, ...] = (200,)
    errors: tuple[str, ...] = ()
    media_type: str = "application/json"
    tag: str = "app"
    event: str = "stats"  # the ``event:`` name of a text/event-stream answer

    def codes(self) -> tuple[str, ...]:
        """Every refusal code this operation can answer: its auth's, its input's, its own."""
        parsed = ("VALIDATION_ERROR", "PAYLOAD_TOO_LARGE") if self.body or self.query else ()
        return tuple(dict.fromkeys((*AUTH_CODES[self.auth], *parsed, *self.errors)))


CUSTOMER = "/api/customer"
MITRA = "/api/mitra"
CHAT = "/api/chat/sessions/{session_id}"
TEST = "/internal/_test"
ACCEPT_REFUSALS = ("NOT_FOUND", "OFFER_TAKEN", "NOT_OFFERED", "CLOSED", "MITRA_BUSY", "OFFER_WITHDRAWN")
PAIRING_REFUSALS = ("NOT_FOUND", "PAYMENT_NOT_CONFIRMED", "PAYMENT_EXPIRED", "ILLEGAL_TRANSITION")
SESSION_LOOKUP = ("NOT_FOUND", "CUSTOMER_NOT_FOUND")
MITRA_LOOKUP = ("NOT_FOUND", "MITRA_NOT_FOUND")


def _customer_ops() -> dict[tuple[str, str], Operation]:
    profile = Operation("Change the display name", Customer, "customer", s.DisplayName)
    return {
        ("POST", f"{CUSTOMER}/auth/otp/request"): Operation(
            "Send an OTP to a phone", responses.OtpSent, body=s.OtpRequest, errors=("OTP_BLOCKED", "RATE_LIMITED")
        ),
        ("POST", f"{CUSTOMER}/auth/otp/verify"): Operation(
            "Log in (or sign up) with the OTP",
            responses.CustomerSignedIn,
            body=s.OtpVerify,
            errors=("OTP_EXPIRED", "OTP_INVALID", "OTP_BLOCKED"),
        ),
        ("POST", f"{CUSTOMER}/auth/anonymous"): Operation(
            "Log in without a phone", responses.CustomerSignedIn, errors=("RATE_LIMITED",)
        ),
        ("GET", f"{CUSTOMER}/profile"): Operation("The customer's profile", responses.CustomerProfile, "customer"),
        ("PUT", f"{CUSTOMER}/profile"): profile,
        ("PATCH", f"{CUSTOMER}/profile"): profile,
        ("POST", f"{CUSTOMER}/devices"): Operation(
            "Register an FCM token (customers and mitras)", Device, "bearer", s.DeviceRegistration
        ),
        ("POST", f"{CUSTOMER}/payments"): Operation(
            "Create a payment request (a Xendit invoice when Xendit is on)",
            PaymentRequest,
            "customer",
            s.PaymentCreate,
            status=(201,),
            errors=("UNKNOWN_DURATION", "MITRA_NOT_FOUND", "PAYMENT_PROVIDER_ERROR"),
        ),
        ("GET", f"{CUSTOMER}/payments/pending"): Operation(
            "Confirmed payments not yet used", responses.PendingPayments, "customer"
        ),
        ("GET", f"{CUSTOMER}/payments/{{payment_id}}"): Operation(
            "One of the customer's payments", PaymentRequest, "customer", errors=("NOT_FOUND",)
        ),
        ("POST", f"{CUSTOMER}/chat/request"): Operation(
            "Start pairing a confirmed payment (legacy, idempotent)",
            ChatSession,
            "customer",
            s.ChatRequest,
            errors=PAIRING_REFUSALS,
        ),
        ("POST", f"{CUSTOMER}/pairing/retry"): Operation(
            "Try pairing again on the same payment", ChatSession, "customer", s.PairingRetry, errors=PAIRING_REFUSALS
        ),
        ("GET", f"{CUSTOMER}/history"): Operation("The customer's previous besties", responses.History, "customer"),
        ("GET", f"{CUSTOMER}/mitras/{{mitra_id}}/availability"): Operation(
            "Is this bestie online and free?", responses.Availability, "customer", errors=("NOT_FOUND",)
        ),
    }


def _mitra_ops() -> dict[tuple[str, str], Operation]:
    return {
        ("POST", f"{MITRA}/auth/login"): Operation(
            "Log a mitra in",
            responses.MitraSignedIn,
            body=s.MitraLogin,
            errors=("INVALID_CREDENTIALS", "PASSWORD_LOCKED"),
        ),
        ("POST", f"{MITRA}/auth/otp/request"): Operation(
            "Send a mitra login OTP to a phone (any phone: the answer does not tell who is a mitra)",
            responses.OtpSent,
            body=s.OtpRequest,
            errors=("OTP_BLOCKED", "RATE_LIMITED"),
        ),
        ("POST", f"{MITRA}/auth/otp/verify"): Operation(
            "Log a mitra in with the OTP",
            responses.MitraSignedIn,
            body=s.OtpVerify,
            errors=("OTP_EXPIRED", "OTP_INVALID", "OTP_BLOCKED", "INVALID_CREDENTIALS"),
        ),
        ("GET", f"{MITRA}/profile"): Operation("The mitra's profile", responses.MitraProfile, "mitra"),
        ("POST", f"{MITRA}/status"): Operation("Go online or offline", responses.MitraProfile, "mitra", s.OnlineToggle),
        ("POST", f"{MITRA}/heartbeat"): Operation("I am alive", responses.Heartbeat, "mitra"),
        ("POST", f"{MITRA}/devices"): Operation(
            "Register an FCM token (customers and mitras)", Device, "bearer", s.DeviceRegistration
        ),
        ("POST", f"{MITRA}/offers/{{session_id}}/accept"): Operation(
            "Accept an offer", ChatSession, "mitra", errors=ACCEPT_REFUSALS
        ),
        ("POST", f"{MITRA}/offers/{{session_id}}/reject"): Operation(
            "Decline an offer", ChatSession, "mitra", errors=("NOT_FOUND", "NOT_OFFERED", "CLOSED")
        ),
    }


def _chat_ops() -> dict[tuple[str, str], Operation]:
    return {
        ("GET", CHAT): Operation("A session the caller takes part in", ChatSession, "bearer", errors=("NOT_FOUND",)),
        ("GET", f"{CHAT}/messages"): Operation(
            "Messages after a seq", responses.Messages, "bearer", query=s.MessagesQuery, errors=("NOT_FOUND",)
        ),
        ("POST", f"{CHAT}/messages"): Operation(
            "Send a message",
            responses.MessageSent,
            "bearer",
            s.MessageCreate,
            status=(201,),
            errors=("NOT_FOUND", "SESSION_NOT_STARTED", "SESSION_ENDED"),
        ),
        ("POST", f"{CHAT}/end"): Operation(
            "End the session early", ChatSession, "bearer", errors=("NOT_FOUND", "SESSION_NOT_STARTED", "SESSION_ENDED")
        ),
    }


def _control_ops() -> dict[tuple[str, str], Operation]:
    config = Operation("Prices and support links", responses.AppConfigView)
    update = Operation(
        "Change prices and support links (guarded like _test)", responses.AppConfigView, "test", s.ConfigUpdate
    )
    return {
        ("GET", "/health"): Operation("Liveness and mode", responses.Health),
        ("GET", "/openapi.json"): Operation("This document", dict[str, Any]),
        ("GET", "/api/config"): config,
        ("GET", "/api/control-center/config"): config,
        ("PUT", "/api/control-center/config"): update,
        ("PATCH", "/api/control-center/config"): update,
        ("GET", "/api/control-center/stats"): Operation("Live figures", responses.Stats),
        ("GET", "/api/control-center/stats/stream"): Operation(
            "Live figures as Server-Sent Events (`event: stats`, data: the figures as JSON)",
            responses.Stats,
            query=s.StatsStreamQuery,
            media_type="text/event-stream",
        ),
        ("POST", WEBHOOK_PATH): Operation(
            "Xendit invoice callback", responses.WebhookOutcome, "callback", XenditCallback, tag="xendit"
        ),
    }


def _test(summary: str, response: Any, body: type[BaseModel] | None = None, **more: Any) -> Operation:
    return Operation(summary, response, "test", body, tag="test", **more)


def _test_ops() -> dict[tuple[str, str], Operation]:
    payment = ("NOT_FOUND", "CUSTOMER_NOT_FOUND")
    send = ("NOT_FOUND", "CUSTOMER_NOT_FOUND", "NO_MITRA_YET", "SESSION_ENDED")
    ops = {
        "reset-phone": _test("Delete a customer and all it owns", responses.ResetPhoneReport, s.PhoneBody),
        "force-confirm-payment": _test(
            "Confirm a payment (optionally losing the event)",
            PaymentRequest,
            s.PaymentRef,
            errors=(*payment, "ILLEGAL_TRANSITION"),
        ),
        "mark-latest-payment-paid": _test(
            "What a PAID callback does", responses.MarkedPaid, s.PaymentRef, errors=payment
        ),
        "run-reconciliation": _test("One reconciliation sweep now", responses.ReconcileReport),
        "accept-latest-pending": _test(
            "Accept the newest pending offer",
            ChatSession,
            s.MitraRef,
            errors=(*MITRA_LOOKUP, "NO_PENDING_OFFER", *ACCEPT_REFUSALS),
        ),
        "send-chat-message-as-mitra": _test(
            "Send as the session's mitra", responses.MessageSent, s.SessionMessage, status=(201,), errors=send
        ),
        "send-chat-message-as-customer": _test(
            "Send as the session's customer", responses.MessageSent, s.SessionMessage, status=(201,), errors=send
        ),
        "send-fcm-chat-message": _test(
            "A raw FCM push to a participant",
            responses.PushSent,
            s.RawPush,
            errors=("NOT_FOUND", "CUSTOMER_NOT_FOUND", "NO_MITRA_YET"),
        ),
        "force-pairing-timeout": _test(
            "Time the pairing attempt out now",
            ChatSession,
            s.PaymentRef,
            errors=("NOT_FOUND", "CUSTOMER_NOT_FOUND", "NO_PAIRING_IN_FLIGHT", "ILLEGAL_TRANSITION"),
        ),
        "force-mitra-offline": _test("Take a mitra offline", responses.MitraRow, s.MitraRef, errors=MITRA_LOOKUP),
        "force-other-mitra-online": _test(
            "Bring another free mitra online",
            responses.MitraRow,
            s.MitraExclude,
            errors=(*MITRA_LOOKUP, "NO_OTHER_MITRA"),
        ),
        "reset-all-mitras-online": _test("Every mitra online", responses.MitrasOnline),
        "mitra-accept-latest": _test(
            "This mitra accepts its newest offer",
            ChatSession,
            s.MitraRef,
            errors=(*MITRA_LOOKUP, "NO_PENDING_OFFER", *ACCEPT_REFUSALS),
        ),
        "seed-history-session": _test(
            "A past session with a bestie",
            responses.HistorySeeded,
            s.HistorySeed,
            status=(201,),
            errors=("CUSTOMER_NOT_FOUND",),
        ),
        "seed-mitra": _test(
            "Create (201) or update (200) a mitra by phone", responses.MitraRow, s.MitraSeed, status=(201, 200)
        ),
        "reset": _test("Forget everything, re-seed the fixtures", responses.ResetDone, s.ResetAll),
    }
    table = {("POST", f"{TEST}/{name}"): op for name, op in ops.items()}
    return table | {
        ("GET", f"{TEST}/ws-connection-state"): _test(
            "Which participants have a socket open",
            responses.WsState,
            query=s.SessionQuery,
            errors=SESSION_LOOKUP,
        ),
        ("GET", f"{TEST}/otp"): _test(
            "The outstanding OTP of a phone (role=mitra: its mitra login code)",
            responses.OtpRead,
            query=s.OtpQuery,
            errors=("NOT_FOUND",),
        ),
        ("GET", f"{TEST}/state"): _test("The whole state", responses.StateDump),
        ("GET", f"{TEST}/discovery"): _test(
            "Capabilities, fakes' URLs and callback token (what --target URL reads)", responses.Discovery
        ),
        ("GET", f"{TEST}/connections"): _test("Open sockets per user", responses.Connections),
        ("GET", f"{TEST}/clock"): _test("The backend's clock", responses.ClockNow),
        ("POST", f"{TEST}/clock"): _test(
            "Advance the virtual clock", responses.ClockAdvanced, s.ClockAdvance, errors=("CLOCK_NOT_VIRTUAL",)
        ),
        ("GET", f"{TEST}/settings"): _test("The catalogued settings now", responses.SettingsNow),
        ("PUT", f"{TEST}/settings"): _test(
            "Change some catalogued settings (all valid, or nothing changes)",
            responses.SettingsNow,
            TunableSettings,
            errors=("UNKNOWN_SETTING", "INVALID_SETTING"),
        ),
    }


def _control_page_ops(declared: dict[tuple[str, str], Operation]) -> dict[tuple[str, str], Operation]:
    """The control center (``halo_sim/control``): a page, its assets, its feed and its buttons.

    Declared here like every route, although the page and assets are not JSON: the table is
    the one list of what the server answers and who may call it, and the document says which
    answers are HTML, JavaScript, CSS or events.  A forwarded action answers what the route it
    forwards to answers, so it is declared with that route's statuses and refusals.
    """

    def control(summary: str, response: Any, **more: Any) -> Operation:
        return Operation(summary, response, "test", tag="control", **more)

    ops = {
        ("GET", "/control"): control(
            "The control center page (?token= once trades the test token for a cookie)",
            None,
            query=ControlPageQuery,
            status=(200, 303),
            media_type="text/html",
        ),
        ("GET", "/control/static/control.js"): control("The page's script", None, media_type="text/javascript"),
        ("GET", "/control/static/control.css"): control("The page's style", None, media_type="text/css"),
        ("GET", "/control/snapshot"): control("What the page shows, as JSON (no secrets)", dict[str, Any]),
        ("GET", "/control/stream"): control(
            "The panels whose HTML changed, as Server-Sent Events (`event: panels`)",
            dict[str, str],
            query=ControlStreamQuery,
            media_type="text/event-stream",
            event="panels",
        ),
    }
    for path, (summary, action) in declarations().items():
        forwarded = declared[action.target] if action.target else None
        status, errors = (forwarded.status, forwarded.codes()) if forwarded else ((200,), action.codes)
        ops[("POST", path)] = control(summary, dict[str, Any], body=action.model, status=status, errors=errors)
    return ops


OPERATIONS: dict[tuple[str, str], Operation] = {
    **_customer_ops(),
    **_mitra_ops(),
    **_chat_ops(),
    **_control_ops(),
    **_test_ops(),
}
OPERATIONS |= _control_page_ops(OPERATIONS)
