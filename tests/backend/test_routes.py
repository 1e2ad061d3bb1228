"""The reference backend over real HTTP and WebSockets: one Stack (fake FCM + backend) per module."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from halo_sim.backend.state import ReferenceBackend
from halo_sim.stack import Stack
from simkit.errors import ForeignKeyViolation
from simkit.server import ServerThread

WAIT_S = 5.0  # upper bound for a frame or a server-side socket change to show up; never asserted on


pytestmark = pytest.mark.usefixtures("fresh")  # tests/backend/conftest.py: reset the Stack per test


# --- helpers ---------------------------------------------------------------------------------


def wait_until(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.01)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def otp_code(api: httpx.Client, phone: str) -> str:
    response = api.get("/internal/_test/otp", params={"phone": phone})
    assert response.status_code == 200, response.text
    return str(response.json()["code"])


def login_customer(api: httpx.Client, phone: str = "+6281234500001", name: str | None = "Ayu") -> tuple[str, str]:
    """OTP login; returns (token, customer id)."""
    assert api.post("/api/customer/auth/otp/request", json={"phone": phone}).status_code == 200
    response = api.post("/api/customer/auth/otp/verify", json={"phone": phone, "code": otp_code(api, phone)})
    assert response.status_code == 200, response.text
    token, customer_id = response.json()["token"], response.json()["customer"]["id"]
    if name is not None:
        assert api.put("/api/customer/profile", json={"display_name": name}, headers=auth(token)).status_code == 200
    return token, customer_id


def login_mitra(api: httpx.Client, phone: str = "+6281199900001", online: bool = True) -> tuple[str, str]:
    """Seed a mitra, log it in and (optionally) switch it online; returns (token, mitra id)."""
    seeded = api.post("/internal/_test/seed-mitra", json={"phone": phone, "display_name": "Rani", "password": "pw"})
    assert seeded.status_code in (200, 201), seeded.text
    response = api.post("/api/mitra/auth/login", json={"phone": phone, "password": "pw"})
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    if online:
        assert api.post("/api/mitra/status", json={"online": True}, headers=auth(token)).status_code == 200
    return token, response.json()["mitra"]["id"]


def create_payment(api: httpx.Client, customer_token: str, minutes: int = 15) -> str:
    response = api.post("/api/customer/payments", json={"duration_minutes": minutes}, headers=auth(customer_token))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def force_confirm(api: httpx.Client, payment_id: str) -> None:
    response = api.post("/internal/_test/force-confirm-payment", json={"payment_request_id": payment_id})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "confirmed"


def active_session(api: httpx.Client, customer_token: str, mitra_token: str) -> str:
    """Pay, confirm (the blast starts), fetch the session (legacy idempotent start) and accept it."""
    payment_id = create_payment(api, customer_token)
    force_confirm(api, payment_id)
    session = api.post(
        "/api/customer/chat/request", json={"payment_request_id": payment_id}, headers=auth(customer_token)
    )
    assert session.status_code == 200, session.text
    session_id = str(session.json()["id"])
    accepted = api.post(f"/api/mitra/offers/{session_id}/accept", headers=auth(mitra_token))
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "active"
    return session_id


@contextmanager
def ws_connect(urls: dict[str, str], token: str) -> Iterator[ClientConnection]:
    """An app in the foreground: its socket, past the ``connected`` hello."""
    with connect(f"{urls['websocket']}?token={token}", open_timeout=WAIT_S) as ws:
        hello = recv(ws)
        assert hello["type"] == "connected"
        yield ws


def recv(ws: ClientConnection) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(ws.recv(timeout=WAIT_S))
    return frame


def recv_until(ws: ClientConnection, kind: str) -> dict[str, Any]:
    """Read frames until one of type ``kind`` (earlier ones are informational)."""
    while True:
        frame = recv(ws)
        if frame["type"] == kind:
            return frame


def refusal(response: httpx.Response) -> tuple[int, Any]:
    """(status, error code): a refusal names its code, so a bare 404 of a deleted route cannot pass for it."""
    return response.status_code, response.json().get("error")


def send_message(api: httpx.Client, token: str, session_id: str, text: str) -> httpx.Response:
    return api.post(f"/api/chat/sessions/{session_id}/messages", json={"text": text}, headers=auth(token))


def register_device(
    api: httpx.Client, token: str, fcm_token: str, enabled: bool = True, role: str = "customer"
) -> None:
    response = api.post(
        f"/api/{role}/devices",
        headers=auth(token),
        json={"fcm_token": fcm_token, "platform": "android", "notifications_enabled": enabled},
    )
    assert response.status_code == 200, response.text


def socket_gone(api: httpx.Client, session_id: str, who: str) -> Callable[[], bool]:
    def check() -> bool:
        state = api.get("/internal/_test/ws-connection-state", params={"session_id": session_id}).json()
        return not state[who]["connected"]

    return check


def notifications_enabled(api: httpx.Client, customer_token: str) -> bool:
    response = api.get("/api/customer/profile", headers=auth(customer_token))
    assert response.status_code == 200, response.text
    return bool(response.json()["notifications_enabled"])


# --- OTP -------------------------------------------------------------------------------------


def test_otp_request_then_verify_with_code_from_test_surface_logs_in(api: httpx.Client) -> None:
    phone = "+6281234567890"
    assert api.post("/api/customer/auth/otp/request", json={"phone": phone}).json()["sent"] is True
    response = api.post("/api/customer/auth/otp/verify", json={"phone": phone, "code": otp_code(api, phone)})
    assert response.status_code == 200
    body = response.json()
    assert body["customer"]["phone"] == phone
    assert body["customer"]["is_anonymous"] is False
    profile = api.get("/api/customer/profile", headers=auth(body["token"]))
    assert profile.status_code == 200
    assert profile.json()["id"] == body["customer"]["id"]


def test_otp_is_single_use(api: httpx.Client) -> None:
    phone = "+6281234567890"
    api.post("/api/customer/auth/otp/request", json={"phone": phone})
    code = otp_code(api, phone)
    assert api.post("/api/customer/auth/otp/verify", json={"phone": phone, "code": code}).status_code == 200
    again = api.post("/api/customer/auth/otp/verify", json={"phone": phone, "code": code})
    assert again.status_code == 400
    assert again.json()["error"] == "OTP_EXPIRED"


def test_verifying_twice_with_the_same_phone_returns_the_same_customer(api: httpx.Client) -> None:
    _, first = login_customer(api, "+6281234567890", name=None)
    _, second = login_customer(api, "+6281234567890", name=None)
    assert first == second


def test_wrong_otp_is_401_with_attempts_left(api: httpx.Client) -> None:
    phone = "+6281234567890"
    api.post("/api/customer/auth/otp/request", json={"phone": phone})
    wrong = "000000" if otp_code(api, phone) != "000000" else "111111"
    response = api.post("/api/customer/auth/otp/verify", json={"phone": phone, "code": wrong})
    assert response.status_code == 401
    assert response.json()["error"] == "OTP_INVALID"
    assert response.json()["attempts_left"] == 4


def test_max_wrong_otps_block_the_phone_and_then_even_the_right_code_is_refused(
    api: httpx.Client, stack: Stack
) -> None:
    phone = "+6281234567890"
    max_attempts = stack.backend.settings.otp_max_attempts
    assert max_attempts == 5
    api.post("/api/customer/auth/otp/request", json={"phone": phone})
    right = otp_code(api, phone)
    wrong = "000000" if right != "000000" else "111111"
    answers = [
        api.post("/api/customer/auth/otp/verify", json={"phone": phone, "code": wrong}) for _ in range(max_attempts)
    ]
    assert [(*refusal(a), a.json().get("attempts_left")) for a in answers[:-1]] == [
        (401, "OTP_INVALID", left) for left in range(max_attempts - 1, 0, -1)
    ]
    blocked = answers[-1]
    assert refusal(blocked) == (429, "OTP_BLOCKED")
    assert blocked.json()["reason"] == "OTP_BLOCKED"
    refused = api.post("/api/customer/auth/otp/verify", json={"phone": phone, "code": right})
    assert refusal(refused) == (429, "OTP_BLOCKED")
    assert refused.json()["reason"] == "OTP_BLOCKED"
    assert refusal(api.post("/api/customer/auth/otp/request", json={"phone": phone})) == (429, "OTP_BLOCKED")


def test_otp_block_lifts_after_the_block_period_on_the_virtual_clock(api: httpx.Client, stack: Stack) -> None:
    phone = "+6281234567890"
    api.post("/api/customer/auth/otp/request", json={"phone": phone})
    wrong = "000000" if otp_code(api, phone) != "000000" else "111111"
    for _ in range(stack.backend.settings.otp_max_attempts):
        api.post("/api/customer/auth/otp/verify", json={"phone": phone, "code": wrong})
    seconds = stack.backend.settings.otp_block_s + 1
    assert api.post("/internal/_test/clock", json={"seconds": seconds}).status_code == 200
    assert api.post("/api/customer/auth/otp/request", json={"phone": phone}).status_code == 200
    response = api.post("/api/customer/auth/otp/verify", json={"phone": phone, "code": otp_code(api, phone)})
    assert response.status_code == 200


def test_after_the_block_lifts_a_wrong_code_is_401_with_attempts_left_again(api: httpx.Client, stack: Stack) -> None:
    phone = "+6281234567890"
    api.post("/api/customer/auth/otp/request", json={"phone": phone})
    wrong = "000000" if otp_code(api, phone) != "000000" else "111111"
    for _ in range(stack.backend.settings.otp_max_attempts):
        api.post("/api/customer/auth/otp/verify", json={"phone": phone, "code": wrong})
    api.post("/internal/_test/clock", json={"seconds": stack.backend.settings.otp_block_s + 1})
    api.post("/api/customer/auth/otp/request", json={"phone": phone})
    wrong = "000000" if otp_code(api, phone) != "000000" else "111111"
    response = api.post("/api/customer/auth/otp/verify", json={"phone": phone, "code": wrong})
    assert refusal(response) == (401, "OTP_INVALID")
    assert response.json()["attempts_left"] >= 1


def test_expired_otp_is_refused(api: httpx.Client) -> None:
    phone = "+6281234567890"
    api.post("/api/customer/auth/otp/request", json={"phone": phone})
    code = otp_code(api, phone)
    api.post("/internal/_test/clock", json={"seconds": 301})
    response = api.post("/api/customer/auth/otp/verify", json={"phone": phone, "code": code})
    assert response.status_code == 400
    assert response.json()["error"] == "OTP_EXPIRED"


# --- auth and validation ---------------------------------------------------------------------


def test_anonymous_login_then_display_name(api: httpx.Client) -> None:
    login = api.post("/api/customer/auth/anonymous")
    assert login.status_code == 200
    token = login.json()["token"]
    assert login.json()["customer"]["is_anonymous"] is True
    assert login.json()["customer"]["display_name"] is None
    updated = api.put("/api/customer/profile", json={"display_name": "  Bunga  "}, headers=auth(token))
    assert updated.status_code == 200
    assert updated.json()["display_name"] == "Bunga"
    profile = api.get("/api/customer/profile", headers=auth(token)).json()
    assert (profile["display_name"], profile["is_anonymous"], profile["phone"]) == ("Bunga", True, None)


def test_empty_display_name_is_400(api: httpx.Client) -> None:
    token = api.post("/api/customer/auth/anonymous").json()["token"]
    response = api.put("/api/customer/profile", json={"display_name": "   "}, headers=auth(token))
    assert refusal(response) == (400, "VALIDATION_ERROR")


def test_customer_cannot_see_another_customers_payment(api: httpx.Client) -> None:
    owner, _ = login_customer(api, "+6281234500001")
    other, _ = login_customer(api, "+6281234500002")
    payment_id = create_payment(api, owner)
    assert api.get(f"/api/customer/payments/{payment_id}", headers=auth(owner)).status_code == 200
    response = api.get(f"/api/customer/payments/{payment_id}", headers=auth(other))
    assert response.status_code == 404
    assert response.json()["error"] == "NOT_FOUND"


def test_mitra_token_on_a_customer_endpoint_is_403(api: httpx.Client) -> None:
    mitra_token, _ = login_mitra(api, online=False)
    response = api.get("/api/customer/profile", headers=auth(mitra_token))
    assert response.status_code == 403
    assert response.json()["error"] == "FORBIDDEN"


def test_customer_token_on_a_mitra_endpoint_is_403(api: httpx.Client) -> None:
    token, _ = login_customer(api)
    assert refusal(api.get("/api/mitra/profile", headers=auth(token))) == (403, "FORBIDDEN")


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"}],
    ids=["missing", "unknown", "not-bearer"],
)
def test_missing_or_bad_token_is_401(api: httpx.Client, headers: dict[str, str]) -> None:
    response = api.get("/api/customer/profile", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "UNAUTHORIZED"


def test_unknown_body_field_is_400_listing_problems(api: httpx.Client) -> None:
    token, _ = login_customer(api)
    response = api.post(
        "/api/customer/devices", headers=auth(token), json={"fcm_token": "tok", "notification_enabled": False}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "VALIDATION_ERROR"
    assert any(p.startswith("notification_enabled:") for p in body["problems"])


def test_malformed_json_body_is_400(api: httpx.Client) -> None:
    response = api.post(
        "/api/customer/auth/otp/request", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "VALIDATION_ERROR"


def test_unknown_duration_has_no_price(api: httpx.Client) -> None:
    token, _ = login_customer(api)
    response = api.post("/api/customer/payments", json={"duration_minutes": 7}, headers=auth(token))
    assert refusal(response) == (400, "UNKNOWN_DURATION")
    assert "no price for 7 minutes" in response.json()["message"]


def test_mitra_login_wrong_password_is_401(api: httpx.Client) -> None:
    login_mitra(api, "+6281199900001", online=False)
    response = api.post("/api/mitra/auth/login", json={"phone": "+6281199900001", "password": "wrong"})
    assert response.status_code == 401
    assert response.json()["error"] == "INVALID_CREDENTIALS"


def test_mitra_login_unknown_phone_is_401(api: httpx.Client) -> None:
    response = api.post("/api/mitra/auth/login", json={"phone": "+6280000000000", "password": "pw"})
    assert refusal(response) == (401, "INVALID_CREDENTIALS")


def test_mitra_login_answer_has_no_password(api: httpx.Client) -> None:
    login_mitra(api, "+6281199900001", online=False)
    response = api.post("/api/mitra/auth/login", json={"phone": "+6281199900001", "password": "pw"})
    assert "password" not in response.json()["mitra"]
    assert response.json()["mitra"]["is_online"] is False


def test_mitra_goes_offline_when_heartbeats_stop(api: httpx.Client, stack: Stack) -> None:
    token, _ = login_mitra(api)
    assert api.get("/api/mitra/profile", headers=auth(token)).json()["is_online"] is True
    api.post("/internal/_test/clock", json={"seconds": stack.backend.settings.heartbeat_timeout_s + 1})
    assert api.get("/api/mitra/profile", headers=auth(token)).json()["is_online"] is False
    assert api.post("/api/mitra/heartbeat", headers=auth(token)).json()["is_online"] is True


# --- devices ---------------------------------------------------------------------------------


def test_device_registration_drives_notifications_enabled(api: httpx.Client, stack: Stack) -> None:
    token, customer_id = login_customer(api)
    assert notifications_enabled(api, token) is False  # no device yet
    register_device(api, token, "tok-A", enabled=False)
    assert notifications_enabled(api, token) is False
    register_device(api, token, "tok-A", enabled=True)
    assert notifications_enabled(api, token) is True
    devices = api.get("/internal/_test/state").json()["tables"]["devices"]
    assert [(d["fcm_token"], d["customer_id"]) for d in devices] == [("tok-A", customer_id)]


# --- reset-phone and foreign keys --------------------------------------------------------------


def test_reset_phone_cascades_children_first(api: httpx.Client, stack: Stack) -> None:
    phone = "+6281234500001"
    customer_token, customer_id = login_customer(api, phone)
    mitra_token, mitra_id = login_mitra(api)
    register_device(api, customer_token, "tok-C")
    session_id = active_session(api, customer_token, mitra_token)
    assert send_message(api, customer_token, session_id, "halo").status_code == 201
    assert send_message(api, mitra_token, session_id, "hai juga").status_code == 201

    before = api.get("/internal/_test/state").json()["tables"]
    with pytest.raises(ForeignKeyViolation) as caught:
        stack.backend.store.customers.delete(customer_id)
    assert caught.value.sqlstate == "23503"
    assert api.get("/internal/_test/state").json()["tables"] == before

    response = api.post("/internal/_test/reset-phone", json={"phone": phone})
    assert response.status_code == 200
    assert response.json() == {
        "phone": phone,
        "deleted": True,
        "rows": {
            "chat_messages": 2,
            "chat_sessions": 1,
            "payment_requests": 1,
            "customer_transactions": 1,  # the confirmation booked it: the cascade deletes it for real
            "auth_sessions": 1,
            "devices": 1,
            "customers": 1,
        },
    }
    tables = api.get("/internal/_test/state").json()["tables"]
    assert all(not tables[t] for t in ("chat_messages", "chat_sessions", "payment_requests", "devices"))
    assert [c["id"] for c in tables["customers"] if c["id"] == customer_id] == []
    assert any(m["id"] == mitra_id for m in tables["mitras"])
    assert refusal(api.get("/api/customer/profile", headers=auth(customer_token))) == (401, "UNAUTHORIZED")


def test_reset_phone_of_an_unknown_phone_deletes_nothing(api: httpx.Client) -> None:
    response = api.post("/internal/_test/reset-phone", json={"phone": "+6280000000009"})
    assert response.json() == {"phone": "+6280000000009", "deleted": False, "rows": {}}


def test_reset_phone_lets_the_same_phone_register_again(api: httpx.Client) -> None:
    phone = "+6281234500001"
    _, first = login_customer(api, phone)
    api.post("/internal/_test/reset-phone", json={"phone": phone})
    _, second = login_customer(api, phone)
    assert second != first


# --- WebSocket pairing flow ----------------------------------------------------------------------


def test_full_ws_flow_offer_over_ws_accept_over_ws_customer_matched(api: httpx.Client, urls: dict[str, str]) -> None:
    customer_token, customer_id = login_customer(api)
    mitra_token, mitra_id = login_mitra(api)
    with ws_connect(urls, mitra_token) as mitra_ws, ws_connect(urls, customer_token) as customer_ws:
        payment_id = create_payment(api, customer_token)
        force_confirm(api, payment_id)

        searching = recv_until(customer_ws, "pairing_searching")
        assert searching["payment_request_id"] == payment_id
        offer = recv_until(mitra_ws, "pairing_offer")
        assert (offer["mode"], offer["customer_name"], offer["duration_minutes"]) == ("blast", "Ayu", 15)
        assert offer["session_id"] == searching["session_id"]

        mitra_ws.send(json.dumps({"type": "accept_offer", "session_id": offer["session_id"]}))
        accepted = recv_until(mitra_ws, "offer_accepted")
        assert accepted["customer"] == {"id": customer_id, "display_name": "Ayu"}
        matched = recv_until(customer_ws, "pairing_matched")
        assert matched["session_id"] == offer["session_id"]
        assert matched["mitra"] == {"id": mitra_id, "display_name": "Rani"}

    session = api.get(f"/api/chat/sessions/{offer['session_id']}", headers=auth(customer_token)).json()
    assert (session["status"], session["mitra_id"]) == ("active", mitra_id)
    payment = api.get(f"/api/customer/payments/{payment_id}", headers=auth(customer_token)).json()
    assert payment["status"] == "consumed"


def test_ws_refusal_comes_back_as_an_error_frame(api: httpx.Client, urls: dict[str, str]) -> None:
    mitra_token, _ = login_mitra(api)
    with ws_connect(urls, mitra_token) as ws:
        ws.send(json.dumps({"type": "accept_offer", "session_id": "no-such-session"}))
        error = recv(ws)
        assert (error["type"], error["request_type"], error["error"]) == ("error", "accept_offer", "NOT_FOUND")
        ws.send(json.dumps({"type": "dance"}))
        assert recv(ws)["error"] == "VALIDATION_ERROR"
        ws.send(json.dumps({"type": "ping"}))
        assert recv(ws) == {"type": "pong"}


def test_ws_with_unknown_token_is_refused_at_handshake(api: httpx.Client, urls: dict[str, str]) -> None:
    # The route closes with 4401 before accepting; under ASGI that is an HTTP 403 at the handshake.
    # That 403 has an empty body (no code to check), and an unknown path is refused the same way:
    # so the same URL with a valid token must get through, or the 403 proves nothing about the token.
    with pytest.raises(InvalidStatus) as caught:
        connect(f"{urls['websocket']}?token=nope", open_timeout=WAIT_S)
    assert caught.value.response.status_code == 403
    token, _ = login_customer(api)
    with ws_connect(urls, token) as ws:
        ws.send(json.dumps({"type": "ping"}))
        assert recv(ws) == {"type": "pong"}


# --- chat delivery contract ------------------------------------------------------------------------


def test_chat_message_with_recipient_socket_open_is_delivered_over_ws(
    api: httpx.Client, urls: dict[str, str], fcm: httpx.Client
) -> None:
    customer_token, customer_id = login_customer(api)
    mitra_token, _ = login_mitra(api)
    register_device(api, mitra_token, "tok-M", role="mitra")  # a token does not matter while the socket is open
    session_id = active_session(api, customer_token, mitra_token)
    with ws_connect(urls, mitra_token) as mitra_ws:
        response = send_message(api, customer_token, session_id, "halo kak")
        assert response.status_code == 201
        assert response.json()["delivered_via"] == "ws"
        assert "push_errors" not in response.json()
        frame = recv_until(mitra_ws, "chat_message")
    assert frame["session_id"] == session_id
    assert (frame["message"]["text"], frame["message"]["seq"], frame["message"]["sender_id"]) == (
        "halo kak",
        1,
        customer_id,
    )
    # the mitra's device only ever got the pairing offer (no socket then), never the chat message
    pushed = fcm.get("/_fake/inbox", params={"token": "tok-M"}).json()["messages"]
    assert [m["message"]["data"]["type"] for m in pushed] == ["pairing_offer"]


def test_chat_message_with_socket_closed_and_device_registered_goes_through_fcm(
    api: httpx.Client, urls: dict[str, str], fcm: httpx.Client
) -> None:
    customer_token, _ = login_customer(api)
    mitra_token, mitra_id = login_mitra(api)
    register_device(api, customer_token, "tok-C")
    session_id = active_session(api, customer_token, mitra_token)
    with ws_connect(urls, customer_token):
        pass  # the app went to the background
    wait_until(socket_gone(api, session_id, "customer"), "the customer's socket to close server-side")

    response = send_message(api, mitra_token, session_id, "sudah tidur?")
    assert response.status_code == 201
    assert response.json()["delivered_via"] == "fcm"
    inbox = fcm.get("/_fake/inbox", params={"token": "tok-C"}).json()["messages"]
    assert len(inbox) == 1
    pushed = inbox[0]["message"]
    assert pushed["notification"] == {"title": "Rani", "body": "sudah tidur?"}
    assert pushed["data"]["type"] == "chat_message"
    assert pushed["data"]["session_id"] == session_id
    assert json.loads(pushed["data"]["message"])["sender_id"] == mitra_id
    stored = api.get(f"/api/chat/sessions/{session_id}/messages", headers=auth(customer_token)).json()["messages"]
    assert stored[-1]["delivered_via"] == "fcm"


def test_chat_message_without_socket_or_device_is_only_stored(api: httpx.Client, fcm: httpx.Client) -> None:
    customer_token, _ = login_customer(api)
    mitra_token, _ = login_mitra(api)
    session_id = active_session(api, customer_token, mitra_token)
    response = send_message(api, mitra_token, session_id, "halo")
    assert response.json()["delivered_via"] == "none"
    assert fcm.get("/_fake/inbox").json()["messages"] == []
    assert (
        len(api.get(f"/api/chat/sessions/{session_id}/messages", headers=auth(customer_token)).json()["messages"]) == 1
    )


def test_disabled_notifications_mean_no_push(api: httpx.Client, fcm: httpx.Client) -> None:
    customer_token, _ = login_customer(api)
    mitra_token, _ = login_mitra(api)
    register_device(api, customer_token, "tok-C", enabled=False)
    session_id = active_session(api, customer_token, mitra_token)
    assert send_message(api, mitra_token, session_id, "halo").json()["delivered_via"] == "none"
    assert fcm.get("/_fake/inbox").json()["messages"] == []


def test_unregistered_token_gives_none_with_push_error_and_the_device_is_forgotten(
    api: httpx.Client, fcm: httpx.Client
) -> None:
    customer_token, _ = login_customer(api)
    mitra_token, _ = login_mitra(api)
    register_device(api, customer_token, "tok-C")
    session_id = active_session(api, customer_token, mitra_token)
    assert notifications_enabled(api, customer_token) is True
    assert fcm.post("/_fake/tokens/tok-C/unregister").status_code == 200

    response = send_message(api, mitra_token, session_id, "halo?")
    assert response.status_code == 201
    assert response.json()["delivered_via"] == "none"
    assert response.json()["push_errors"] == ["UNREGISTERED"]
    assert notifications_enabled(api, customer_token) is False
    assert api.get("/internal/_test/state").json()["tables"]["devices"] == []
    assert fcm.get("/_fake/inbox").json()["messages"] == []


def test_message_after_session_end_is_409_sesi_sudah_berakhir(api: httpx.Client) -> None:
    customer_token, _ = login_customer(api)
    mitra_token, _ = login_mitra(api)
    session_id = active_session(api, customer_token, mitra_token)
    session = api.get(f"/api/chat/sessions/{session_id}", headers=auth(customer_token)).json()
    now = api.get("/internal/_test/clock").json()["now"]
    assert send_message(api, customer_token, session_id, "masih?").status_code == 201

    advanced = api.post("/internal/_test/clock", json={"seconds": session["ends_at"] - now + 1})
    assert advanced.json()["now"] > session["ends_at"]
    for token in (customer_token, mitra_token):
        response = send_message(api, token, session_id, "halo?")
        assert response.status_code == 409
        assert response.json() == {"error": "SESSION_ENDED", "message": "Sesi sudah berakhir"}


def test_message_exactly_at_ends_at_is_refused(api: httpx.Client) -> None:
    customer_token, _ = login_customer(api)
    mitra_token, _ = login_mitra(api)
    session_id = active_session(api, customer_token, mitra_token)
    ends_at = api.get(f"/api/chat/sessions/{session_id}", headers=auth(customer_token)).json()["ends_at"]
    now = api.get("/internal/_test/clock").json()["now"]
    api.post("/internal/_test/clock", json={"seconds": ends_at - now})
    assert refusal(send_message(api, customer_token, session_id, "halo")) == (409, "SESSION_ENDED")


def test_messages_after_seq_returns_only_later_messages(api: httpx.Client) -> None:
    customer_token, _ = login_customer(api)
    mitra_token, _ = login_mitra(api)
    session_id = active_session(api, customer_token, mitra_token)
    for i, token in enumerate([customer_token, mitra_token, customer_token, mitra_token], start=1):
        assert send_message(api, token, session_id, f"pesan {i}").json()["message"]["seq"] == i
    url = f"/api/chat/sessions/{session_id}/messages"
    every = api.get(url, headers=auth(mitra_token)).json()["messages"]
    assert [m["seq"] for m in every] == [1, 2, 3, 4]
    later = api.get(url, params={"after_seq": 2}, headers=auth(customer_token)).json()["messages"]
    assert [(m["seq"], m["text"]) for m in later] == [(3, "pesan 3"), (4, "pesan 4")]
    assert api.get(url, params={"after_seq": 4}, headers=auth(customer_token)).json()["messages"] == []
    assert refusal(api.get(url, params={"after_seq": "-1"}, headers=auth(customer_token))) == (400, "VALIDATION_ERROR")


def test_stranger_cannot_read_or_write_a_session(api: httpx.Client) -> None:
    customer_token, _ = login_customer(api, "+6281234500001")
    stranger, _ = login_customer(api, "+6281234500002")
    mitra_token, _ = login_mitra(api)
    session_id = active_session(api, customer_token, mitra_token)
    assert refusal(api.get(f"/api/chat/sessions/{session_id}/messages", headers=auth(stranger))) == (404, "NOT_FOUND")
    assert refusal(send_message(api, stranger, session_id, "hi")) == (404, "NOT_FOUND")


# --- the test surface's own guards, on separately built apps --------------------------------------


def test_internal_test_surface_is_404_in_production(
    serve_backend: Callable[..., tuple[ReferenceBackend, ServerThread]],
) -> None:
    with httpx.Client(base_url=serve_backend(env="production")[1].url, timeout=10) as client:
        assert client.get("/health").json() == {"status": "ok", "env": "production", "test_endpoints": False}
        assert refusal(client.post("/internal/_test/reset")) == (404, "ROUTE_NOT_FOUND")
        assert refusal(client.get("/internal/_test/state")) == (404, "ROUTE_NOT_FOUND")
        assert client.post("/api/customer/auth/anonymous").status_code == 200


def test_internal_test_surface_needs_x_test_token_when_configured(
    serve_backend: Callable[..., tuple[ReferenceBackend, ServerThread]],
) -> None:
    with httpx.Client(base_url=serve_backend(env="test", test_token="s3cret")[1].url, timeout=10) as client:
        missing = client.get("/internal/_test/state")
        assert missing.status_code == 401
        assert missing.json()["error"] == "TEST_TOKEN_REQUIRED"
        wrong = client.get("/internal/_test/state", headers={"x-test-token": "wrong"})
        assert refusal(wrong) == (401, "TEST_TOKEN_REQUIRED")
        assert client.get("/internal/_test/state", headers={"x-test-token": "s3cret"}).status_code == 200


def test_internal_test_surface_is_open_without_test_token(api: httpx.Client) -> None:
    assert api.get("/internal/_test/state").status_code == 200


def test_stopping_the_server_closes_an_open_client_ws_with_1001(
    serve_backend: Callable[..., tuple[ReferenceBackend, ServerThread]],
) -> None:
    _, server = serve_backend(env="test")
    with httpx.Client(base_url=server.url, timeout=10) as client:
        token = client.post("/api/customer/auth/anonymous").json()["token"]
    with connect(f"{server.ws_url}/ws?token={token}", open_timeout=WAIT_S) as ws:
        assert recv(ws)["type"] == "connected"
        server.stop()
        with pytest.raises(ConnectionClosed) as caught:
            recv(ws)
    assert caught.value.rcvd is not None
    assert caught.value.rcvd.code == 1001
