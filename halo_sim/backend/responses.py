"""Shapes of the reference backend's HTTP answers, for the OpenAPI document (``/openapi.json``).

Rows are the table dataclasses themselves (``tables.py``), so a column added there
shows up in the document at once; the models below cover the dicts the services
assemble around them.  Every model forbids fields it does not declare and lists
every field as required, so a schemathesis run catches an answer that drifted
from its declared shape in either direction.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, create_model

from halo_sim.backend.tables import ChatMessage, Customer, Mitra, PaymentRequest
from halo_sim.contract.settings import TunableSettings
from halo_sim.domain.delivery import Channel


class Answer(BaseModel):
    """Base of every answer model: closed, and every field always present."""

    model_config = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)


class ErrorBody(BaseModel):
    """Every refusal: a code from ``halo_sim/contract/codes.py``, a message, and per-code details."""

    model_config = ConfigDict(extra="allow")

    error: str
    message: str


class Health(Answer):
    status: Literal["ok"]
    env: Literal["dev", "test", "production"]
    test_endpoints: bool


# --- customers ---------------------------------------------------------------------------------


class OtpSent(Answer):
    sent: bool
    phone: str
    issued_at: float


class CustomerSignedIn(Answer):
    token: str
    customer: Customer


class CustomerProfile(Answer):
    """The customer row plus the home banner's ``notifications_enabled``."""

    id: str
    phone: str | None
    display_name: str | None
    is_anonymous: bool
    created_at: float
    notifications_enabled: bool


class PendingPayments(Answer):
    payments: list[PaymentRequest]


class HistoryItem(Answer):
    mitra_id: str
    display_name: str
    topics: list[str]
    last_session_at: float
    sessions_count: int
    mitra_is_online: bool


class History(Answer):
    items: list[HistoryItem]
    has_items: bool


class Availability(Answer):
    mitra_id: str
    display_name: str
    mitra_is_online: bool
    busy: bool


# --- mitras -------------------------------------------------------------------------------------


class MitraProfile(Answer):
    """A mitra as its app shows it: no password, effective presence, current session."""

    id: str
    phone: str
    display_name: str
    online: bool
    last_heartbeat_at: float | None
    topics: list[str]
    is_online: bool
    active_session_id: str | None


class MitraSignedIn(Answer):
    token: str
    mitra: MitraProfile


class Heartbeat(MitraProfile):
    next_heartbeat_s: float


# --- chat ----------------------------------------------------------------------------------------


class Messages(Answer):
    messages: list[ChatMessage]


def _push_errors_optional(schema: dict[str, Any]) -> None:
    schema["required"] = [name for name in schema.get("required", []) if name != "push_errors"]


class Delivered(Answer):
    """How a frame reached its recipient; ``push_errors`` only when a push failed."""

    model_config = ConfigDict(json_schema_extra=_push_errors_optional)

    delivered_via: Channel
    push_errors: list[str] = []


class MessageSent(Delivered):
    message: ChatMessage


class PushSent(Delivered):
    names: list[str]


# --- configuration and control center --------------------------------------------------------------


class Price(Answer):
    duration_minutes: int
    amount: int


class Support(Answer):
    whatsapp: str
    telegram: str


class AppConfigView(Answer):
    prices: list[Price]
    support: Support
    heartbeat_interval_s: float
    targeted_timeout_s: float
    pairing_timeout_s: float


class Stats(Answer):
    at: float
    online_mitras: int
    searching: int
    active_sessions: int
    payments_by_status: dict[str, int]
    revenue: int


# --- Xendit callback ----------------------------------------------------------------------------------


class WebhookOutcome(BaseModel):
    """What one callback did; ``reason`` (a webhook code of the catalogue) when it was ignored."""

    model_config = ConfigDict(extra="forbid")

    result: Literal["confirmed", "expired", "duplicate", "ignored"]
    payment_request_id: str | None = None
    payment_status: str | None = None
    reason: str | None = None
    flag: Literal["OVERPAID"] | None = None
    expected_amount: int | None = None
    paid_amount: float | None = None


# --- /internal/_test ------------------------------------------------------------------------------------


class ResetPhoneReport(Answer):
    phone: str
    deleted: bool
    rows: dict[str, int]


class MarkedPaid(WebhookOutcome):
    payment: PaymentRequest


class ReconcileReport(Answer):
    reemitted: list[str]
    expired: list[str]
    confirmed: list[str]
    failed_pairing: list[str]
    errors: list[str]


class SocketState(Answer):
    id: str
    connected: bool
    sockets: int


class WsState(Answer):
    session_id: str
    customer: SocketState
    mitra: SocketState | None


class MitrasOnline(Answer):
    online: list[str]


class HistorySeeded(Answer):
    session_id: str
    mitra_id: str
    mitra_phone: str
    MITRA_NAME: str
    MITRA_NAME_RE: str


class OtpRead(Answer):
    phone: str
    code: str
    wrong_attempts: int


class StateDump(BaseModel):
    """The whole state (tables, sockets, timers, events, webhook log, errors); open by design."""

    now: float
    tables: dict[str, Any]
    sockets: dict[str, int]
    timers: list[dict[str, Any]]
    events: list[Any]
    webhooks: list[dict[str, Any]]
    errors: list[Any]


class Discovery(Answer):
    """What ``--target URL`` reads: the capabilities this server really has, its fakes and callback token."""

    server: str
    capabilities: list[str]
    virtual_clock: bool
    xendit_callback_token: str | None
    fcm_url: str | None
    xendit_url: str | None


class Connections(Answer):
    sockets: dict[str, int]


class ResetDone(Answer):
    reset: bool
    seed: int


class ClockNow(Answer):
    now: float
    virtual: bool


class ClockAdvanced(ClockNow):
    fired: int


def _present(annotation: Any) -> Any:
    """``X | None`` → ``X``: a setting read back always has a value."""
    kept = [a for a in get_args(annotation) if a is not type(None)]
    return kept[0] if len(kept) == 1 else annotation


#: Every catalogued setting (halo_sim/contract/settings.py), each present: built from the catalogue.
SettingsNow: type[BaseModel] = create_model(
    "SettingsNow",
    __base__=Answer,
    **{name: (_present(f.annotation), ...) for name, f in TunableSettings.model_fields.items()},  # type: ignore[call-overload]
)
MitraRow = Mitra  # the admin's view of a mitra (password included): what the _test hooks answer
