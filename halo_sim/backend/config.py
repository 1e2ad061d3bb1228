"""Configuration of the reference backend, from the environment like the Node backend's.

Every variable of the real backend's ``.env.example`` (``XENDIT_*``) and the FCM
settings keep their plain names; the simulator's own are ``HALO_<NAME>``.  See ``.env.example`` at the
repository root for the documented list.  One order everywhere (``serve``, the
embedded target, the tests): command-line flags (``overrides``) > the environment >
``./.env`` > the defaults below.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from simkit.envfile import environment

DEFAULT_PRICES = {15: 15000, 30: 25000, 60: 45000}
# Variables shared with the real backend keep their names; the simulator's own start with HALO_.
SHARED_PREFIXES = ("xendit_", "fcm_")
# Shown as set/unset when the effective settings are printed, never in clear.
SECRET_FIELDS = frozenset(
    {"test_token", "xendit_secret_key", "xendit_callback_token", "fcm_access_token", "otp_dev_code"}
)


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
    anon_login_limit: int = Field(default=60, description="Anonymous logins per client IP per rate window")
    otp_request_limit: int = Field(default=60, description="OTP requests per client IP per rate window")
    otp_phone_request_limit: int = Field(default=5, description="OTP requests per phone per rate window")
    rate_window_s: float = Field(default=60.0, description="The window of the login rate limits")
    mitra_max_password_attempts: int = Field(default=5, description="Wrong passwords before a mitra phone locks")
    mitra_lockout_s: float = Field(default=900.0, description="How long a locked mitra phone stays locked")
    checkpoint_interval_s: float = Field(default=30.0, description="serve --state-file: save this often (0: on stop)")
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

    @staticmethod
    def variable(name: str) -> str:
        """The environment variable of field ``name``."""
        return name.upper() if name.startswith(SHARED_PREFIXES) else f"HALO_{name.upper()}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read the documented variables (the environment over ``./.env``); overrides not None win."""
        env = environment() if environ is None else environ
        values: dict[str, object] = {}
        for name in cls.model_fields:
            if env.get(cls.variable(name), "") != "":
                values[name] = env[cls.variable(name)]
        values.update({name: value for name, value in overrides.items() if value is not None})
        return cls.model_validate(values)

    def effective(self) -> dict[str, str]:
        """Every variable with its effective value, secrets only as set/unset: what ``serve`` prints at start."""
        shown = self.model_dump()
        return {
            self.variable(name): ("set" if value else "unset") if name in SECRET_FIELDS else _shown(value)
            for name, value in shown.items()
        }

    def exposure_problem(self, host: str) -> str | None:
        """Why binding ``host`` would be unsafe: the test hooks open to the network without a token."""
        if not self.test_endpoints_enabled or self.test_token or is_loopback(host):
            return None
        return (
            f"refusing to serve /internal/_test/* on {host} without a test token: anyone on the network could "
            "reset or read everything; pass --test-token (or set HALO_TEST_TOKEN), bind 127.0.0.1, "
            "or set HALO_ENV=production"
        )


def _shown(value: object) -> str:
    """A setting as its variable would spell it: text as is, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def is_loopback(host: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``; a name or a missing address is not loopback."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False
