"""Configuration of the reference backend, from the environment like the Node backend's.

Every variable of the real backend's ``.env.example`` (``XENDIT_*``) and the FCM
settings keep their plain names; the simulator's own are ``HALO_<NAME>``.  See ``.env.example`` at the
repository root for the documented list.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, Field, field_validator

DEFAULT_PRICES = {15: 15000, 30: 25000, 60: 45000}
# Variables shared with the real backend keep their names; the simulator's own start with HALO_.
SHARED_PREFIXES = ("xendit_", "fcm_")


class Settings(BaseModel):
    """Everything the reference backend can be told at start-up."""

    env: Literal["dev", "test", "production"] = "dev"
    test_token: str | None = Field(default=None, description="When set, /internal/_test/* needs header x-test-token")
    seed: int = 0

    fcm_base_url: str = "https://fcm.googleapis.com"
    fcm_project_id: str = "halo-dev"
    fcm_access_token: str = "fake-fcm-access-token"
    fcm_timeout_s: float = 5.0

    xendit_enabled: bool = False
    xendit_secret_key: str = ""
    xendit_callback_token: str = ""
    xendit_base_url: str = "https://api.xendit.co"

    heartbeat_interval_s: float = 30.0
    heartbeat_timeout_s: float = 90.0
    otp_max_attempts: int = 5
    otp_block_s: float = 900.0
    otp_dev_code: str | None = None
    pairing_timeout_s: float = 300.0
    targeted_timeout_s: float = 20.0
    max_pairing_attempts: int = 3
    session_warning_s: int = 60
    support_whatsapp: str = "https://wa.me/6281100009999"
    support_telegram: str = "https://t.me/halo_support"
    payment_expiry_s: int = 86400
    paid_validity_s: float = Field(default=86400.0, description="How long a confirmed payment may start pairing")
    sweep_interval_s: float = 60.0
    prices: dict[int, int] = Field(default_factory=lambda: dict(DEFAULT_PRICES))

    @field_validator("prices", mode="before")
    @classmethod
    def _prices_from_json(cls, value: object) -> object:
        """``HALO_PRICES`` arrives as JSON text from the environment."""
        return json.loads(value) if isinstance(value, str) else value

    @property
    def test_endpoints_enabled(self) -> bool:
        """``/internal/_test/*`` exists only in dev and test, as in the real backend."""
        return self.env in ("dev", "test")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read the documented variables; explicit overrides win."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name in cls.model_fields:
            key = name.upper() if name.startswith(SHARED_PREFIXES) else f"HALO_{name.upper()}"
            if env.get(key, "") != "":
                values[name] = env[key]
        values.update(overrides)
        return cls.model_validate(values)
