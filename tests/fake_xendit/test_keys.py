"""Which API keys fake Xendit takes: any test-mode key by default, one key when strict, never a live key."""

from __future__ import annotations

import base64
import logging
import re
import subprocess
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx
import pytest

from fake_xendit.errors import XenditError
from fake_xendit.keys import key_refusal, mask
from fake_xendit.models import XenditBackend
from simkit.clock import VirtualClock
from simkit.scheduler import Scheduler

if TYPE_CHECKING:
    from conftest import RunningFake

Factory = Callable[..., "RunningFake"]
DEV_KEY = "xnd_development_P4qDfOss0OCpl8RtKrROHjaQYNCk9dN5lSfk"  # the shape of a real backend's .env key
LIVE_KEY = "xnd_production_Zq81mPp0aLrT7XcE0dW3yKt6vB2"
XENDIT_401 = {"error_code": "INVALID_API_KEY", "message": "API key is invalid"}


def basic(username: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def refusal_reason(backend: XenditBackend, key: str) -> str | None:
    """None when the backend accepts ``key``, else the logged reason (the body is always Xendit's)."""
    try:
        backend.check_auth(basic(key))
    except XenditError as exc:
        assert (exc.status, exc.to_body()) == (401, XENDIT_401)
        return exc.reason
    return None


def backend(secret_key: str | None = None) -> XenditBackend:
    return XenditBackend(Scheduler(VirtualClock()), secret_key=secret_key)


def test_by_default_any_test_mode_key_is_accepted() -> None:
    lenient = backend()
    assert refusal_reason(lenient, DEV_KEY) is None
    assert refusal_reason(lenient, "xnd_development_another_teams_key") is None


@pytest.mark.parametrize(
    ("key", "why"),
    [
        (LIVE_KEY, "production key"),
        ("xnd_public_development_abc123", "public key"),
        ("xnd_development_", "not a test-mode secret key"),
        ("sk_test_stripe", "not a test-mode secret key"),
    ],
)
def test_by_default_other_keys_are_refused_with_the_reason(key: str, why: str) -> None:
    reason = refusal_reason(backend(), key)
    assert reason is not None and why in reason


def test_a_given_secret_key_makes_the_fake_strict() -> None:
    strict = backend("xnd_development_only_this_one")
    assert refusal_reason(strict, "xnd_development_only_this_one") is None
    reason = refusal_reason(strict, DEV_KEY)
    assert reason is not None and "not the one this fake was started with" in reason


def test_a_production_key_is_refused_even_when_configured() -> None:
    reason = refusal_reason(backend(LIVE_KEY), LIVE_KEY)
    assert reason is not None and reason.startswith("production key")


def test_configuring_the_key_to_null_goes_back_to_any_test_key() -> None:
    fake = backend("xnd_development_only_this_one")
    assert refusal_reason(fake, DEV_KEY) is not None
    assert fake.configure({"secret_key": None})["secret_key"] is None
    assert refusal_reason(fake, DEV_KEY) is None


@pytest.mark.parametrize(
    ("header", "why"),
    [(None, "no HTTP Basic"), (basic(DEV_KEY, "pw"), "password must be empty"), ("Basic !!!", "base64")],
)
def test_unreadable_credentials_are_refused_with_the_reason(header: str | None, why: str) -> None:
    with pytest.raises(XenditError) as caught:
        backend().check_auth(header)
    assert caught.value.reason is not None and why in caught.value.reason


def test_a_logged_key_is_masked_never_whole() -> None:
    assert mask(LIVE_KEY) == "xnd_production_…" + LIVE_KEY[-4:]
    assert LIVE_KEY not in (key_refusal(LIVE_KEY, None) or "")


def test_refused_requests_are_logged_with_the_reason(fake_factory: Factory, caplog: pytest.LogCaptureFixture) -> None:
    fake = fake_factory(secret_key=None)
    caplog.set_level(logging.INFO, logger="fake_xendit")
    with httpx.Client(base_url=fake.url, auth=(LIVE_KEY, ""), trust_env=False) as client:
        response = client.post("/v2/invoices", json={"external_id": "x", "amount": 1})
    assert (response.status_code, response.json()) == (401, XENDIT_401)
    refused = [r.getMessage() for r in caplog.records if r.name == "fake_xendit"]
    assert refused == [f"refused POST /v2/invoices: 401 INVALID_API_KEY, {key_refusal(LIVE_KEY, None)}"]
    assert LIVE_KEY not in refused[0]


def test_other_refusals_are_logged_with_their_message(fake_factory: Factory, caplog: pytest.LogCaptureFixture) -> None:
    fake = fake_factory(secret_key=None)
    caplog.set_level(logging.INFO, logger="fake_xendit")
    with httpx.Client(base_url=fake.url, auth=(DEV_KEY, ""), trust_env=False) as client:
        assert client.get("/v2/invoices/nope").json()["error_code"] == "INVOICE_NOT_FOUND_ERROR"
    refused = [r.getMessage() for r in caplog.records if r.name == "fake_xendit"]
    assert refused == [
        "refused GET /v2/invoices/nope: 404 INVOICE_NOT_FOUND_ERROR, Could not find invoice with id nope"
    ]


def test_python_m_fake_xendit_takes_any_test_key_by_default_and_logs_a_refused_live_key() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "fake_xendit", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)", banner)
        assert match is not None and "accepts any test-mode key" in banner
        body = {"external_id": "cli", "amount": 1000}
        with httpx.Client(base_url=match.group(1), trust_env=False) as client:
            assert client.post("/v2/invoices", json=body, auth=(DEV_KEY, "")).status_code == 200
            assert client.post("/v2/invoices", json=body, auth=(LIVE_KEY, "")).status_code == 401
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert "fake_xendit: WARNING refused POST /v2/invoices: 401 INVALID_API_KEY, production key" in stderr
