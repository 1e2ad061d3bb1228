"""The authorization matrix: every HTTP route × (other customer, other mitra, wrong role, forged token, no token).

The route list comes from the app itself (``create_app(...).routes``), so a new route
without a row in ``POLICY`` fails ``test_every_route_has_an_access_policy``; every
``/internal/_test/*`` route is checked as ``guarded`` without being listed.  Each case
expects the documented refusal (status and code, docs/contract.md "Auth"), or for a
route acting on the caller's own data (``own``) a 2xx; either way the answer never
carries the victim's id, token or invoice.

The world, on one bare backend with a test token: customer A in an active session S1
(payment P1) with mitra M1; customer C's blast S2 offered to mitra M3 only; customer
B and mitra M2 are the strangers (M2 stays offline, so it is offered nothing).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.routing import Route, WebSocketRoute
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from halo_sim.backend.app import create_app
from halo_sim.backend.config import Settings
from halo_sim.backend.routes.internal import PREFIX
from halo_sim.backend.state import ReferenceBackend
from simkit.server import ServerThread
from simkit.xendit_wire import WEBHOOK_PATH

TEST_TOKEN = "matrix-test-token"
VICTIM_NAME = "Ayu-Victim-7f3"
CALLBACK_TOKEN = "matrix-callback-token"
PRINCIPALS = ("none", "forged", "wrong_role", "other_customer", "other_mitra")
OWN = (200, "own")  # the caller's own data: any 2xx (201 too)

# What each route demands; a route missing here fails the completeness test below.
POLICY: dict[tuple[str, str], str] = {
    ("GET", "/health"): "public",
    ("GET", "/openapi.json"): "public",  # when the OpenAPI route exists
    ("POST", "/api/customer/auth/otp/request"): "public",
    ("POST", "/api/customer/auth/otp/verify"): "public",
    ("POST", "/api/customer/auth/anonymous"): "public",
    ("POST", "/api/mitra/auth/login"): "public",
    ("POST", "/api/mitra/auth/otp/request"): "public",
    ("POST", "/api/mitra/auth/otp/verify"): "public",
    ("GET", "/api/config"): "public",
    ("GET", "/api/control-center/config"): "public",
    ("GET", "/api/control-center/stats"): "public",
    ("GET", "/api/control-center/stats/stream"): "public",
    ("PUT", "/api/control-center/config"): "guarded",
    ("PATCH", "/api/control-center/config"): "guarded",
    ("POST", WEBHOOK_PATH): "webhook",
    ("GET", "/api/customer/profile"): "customer_self",
    ("PUT", "/api/customer/profile"): "customer_self",
    ("PATCH", "/api/customer/profile"): "customer_self",
    ("POST", "/api/customer/payments"): "customer_self",
    ("GET", "/api/customer/payments/pending"): "customer_self",
    ("GET", "/api/customer/history"): "customer_self",
    ("GET", "/api/customer/payments/{payment_id}"): "customer_owned",
    ("POST", "/api/customer/chat/request"): "customer_owned",
    ("POST", "/api/customer/pairing/retry"): "customer_owned",
    ("GET", "/api/customer/mitras/{mitra_id}/availability"): "customer_any",
    ("POST", "/api/customer/devices"): "any_self",
    ("POST", "/api/mitra/devices"): "any_self",
    ("GET", "/api/mitra/profile"): "mitra_self",
    ("POST", "/api/mitra/status"): "mitra_self",
    ("POST", "/api/mitra/heartbeat"): "mitra_self",
    ("POST", "/api/mitra/offers/{session_id}/accept"): "mitra_offer",
    ("POST", "/api/mitra/offers/{session_id}/reject"): "mitra_offer",
    ("GET", "/api/chat/sessions/{session_id}"): "participant",
    ("GET", "/api/chat/sessions/{session_id}/messages"): "participant",
    ("POST", "/api/chat/sessions/{session_id}/messages"): "participant",
    ("POST", "/api/chat/sessions/{session_id}/end"): "participant",
    # the control center (halo_sim/control): the _test guard, the token also taken from the page's cookie
    ("GET", "/control"): "guarded",
    ("GET", "/control/static/control.js"): "guarded",
    ("GET", "/control/static/control.css"): "guarded",
    ("GET", "/control/snapshot"): "guarded",
    ("GET", "/control/stream"): "guarded",
    ("POST", "/control/actions/advance-clock"): "guarded",
    ("POST", "/control/actions/accept-latest"): "guarded",
    ("POST", "/control/actions/send-as-customer"): "guarded",
    ("POST", "/control/actions/send-as-mitra"): "guarded",
    ("POST", "/control/actions/reset-phone"): "guarded",
    ("POST", "/control/actions/config"): "guarded",
    ("POST", "/control/actions/fire-webhook"): "guarded",
    ("POST", "/control/actions/mitra-presence"): "guarded",
    ("POST", "/control/actions/pay-invoice"): "guarded",
    ("POST", "/control/actions/expire-invoice"): "guarded",
    ("POST", "/control/actions/xendit-faults"): "guarded",
    ("POST", "/control/actions/flush-callbacks"): "guarded",
}

UNAUTHORIZED = (401, "UNAUTHORIZED")
FORBIDDEN = (403, "FORBIDDEN")
NOT_FOUND = (404, "NOT_FOUND")
TEST_REFUSED = (401, "TEST_TOKEN_REQUIRED")
CALLBACK_REFUSED = (401, "INVALID_CALLBACK_TOKEN")

# The documented answer per policy and principal; a principal missing from a row does not apply.
EXPECTED: dict[str, dict[str, tuple[int, str]]] = {
    "public": {},
    "guarded": dict.fromkeys(PRINCIPALS, TEST_REFUSED),
    "webhook": dict.fromkeys(PRINCIPALS, CALLBACK_REFUSED),
    "customer_self": {
        "none": UNAUTHORIZED,
        "forged": UNAUTHORIZED,
        "wrong_role": FORBIDDEN,
        "other_customer": OWN,
        "other_mitra": FORBIDDEN,
    },
    "customer_owned": {
        "none": UNAUTHORIZED,
        "forged": UNAUTHORIZED,
        "wrong_role": FORBIDDEN,
        "other_customer": NOT_FOUND,
        "other_mitra": FORBIDDEN,
    },
    "customer_any": {
        "none": UNAUTHORIZED,
        "forged": UNAUTHORIZED,
        "wrong_role": FORBIDDEN,
        "other_customer": OWN,
        "other_mitra": FORBIDDEN,
    },
    "any_self": {"none": UNAUTHORIZED, "forged": UNAUTHORIZED, "other_customer": OWN, "other_mitra": OWN},
    "mitra_self": {
        "none": UNAUTHORIZED,
        "forged": UNAUTHORIZED,
        "wrong_role": FORBIDDEN,
        "other_customer": FORBIDDEN,
        "other_mitra": OWN,
    },
    "mitra_offer": {
        "none": UNAUTHORIZED,
        "forged": UNAUTHORIZED,
        "wrong_role": FORBIDDEN,
        "other_customer": FORBIDDEN,
        "other_mitra": (409, "NOT_OFFERED"),
    },
    "participant": {
        "none": UNAUTHORIZED,
        "forged": UNAUTHORIZED,
        "other_customer": NOT_FOUND,
        "other_mitra": NOT_FOUND,
    },
}


@dataclass
class World:
    """The victims' ids and tokens, the strangers' tokens, and a client on the backend."""

    api: httpx.Client
    ws_url: str
    ids: dict[str, str]
    tokens: dict[str, str]

    def victims_secrets(self) -> list[str]:
        """What no stranger's answer may contain (ids the stranger put in the path may be echoed)."""
        return [self.ids["customer_a"], VICTIM_NAME, self.tokens["a"], self.tokens["m1"]]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, response.text
    return response.json()


def _customer(api: httpx.Client, name: str) -> tuple[str, str]:
    login = _ok(api.post("/api/customer/auth/anonymous"))
    _ok(api.put("/api/customer/profile", json={"display_name": name}, headers=_bearer(login["token"])))
    return login["token"], login["customer"]["id"]


def _mitra(api: httpx.Client, phone: str, online: bool) -> tuple[str, str]:
    _ok(api.post(f"{PREFIX}/seed-mitra", json={"phone": phone, "display_name": f"Bestie {phone[-2:]}"}))
    login = _ok(api.post("/api/mitra/auth/login", json={"phone": phone, "password": "bestie123"}))
    _ok(api.post("/api/mitra/status", json={"online": online}, headers=_bearer(login["token"])))
    return login["token"], login["mitra"]["id"]


def _searching(api: httpx.Client, token: str) -> tuple[str, str]:
    """A confirmed payment of this customer and its pairing attempt's session id."""
    payment = _ok(api.post("/api/customer/payments", json={"duration_minutes": 15}, headers=_bearer(token)))
    _ok(api.post(f"{PREFIX}/force-confirm-payment", json={"payment_request_id": payment["id"]}))
    session = _ok(
        api.post("/api/customer/chat/request", json={"payment_request_id": payment["id"]}, headers=_bearer(token))
    )
    return payment["id"], session["id"]


@pytest.fixture(scope="module")
def world(serve_backend: Callable[..., tuple[ReferenceBackend, ServerThread]]) -> Iterator[World]:
    _, server = serve_backend(env="test", test_token=TEST_TOKEN, xendit_callback_token=CALLBACK_TOKEN)
    with httpx.Client(base_url=server.url, timeout=30, headers={"x-test-token": TEST_TOKEN}) as api:
        tokens, ids = {}, {}
        tokens["m1"], ids["m1"] = _mitra(api, "+6281188800001", online=True)
        tokens["a"], ids["customer_a"] = _customer(api, VICTIM_NAME)
        ids["payment_1"], ids["session_1"] = _searching(api, tokens["a"])
        _ok(api.post(f"/api/mitra/offers/{ids['session_1']}/accept", headers=_bearer(tokens["m1"])))
        tokens["m3"], ids["m3"] = _mitra(api, "+6281188800003", online=True)  # M1 is busy: S2 goes to M3 alone
        tokens["c"], _ = _customer(api, "Citra")
        _, ids["session_2"] = _searching(api, tokens["c"])
        tokens["b"], _ = _customer(api, "Budi")
        tokens["m2"], _ = _mitra(api, "+6281188800002", online=False)
        yield World(api, server.ws_url, ids, tokens)


def _app_routes() -> list[tuple[str, str]]:
    """Every (method, path) the app serves, read from the app (HEAD aside: it is GET)."""
    app = create_app(ReferenceBackend(Settings(env="test")))
    pairs = [(m, r.path) for r in app.routes if isinstance(r, Route) for m in sorted(r.methods or ()) if m != "HEAD"]
    return sorted(set(pairs))


ROUTES = _app_routes()


def _policy(method: str, path: str) -> str:
    return "guarded" if path.startswith(PREFIX) else POLICY[(method, path)]


def test_every_route_has_an_access_policy() -> None:
    """A new route must say who may call it, here, before the matrix can pass."""
    missing = [f"{m} {p}" for m, p in ROUTES if not p.startswith(PREFIX) and (m, p) not in POLICY]
    assert missing == [], f"add these routes to POLICY in {__file__}: {missing}"
    assert any(p.startswith(PREFIX) for _, p in ROUTES)  # the test surface is part of the matrix


def _path(world: World, method: str, path: str) -> str:
    session = world.ids["session_2"] if path.startswith("/api/mitra/offers") else world.ids["session_1"]
    values = {"{payment_id}": world.ids["payment_1"], "{session_id}": session, "{mitra_id}": world.ids["m1"]}
    for name, value in values.items():
        path = path.replace(name, value)
    return path


def _body(world: World, path: str, principal: str) -> dict[str, Any]:
    payment = world.ids["payment_1"]
    bodies: dict[str, dict[str, Any]] = {
        "/api/customer/profile": {"display_name": "Stranger"},
        "/api/customer/devices": {"fcm_token": f"fcm-{principal}-customer"},
        "/api/mitra/devices": {"fcm_token": f"fcm-{principal}-mitra"},
        "/api/customer/payments": {"duration_minutes": 15},
        "/api/customer/chat/request": {"payment_request_id": payment},
        "/api/customer/pairing/retry": {"payment_request_id": payment, "mode": "same"},
        "/api/mitra/status": {"online": False},  # M2 stays offline, so it is never offered S2
        WEBHOOK_PATH: {"id": "inv-1", "external_id": payment, "status": "PAID", "amount": 15000},
    }
    if path.endswith("/messages"):
        return {"text": "hai"}
    return bodies.get(path, {})


def _headers(world: World, policy: str, principal: str) -> dict[str, str]:
    """The principal's credential, where this route's kind of credential goes."""
    token = {
        "none": None,
        "forged": secrets.token_hex(32),
        "other_customer": world.tokens["b"],
        "other_mitra": world.tokens["m2"],
        "wrong_role": world.tokens["m1"] if policy.startswith("customer") else world.tokens["a"],
    }[principal]
    if token is None:
        return {"x-test-token": ""}  # the client's default test token is taken away
    if principal == "forged" and policy == "guarded":
        return {"x-test-token": token}
    if principal == "forged" and policy == "webhook":
        return {"x-test-token": "", "x-callback-token": token}
    return {"x-test-token": "", **_bearer(token)}


CASES = [
    pytest.param(method, path, principal, id=f"{method} {path} as {principal}")
    for method, path in ROUTES
    for principal in PRINCIPALS
    if principal in EXPECTED[_policy(method, path)]
]


@pytest.mark.parametrize(("method", "path", "principal"), CASES)
def test_the_route_refuses_or_serves_only_the_callers_own_data(
    world: World, method: str, path: str, principal: str
) -> None:
    policy = _policy(method, path)
    status, code = EXPECTED[policy][principal]
    body = None if method == "GET" else _body(world, path, principal)
    response = world.api.request(
        method, _path(world, method, path), json=body, headers=_headers(world, policy, principal)
    )
    if code == "own":
        assert response.status_code < 300, response.text
    else:
        assert (response.status_code, response.json().get("error")) == (status, code), response.text
    leaked = [value for value in world.victims_secrets() if value in response.text]
    assert leaked == [], f"{principal} saw the victims' {leaked}"


def test_the_victims_session_is_untouched_by_every_stranger(world: World) -> None:
    """After the whole matrix ran (or alone): S1 is still active between A and M1, S2 still offered to M3."""
    s1 = world.api.get(f"/api/chat/sessions/{world.ids['session_1']}", headers=_bearer(world.tokens["a"])).json()
    assert (s1["status"], s1["mitra_id"]) == ("active", world.ids["m1"])
    messages = world.api.get(
        f"/api/chat/sessions/{world.ids['session_1']}/messages", headers=_bearer(world.tokens["a"])
    )
    assert messages.json()["messages"] == []


@pytest.mark.parametrize("principal", ["none", "forged"])
def test_the_websocket_refuses_a_missing_or_forged_token_at_the_handshake(world: World, principal: str) -> None:
    assert any(isinstance(r, WebSocketRoute) for r in create_app(ReferenceBackend(Settings(env="test"))).routes)
    query = "" if principal == "none" else f"?token={secrets.token_hex(32)}"
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{world.ws_url}/ws{query}", open_timeout=5)
    assert refused.value.response.status_code == 403
