"""Request bodies of the reference backend's HTTP and WS surface (pydantic v2).

Unknown fields are refused so a client sending ``notification_enabled`` instead
of ``notifications_enabled`` learns it at once instead of silently getting the
default.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Body(BaseModel):
    """Base of every request body: strict about unknown fields."""

    model_config = ConfigDict(extra="forbid")


class OtpRequest(Body):
    phone: str = Field(min_length=6, max_length=20)


class OtpVerify(Body):
    phone: str
    code: str


class DisplayName(Body):
    display_name: str


class MitraLogin(Body):
    phone: str
    password: str


class DeviceRegistration(Body):
    fcm_token: str = Field(min_length=1)
    platform: Literal["android", "ios", "web"] = "android"
    notifications_enabled: bool = True


class OnlineToggle(Body):
    online: bool


class PaymentCreate(Body):
    duration_minutes: int
    product: str = "chat"
    metadata: dict[str, Any] = Field(default_factory=dict)
    targeted_mitra_id: str | None = None
    topic_sensitivity: str | None = None


class ChatRequest(Body):
    payment_request_id: str


class PairingRetry(Body):
    payment_request_id: str
    mode: Literal["same", "blast"] = "same"


class MessageCreate(Body):
    text: str = Field(max_length=4000)


class PricePoint(Body):
    duration_minutes: int = Field(gt=0, le=24 * 60)
    amount: int = Field(ge=0)


class SupportHandles(Body):
    whatsapp: str | None = Field(default=None, pattern=r"^(https://|whatsapp://)\S+$", max_length=500)
    telegram: str | None = Field(default=None, pattern=r"^(https://|tg://)\S+$", max_length=500)


class ConfigUpdate(Body):
    """What the control center may change at run time; absent parts stay as they are."""

    prices: list[PricePoint] | None = Field(default=None, min_length=1)
    support: SupportHandles | None = None


# --- /internal/_test ---------------------------------------------------------------


class PhoneRef(Body):
    phone: str


class PaymentRef(Body):
    payment_request_id: str | None = None
    phone: str | None = None
    lose_event: bool = Field(default=False, description="confirm without the event: a crash between commit and emit")


class MitraRef(Body):
    mitra_id: str | None = None
    mitra_phone: str | None = None


class SessionMessage(Body):
    session_id: str | None = None
    customer_phone: str | None = None
    text: str


class RawPush(Body):
    session_id: str | None = None
    customer_phone: str | None = None
    to: Literal["customer", "mitra"] = "customer"
    title: str = "Halo"
    body: str = "Pesan baru"


class MitraSeed(Body):
    phone: str
    display_name: str
    password: str = "bestie123"
    id: str | None = None
    topics: list[str] = Field(default_factory=list)


class MitraExclude(Body):
    exclude_mitra_id: str | None = None
    exclude_mitra_phone: str | None = None


class HistorySeed(Body):
    customer_phone: str
    mitra_phone: str | None = None
    mitra_display_name: str | None = None
    topics: list[str] | None = Field(default=None, description="replaces the mitra's topics when given")
    duration_minutes: int = 30
    days_ago: float = 1.0


class ClockAdvance(Body):
    seconds: float = Field(ge=0)


class ResetAll(Body):
    seed: int | None = None
