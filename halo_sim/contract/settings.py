"""The settings a test run may change while the backend runs: one catalogue for both sides.

The backend validates ``PUT /internal/_test/settings`` with it and the scenario loader
validates a scenario's top-level ``settings:`` with it, so a name or type the backend
would refuse is a file:line error before anything runs.  It lives in the contract
because both the backend and the engine may import it (the engine never imports the
backend).  Every name is a field of the backend's start-up ``Settings`` (its variable is
``HALO_<NAME>``; ``tests/contract/test_settings_catalogue.py`` checks it), except that
``prices`` and the support handles are the control center's live values (the
``app_config`` row), as ``PUT /api/control-center/config`` sees them.

Only settings the services read when they use them are here: a change applies to what
happens next (a pairing attempt started after it, the next heartbeat check, the next
payment), never to a timer already running.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from halo_sim.contract.fields import Clean

DAY_S = 24 * 3600
MAX_MINUTES = 24 * 60
MAX_PRICES = 50

_Url = Annotated[str, Field(max_length=500), Clean]
_Seconds = Annotated[float, Field(gt=0, le=31 * DAY_S)]


class SettingPrice(BaseModel):
    """One priced session duration (the shape of the control center's prices)."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    duration_minutes: int = Field(gt=0, le=MAX_MINUTES)
    amount: int = Field(ge=0, le=100_000_000)


class TunableSettings(BaseModel):
    """Every setting a scenario (or ``PUT /internal/_test/settings``) may change; absent ones stay as they are."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    max_pairing_attempts: int | None = Field(
        default=None, ge=1, le=100, description="Failed blasts before pairing a payment is terminal"
    )
    pairing_timeout_s: _Seconds | None = Field(default=None, description="How long a blast searches")
    targeted_timeout_s: _Seconds | None = Field(
        default=None, description="How long a targeted offer waits for its bestie"
    )
    heartbeat_interval_s: _Seconds | None = Field(default=None, description="The heartbeat period told to mitras")
    heartbeat_timeout_s: _Seconds | None = Field(
        default=None, description="Silence after which a mitra counts as offline (the lapse)"
    )
    session_warning_s: int | None = Field(
        default=None, ge=0, le=DAY_S, description="Seconds before a session's end that the warning is sent"
    )
    paid_validity_s: _Seconds | None = Field(default=None, description="How long a confirmed payment may start pairing")
    payment_expiry_s: int | None = Field(
        default=None, ge=1, le=31 * DAY_S, description="Lifetime of a new payment (its invoice's duration)"
    )
    otp_max_attempts: int | None = Field(default=None, ge=1, le=100, description="Wrong OTP codes before a block")
    otp_block_s: _Seconds | None = Field(default=None, description="How long a phone stays blocked after them")
    prices: list[SettingPrice] | None = Field(
        default=None, min_length=1, max_length=MAX_PRICES, description="Session durations and their prices"
    )
    support_whatsapp: _Url | None = Field(
        default=None, pattern=r"^(https://|whatsapp://)\S+$", description="The WhatsApp support link"
    )
    support_telegram: _Url | None = Field(
        default=None, pattern=r"^(https://|tg://)\S+$", description="The Telegram support link"
    )

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, raw: Any) -> Any:
        """``null`` is not a value of any setting (leave a setting out to keep it)."""
        if isinstance(raw, dict):
            nulls = sorted(str(k) for k, v in raw.items() if v is None)
            if nulls:
                raise ValueError(f"settings {nulls} are null; leave a setting out to keep its value")
        return raw

    def changes(self) -> dict[str, Any]:
        """The settings given, as JSON-ready values."""
        return self.model_dump(mode="json", exclude_unset=True)


#: The catalogue: every setting's name and what it means, in one place.
SETTINGS: dict[str, str] = {name: field.description or "" for name, field in TunableSettings.model_fields.items()}
#: The settings that are the control center's live configuration (the ``app_config`` row).
CONFIG_SETTINGS = ("prices", "support_whatsapp", "support_telegram")
