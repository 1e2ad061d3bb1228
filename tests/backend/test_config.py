"""One configuration: flags > environment > ``./.env`` > defaults; ``.env.example`` and ``Settings`` agree."""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

import httpx
import pytest

from halo_sim.backend.config import SECRET_FIELDS, Settings
from halo_sim.stack import Stack
from simkit.xendit_wire import WEBHOOK_PATH

ROOT = Path(__file__).resolve().parents[2]


def _example_variables() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if line.strip() and not line.startswith("#"))


def test_env_example_lists_exactly_the_variables_settings_reads() -> None:
    assert set(_example_variables()) == {Settings.variable(name) for name in Settings.model_fields}


def test_env_example_values_are_the_defaults() -> None:
    """Copying .env.example to .env changes nothing: every listed value is the default."""
    example = Settings.from_env(environ=_example_variables())
    assert example.model_dump(exclude={"prices"}) == Settings().model_dump(exclude={"prices"})
    assert example.prices == Settings().prices


def _another_value(name: str) -> tuple[str, Any]:
    """A valid value different from the default, as the variable's text and as the parsed setting."""
    field = Settings.model_fields[name]
    default, annotation = field.get_default(call_default_factory=True), field.annotation
    if typing.get_origin(annotation) is typing.Literal:
        other = next(choice for choice in typing.get_args(annotation) if choice != default)
        return other, other
    if name == "prices":
        return json.dumps({"20": 20000}), {20: 20000}
    if annotation is bool:
        return str(not default).lower(), not default
    if annotation is int:
        return str(default + 7), default + 7
    if annotation is float:
        return str(default + 1.5), default + 1.5
    return "https://pinned.example/x", "https://pinned.example/x"


@pytest.mark.parametrize("name", list(Settings.model_fields))
def test_each_variable_sets_its_setting(name: str) -> None:
    text, expected = _another_value(name)
    assert getattr(Settings.from_env(environ={}), name) != expected
    assert getattr(Settings.from_env(environ={Settings.variable(name): text}), name) == expected


def test_dotenv_is_read_and_the_environment_and_flags_win(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("HALO_SEED=11\nHALO_OTP_MAX_ATTEMPTS=2\nHALO_SWEEP_INTERVAL_S=7\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HALO_OTP_MAX_ATTEMPTS", "3")
    settings = Settings.from_env(sweep_interval_s=9.0, seed=None)
    assert settings.seed == 11  # .env over the default; a flag not given (None) changes nothing
    assert settings.otp_max_attempts == 3  # the environment over .env
    assert settings.sweep_interval_s == 9.0  # the flag over .env


def test_effective_settings_show_secrets_only_as_set_or_unset() -> None:
    settings = Settings(test_token="tt-secret", xendit_callback_token="cb-secret", otp_dev_code="123456")
    shown = settings.effective()
    assert shown["HALO_TEST_TOKEN"] == "set" and shown["XENDIT_SECRET_KEY"] == "unset"
    assert not any(secret in value for value in shown.values() for secret in ("tt-secret", "cb-secret", "123456"))
    assert shown["HALO_SEED"] == "0" and shown["HALO_ENV"] == "dev"
    assert {Settings.variable(n) for n in SECRET_FIELDS} <= set(shown)


def test_the_stack_accepts_the_configured_callback_token_and_not_the_old_constant(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XENDIT_CALLBACK_TOKEN", "configured-callback-token")
    stack = Stack()
    try:
        assert stack.backend.settings.xendit_callback_token == "configured-callback-token"
        with httpx.Client(base_url=stack.urls()["backend"], timeout=10) as api:
            body = {"id": "inv-x", "external_id": "nope", "status": "PAID", "amount": 1}
            old = api.post(WEBHOOK_PATH, json=body, headers={"x-callback-token": "halo-sim-callback-token"})
            assert (old.status_code, old.json()["error"]) == (401, "INVALID_CALLBACK_TOKEN")
            right = api.post(WEBHOOK_PATH, json=body, headers={"x-callback-token": "configured-callback-token"})
            assert right.status_code == 200 and right.json()["reason"] == "UNKNOWN_PAYMENT"
    finally:
        stack.stop()


def test_unconfigured_xendit_secrets_are_random_per_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XENDIT_CALLBACK_TOKEN", raising=False)
    monkeypatch.delenv("XENDIT_SECRET_KEY", raising=False)
    stacks = [Stack(), Stack()]
    try:
        tokens = {s.xendit_callback_token for s in stacks}
        keys = {s.backend.settings.xendit_secret_key for s in stacks}
        assert len(tokens) == 2 and len(keys) == 2
        assert all(len(t) >= 32 for t in tokens)
        assert stacks[0].xendit.callback_token == stacks[0].xendit_callback_token  # the fake sends what is accepted
    finally:
        for stack in stacks:
            stack.stop()


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
