"""The ``_test`` surface is safe by default: loopback only without a token, JSON-only writes, off in
production, secrets redacted from the state dump, and tokens and codes never derived from the seed.

A client elsewhere on the network is played by a loopback request carrying ``X-Forwarded-For``:
uvicorn trusts that header from 127.0.0.1 only (a local reverse proxy), so the backend sees the
forwarded address as the peer, as it would for a real remote client behind such a proxy.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from halo_sim.backend.config import Settings, is_loopback
from halo_sim.backend.routes.internal import _TABLE, PREFIX
from halo_sim.backend.state import REDACTED, ReferenceBackend
from simkit.clock import VirtualClock
from simkit.scheduler import Scheduler
from simkit.server import ServerThread

Serve = Callable[..., tuple[ReferenceBackend, ServerThread]]
REMOTE = {"x-forwarded-for": "203.0.113.9"}
TOKEN = "guard-test-token"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("localhost", True),
        ("10.0.2.2", False),
        ("192.168.1.20", False),
        ("0.0.0.0", False),
        ("::", False),
        ("example.com", False),
        (None, False),
    ],
)
def test_loopback_is_127_slash_8_and_ipv6_one(host: str | None, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize("hook", ["state", "otp?phone=%2B62811", "connections", "clock"])
def test_without_a_token_a_remote_client_gets_403_loopback_only(serve: Serve, hook: str) -> None:
    _, server = serve(env="test")
    with httpx.Client(base_url=server.url, timeout=10) as client:
        remote = client.get(f"{PREFIX}/{hook}", headers=REMOTE)
        assert (remote.status_code, remote.json()["error"]) == (403, "LOOPBACK_ONLY")
        assert client.get(f"{PREFIX}/state").status_code == 200  # the same call from loopback


def test_a_remote_reset_without_a_token_wipes_nothing(serve: Serve) -> None:
    _, server = serve(env="test")
    with httpx.Client(base_url=server.url, timeout=10) as client:
        client.post("/api/customer/auth/anonymous").raise_for_status()
        refused = client.post(f"{PREFIX}/reset", json={}, headers=REMOTE)
        assert (refused.status_code, refused.json()["error"]) == (403, "LOOPBACK_ONLY")
        assert len(client.get(f"{PREFIX}/state").json()["tables"]["customers"]) == 1


def test_with_a_token_a_remote_client_is_served_when_it_presents_it(serve: Serve) -> None:
    _, server = serve(env="test", test_token=TOKEN)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        assert client.get(f"{PREFIX}/state", headers={**REMOTE, "x-test-token": TOKEN}).status_code == 200
        refused = client.get(f"{PREFIX}/state", headers=REMOTE)
        assert (refused.status_code, refused.json()["error"]) == (401, "TEST_TOKEN_REQUIRED")


def test_the_control_center_config_write_is_loopback_only_without_a_token(serve: Serve) -> None:
    _, server = serve(env="test")
    body = {"support": {"whatsapp": "https://wa.me/620000"}}
    with httpx.Client(base_url=server.url, timeout=10) as client:
        remote = client.put("/api/control-center/config", json=body, headers=REMOTE)
        assert (remote.status_code, remote.json()["error"]) == (403, "LOOPBACK_ONLY")
        assert client.get("/api/config").json()["support"]["whatsapp"] != "https://wa.me/620000"


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"content-type": "text/plain"}, id="text-plain"),
        pytest.param({"content-type": "application/x-www-form-urlencoded"}, id="form"),
        pytest.param({"content-type": "multipart/form-data; boundary=x"}, id="multipart"),
        pytest.param({}, id="no-content-type"),
    ],
)
def test_a_cross_site_simple_post_is_415_and_wipes_nothing(serve: Serve, headers: dict[str, str]) -> None:
    """A browser page can send these without a CORS preflight; none may change anything."""
    _, server = serve(env="test")
    with httpx.Client(base_url=server.url, timeout=10) as client:
        client.post("/api/customer/auth/anonymous").raise_for_status()
        refused = client.post(f"{PREFIX}/reset", content=b'{"seed": 1}', headers=headers)
        assert (refused.status_code, refused.json()["error"]) == (415, "JSON_REQUIRED")
        put = client.put("/api/control-center/config", content=b"{}", headers=headers)
        assert (put.status_code, put.json()["error"]) == (415, "JSON_REQUIRED")
        assert len(client.get(f"{PREFIX}/state").json()["tables"]["customers"]) == 1
        ok = client.post(f"{PREFIX}/reset", json={})
        assert ok.status_code == 200 and client.get(f"{PREFIX}/state").json()["tables"]["customers"] == []


def test_a_json_type_with_a_charset_is_accepted(serve: Serve) -> None:
    _, server = serve(env="test")
    with httpx.Client(base_url=server.url, timeout=10) as client:
        headers = {"content-type": "application/json; charset=utf-8"}
        assert client.post(f"{PREFIX}/reset", content=b"{}", headers=headers).status_code == 200


@pytest.mark.parametrize(("path", "method"), [(p, m) for p, _, methods in _TABLE for m in methods])
def test_production_turns_every_test_hook_off(serve: Serve, path: str, method: str) -> None:
    _, server = serve(env="production")
    with httpx.Client(base_url=server.url, timeout=10) as client:
        answer = client.request(method, f"{PREFIX}/{path}", json={} if method != "GET" else None)
        assert (answer.status_code, answer.json()["error"]) == (404, "ROUTE_NOT_FOUND")


def test_production_turns_the_control_center_config_write_off(serve: Serve) -> None:
    _, server = serve(env="production")
    with httpx.Client(base_url=server.url, timeout=10) as client:
        answer = client.put("/api/control-center/config", json={})
        assert (answer.status_code, answer.json()["error"]) == (404, "ROUTE_NOT_FOUND")


def test_the_state_dump_redacts_tokens_and_passwords_unless_asked(serve: Serve) -> None:
    _, server = serve(env="test")
    with httpx.Client(base_url=server.url, timeout=10) as client:
        token = client.post("/api/customer/auth/anonymous").json()["token"]
        mitra = {"phone": "+6281177700001", "display_name": "Rani", "password": "pw-secret-1"}
        client.post(f"{PREFIX}/seed-mitra", json=mitra).raise_for_status()
        dump = client.get(f"{PREFIX}/state")
        assert token not in dump.text and "pw-secret-1" not in dump.text
        tables = dump.json()["tables"]
        assert [s["token"] for s in tables["auth_sessions"]] == [REDACTED]
        assert [m["password"] for m in tables["mitras"]] == [REDACTED]
        full = client.get(f"{PREFIX}/state", params={"secrets": "true"}).json()["tables"]
        assert [s["token"] for s in full["auth_sessions"]] == [token]
        assert [m["password"] for m in full["mitras"]] == ["pw-secret-1"]


# --- secrets never come from the seed -------------------------------------------------------------------


def _backend(seed: int = 0) -> ReferenceBackend:
    return ReferenceBackend(Settings(seed=seed), Scheduler(VirtualClock()))


def test_two_backends_with_the_same_seed_issue_different_tokens_but_the_same_ids() -> None:
    first, second = _backend(), _backend()
    (token_1, customer_1), (token_2, customer_2) = first.auth.login_anonymous(), second.auth.login_anonymous()
    assert token_1 != token_2
    assert customer_1.id == customer_2.id  # what scenarios compare stays reproducible


def test_tokens_carry_at_least_128_bits() -> None:
    token, _ = _backend().auth.login_anonymous()
    assert len(token) >= 32 and int(token, 16) >= 0  # hex: 4 bits per character
    assert len(token) * 4 >= 128


def test_two_backends_with_the_same_seed_issue_different_otp_codes() -> None:
    first, second = _backend(), _backend()
    codes_1 = [first.auth.request_otp(f"+62811000{i:04d}").code for i in range(5)]
    codes_2 = [second.auth.request_otp(f"+62811000{i:04d}").code for i in range(5)]
    assert codes_1 != codes_2  # five 6-digit codes: equal by chance once in 10^30
    assert all(len(code) == 6 and code.isdigit() for code in codes_1 + codes_2)


@pytest.fixture(scope="module")
def serve(serve_backend: Serve) -> Serve:
    """``serve_backend`` under a shorter name."""
    return serve_backend
