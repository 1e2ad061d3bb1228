"""Abuse limits: anonymous-login and OTP-request rate limits, and the mitra password lockout.

Each runs on a bare backend with small limits on a virtual clock: the window or the lock ends
when the test advances the clock, never by waiting.  Other clients are played with
``X-Forwarded-For`` (trusted by uvicorn from loopback only).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from halo_sim.backend.routes.internal import PREFIX
from halo_sim.backend.services import limits
from halo_sim.backend.services.limits import Lockout, RateLimit
from halo_sim.backend.state import ReferenceBackend
from simkit.server import ServerThread

Serve = Callable[..., tuple[ReferenceBackend, ServerThread]]
MITRA = {"phone": "+6281166600001", "display_name": "Rani", "password": "right-pw"}


@pytest.fixture
def client(serve_backend: Serve) -> Iterator[httpx.Client]:
    _, server = serve_backend(
        env="test",
        anon_login_limit=3,
        otp_request_limit=4,
        otp_phone_request_limit=2,
        rate_window_s=60.0,
        mitra_max_password_attempts=3,
        mitra_lockout_s=300.0,
    )
    with httpx.Client(base_url=server.url, timeout=10) as http:
        yield http


def _advance(client: httpx.Client, seconds: float) -> None:
    client.post(f"{PREFIX}/clock", json={"seconds": seconds}).raise_for_status()


def _refused(response: httpx.Response, code: str) -> int:
    """Assert a 429 with ``code``; the seconds it says to wait (body and Retry-After agree)."""
    assert (response.status_code, response.json()["error"]) == (429, code), response.text
    retry = int(response.json()["retry_after_s"])
    assert retry > 0 and response.headers["retry-after"] == str(retry)
    return retry


def test_anonymous_logins_are_limited_per_client_per_window(client: httpx.Client) -> None:
    for _ in range(3):
        assert client.post("/api/customer/auth/anonymous").status_code == 200
    assert _refused(client.post("/api/customer/auth/anonymous"), "RATE_LIMITED") == 60
    other = client.post("/api/customer/auth/anonymous", headers={"x-forwarded-for": "198.51.100.7"})
    assert other.status_code == 200  # another client has its own budget
    assert len(client.get(f"{PREFIX}/state").json()["tables"]["customers"]) == 4  # the refused one made no row
    _advance(client, 60)
    assert client.post("/api/customer/auth/anonymous").status_code == 200


def test_otp_requests_are_limited_per_phone(client: httpx.Client) -> None:
    for _ in range(2):
        assert client.post("/api/customer/auth/otp/request", json={"phone": "+6281200000001"}).status_code == 200
    _refused(client.post("/api/customer/auth/otp/request", json={"phone": "+6281200000001"}), "RATE_LIMITED")
    assert client.post("/api/customer/auth/otp/request", json={"phone": "+6281200000002"}).status_code == 200


def test_otp_requests_are_limited_per_client_across_phones(client: httpx.Client) -> None:
    for i in range(4):
        assert client.post("/api/customer/auth/otp/request", json={"phone": f"+628130000000{i}"}).status_code == 200
    _refused(client.post("/api/customer/auth/otp/request", json={"phone": "+6281300000009"}), "RATE_LIMITED")
    _advance(client, 60)
    assert client.post("/api/customer/auth/otp/request", json={"phone": "+6281300000009"}).status_code == 200


def _login(client: httpx.Client, password: str, phone: str = MITRA["phone"]) -> httpx.Response:
    return client.post("/api/mitra/auth/login", json={"phone": phone, "password": password})


def test_wrong_passwords_lock_the_mitra_phone_even_for_the_right_password(client: httpx.Client) -> None:
    client.post(f"{PREFIX}/seed-mitra", json=MITRA).raise_for_status()
    first = _login(client, "wrong")
    assert (first.status_code, first.json()["error"], first.json()["attempts_left"]) == (401, "INVALID_CREDENTIALS", 2)
    assert _login(client, "wrong").json()["attempts_left"] == 1
    assert _refused(_login(client, "wrong"), "PASSWORD_LOCKED") == 300
    _refused(_login(client, "right-pw"), "PASSWORD_LOCKED")
    _advance(client, 300)
    assert _login(client, "right-pw").status_code == 200


def test_a_successful_login_forgets_the_wrong_passwords(client: httpx.Client) -> None:
    client.post(f"{PREFIX}/seed-mitra", json=MITRA).raise_for_status()
    for _ in range(2):
        assert _login(client, "wrong").status_code == 401
    assert _login(client, "right-pw").status_code == 200
    assert _login(client, "wrong").json()["attempts_left"] == 2


def test_an_unknown_phone_locks_alike_so_answers_tell_nothing_about_who_exists(client: httpx.Client) -> None:
    answers = [_login(client, "guess", phone="+6289999999999") for _ in range(3)]
    assert [a.status_code for a in answers] == [401, 401, 429]
    assert answers[0].json()["attempts_left"] == 2


def test_the_limits_keep_a_bounded_number_of_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_KEYS", 50)
    rate, lockout = RateLimit(1, 60.0, lambda: 0.0), Lockout(3, 60.0, lambda: 0.0)
    for i in range(500):
        rate.hit(f"ip-{i}")
        lockout.strike(f"phone-{i}")
    assert len(rate.windows) == 50 and len(lockout.strikes) == 50
    assert rate.hit("ip-499") == 60  # the newest keys are the ones kept
