"""``Settings.from_env``: every variable ``.env.example`` documents is read, under its documented name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dotenv import dotenv_values

from halo_sim.backend.config import Settings

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"

# Documented variable -> (Settings field, a raw value unlike the default, what it parses to).
SAMPLES: dict[str, tuple[str, str, Any]] = {
    "XENDIT_ENABLED": ("xendit_enabled", "true", True),
    "XENDIT_SECRET_KEY": ("xendit_secret_key", "xnd_development_sample", "xnd_development_sample"),
    "XENDIT_CALLBACK_TOKEN": ("xendit_callback_token", "cb-sample", "cb-sample"),
    "XENDIT_BASE_URL": ("xendit_base_url", "http://127.0.0.1:9001", "http://127.0.0.1:9001"),
    "HALO_ENV": ("env", "production", "production"),
    "HALO_TEST_TOKEN": ("test_token", "shared-host-token", "shared-host-token"),
    "HALO_SEED": ("seed", "42", 42),
    "FCM_BASE_URL": ("fcm_base_url", "http://127.0.0.1:9002", "http://127.0.0.1:9002"),
    "FCM_PROJECT_ID": ("fcm_project_id", "halo-staging", "halo-staging"),
    "FCM_ACCESS_TOKEN": ("fcm_access_token", "ya29.sample", "ya29.sample"),
    "HALO_HEARTBEAT_INTERVAL_S": ("heartbeat_interval_s", "7", 7.0),
    "HALO_HEARTBEAT_TIMEOUT_S": ("heartbeat_timeout_s", "21.5", 21.5),
    "HALO_OTP_MAX_ATTEMPTS": ("otp_max_attempts", "2", 2),
    "HALO_OTP_BLOCK_S": ("otp_block_s", "60", 60.0),
    "HALO_OTP_DEV_CODE": ("otp_dev_code", "123456", "123456"),
    "HALO_PAIRING_TIMEOUT_S": ("pairing_timeout_s", "120", 120.0),
    "HALO_TARGETED_TIMEOUT_S": ("targeted_timeout_s", "9", 9.0),
    "HALO_MAX_PAIRING_ATTEMPTS": ("max_pairing_attempts", "4", 4),
    "HALO_PAYMENT_EXPIRY_S": ("payment_expiry_s", "3600", 3600),
    "HALO_SWEEP_INTERVAL_S": ("sweep_interval_s", "15", 15.0),
}


def documented() -> dict[str, str | None]:
    return dict(dotenv_values(ENV_EXAMPLE))


def test_every_documented_variable_has_a_sample_here() -> None:
    """A variable added to .env.example without a test here fails, so none goes unread."""
    assert sorted(documented()) == sorted(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_documented_variable_is_read_under_its_documented_name(name: str) -> None:
    field, raw, expected = SAMPLES[name]
    assert getattr(Settings(), field) != expected  # the sample must differ from the default to prove anything
    assert getattr(Settings.from_env({name: raw}), field) == expected


def test_the_documented_values_are_the_defaults() -> None:
    """Copying .env.example to .env changes nothing: the file and the code agree."""
    assert Settings.from_env({k: v or "" for k, v in documented().items()}) == Settings()


def test_shared_variables_have_no_halo_prefix() -> None:
    """XENDIT_* and FCM_* are the real backend's names; a HALO_-prefixed copy is not read."""
    settings = Settings.from_env({"HALO_FCM_BASE_URL": "http://elsewhere", "HALO_XENDIT_ENABLED": "true"})
    assert (settings.fcm_base_url, settings.xendit_enabled) == (Settings().fcm_base_url, False)


def test_an_empty_value_means_unset() -> None:
    settings = Settings.from_env({"HALO_SEED": "", "HALO_OTP_DEV_CODE": "", "FCM_PROJECT_ID": ""})
    assert (settings.seed, settings.otp_dev_code, settings.fcm_project_id) == (0, None, "halo-dev")


def test_explicit_overrides_win_over_the_environment() -> None:
    assert Settings.from_env({"HALO_SEED": "42"}, seed=7).seed == 7


def test_without_a_mapping_the_process_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HALO_PAIRING_TIMEOUT_S", "45")
    monkeypatch.setenv("XENDIT_CALLBACK_TOKEN", "from-process-env")
    settings = Settings.from_env()
    assert (settings.pairing_timeout_s, settings.xendit_callback_token) == (45.0, "from-process-env")


def test_production_env_from_the_environment_removes_the_test_endpoints() -> None:
    assert Settings.from_env({"HALO_ENV": "test"}).test_endpoints_enabled is True
    assert Settings.from_env({"HALO_ENV": "production"}).test_endpoints_enabled is False
