"""Request bodies and query parameters of the reference backend's HTTP surface (pydantic v2).

Unknown fields are refused so a client sending ``notification_enabled`` instead
of ``notifications_enabled`` learns it at once instead of silently getting the
default.  Every string is a constrained type of :mod:`halo_sim.contract.fields`
(no NUL, no lone surrogate, bounded length) and every number is finite and
bounded, so nothing a Postgres column would refuse is ever stored.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from halo_sim.contract.fields import (
    Clean,
    DeviceToken,
    Id,
    Label,
    LongText,
    Metadata,
    Name,
    PhoneRef,
    Secret,
)

MAX_MINUTES = 24 * 60
MAX_LIST = 50  # prices, topics: a control center or a seed never needs more


class Body(BaseModel):
    """Base of every request body: unknown fields refused, JSON types as sent (no "30" for 30), finite numbers."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class Query(BaseModel):
    """Base of every query-parameter model: values arrive as strings and are converted; others are ignored."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)


class OtpRequest(Body):
    phone: PhoneRef = Field(min_length=6, max_length=20)


class OtpVerify(Body):
    phone: PhoneRef
    code: Secret


class DisplayName(Body):
    display_name: Name


class MitraLogin(Body):
    phone: PhoneRef
    password: Secret


class DeviceRegistration(Body):
    fcm_token: DeviceToken
    platform: Literal["android", "ios", "web"] = "android"
    notifications_enabled: bool = True


class OnlineToggle(Body):
    online: bool


class PaymentCreate(Body):
    duration_minutes: int = Field(gt=0, le=MAX_MINUTES, description="Must also be one of the priced durations.")
    product: Label = "chat"
    metadata: Metadata = Field(default_factory=dict)
    targeted_mitra_id: Id | None = None
    topic_sensitivity: Label | None = None


class ChatRequest(Body):
    payment_request_id: Id


class PairingRetry(Body):
    payment_request_id: Id
    mode: Literal["same", "blast"] = "same"


class MessageCreate(Body):
    text: LongText


class PricePoint(Body):
    duration_minutes: int = Field(gt=0, le=MAX_MINUTES)
    amount: int = Field(ge=0, le=100_000_000)


_Url = Annotated[str, Field(max_length=500), Clean]


class SupportHandles(Body):
    whatsapp: _Url | None = Field(default=None, pattern=r"^(https://|whatsapp://)\S+$")
    telegram: _Url | None = Field(default=None, pattern=r"^(https://|tg://)\S+$")


class ConfigUpdate(Body):
    """What the control center may change at run time; absent parts stay as they are."""

    prices: list[PricePoint] | None = Field(default=None, min_length=1, max_length=MAX_LIST)
    support: SupportHandles | None = None


# --- /internal/_test ---------------------------------------------------------------


class PhoneBody(Body):
    phone: PhoneRef


class PaymentRef(Body):
    payment_request_id: Id | None = None
    phone: PhoneRef | None = None
    lose_event: bool = Field(default=False, description="confirm without the event: a crash between commit and emit")


class MitraRef(Body):
    mitra_id: Id | None = None
    mitra_phone: PhoneRef | None = None


class SessionMessage(Body):
    session_id: Id | None = None
    customer_phone: PhoneRef | None = None
    text: LongText


class RawPush(Body):
    session_id: Id | None = None
    customer_phone: PhoneRef | None = None
    to: Literal["customer", "mitra"] = "customer"
    title: Label = "Halo"
    body: LongText = "Pesan baru"


class MitraSeed(Body):
    phone: PhoneRef
    display_name: Name
    password: Secret = "bestie123"
    id: Id | None = None
    topics: list[Name] = Field(default_factory=list, max_length=MAX_LIST)


class MitraExclude(Body):
    exclude_mitra_id: Id | None = None
    exclude_mitra_phone: PhoneRef | None = None


class HistorySeed(Body):
    customer_phone: PhoneRef
    mitra_phone: PhoneRef | None = None
    mitra_display_name: Name | None = None
    topics: list[Name] | None = Field(
        default=None, max_length=MAX_LIST, description="replaces the mitra's topics when given"
    )
    duration_minutes: int = Field(default=30, gt=0, le=MAX_MINUTES)
    days_ago: float = Field(default=1.0, ge=0, le=3650)


class ClockAdvance(Body):
    seconds: float = Field(ge=0, le=366 * 24 * 3600, description="At most a year per step.")


class SettingsChange(RootModel[dict[str, Any]]):
    """``PUT /internal/_test/settings``: any JSON object; the settings service judges each name and value."""


class ResetAll(Body):
    seed: int | None = Field(default=None, ge=0, le=2**63 - 1)


# --- query parameters -----------------------------------------------------------------------


class MessagesQuery(Query):
    after_seq: int = Field(default=0, ge=0, le=2**31 - 1, description="Messages after this seq.")


class StatsStreamQuery(Query):
    interval: float = Field(default=1.0, ge=0, le=3600, description="Seconds between events (0.05 at least).")
    limit: int = Field(default=0, ge=0, le=1_000_000, description="Events to send; 0 = until the client leaves.")


class OtpQuery(Query):
    phone: PhoneRef
    role: Literal["customer", "mitra"] = "customer"


class SessionQuery(Query):
    session_id: Id | None = None
    customer_phone: PhoneRef | None = None
    phone: PhoneRef | None = None
