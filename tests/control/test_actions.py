"""Each button changes the backend's state as the scenario step (or app call) it stands for would.

Every action is pressed over HTTP, as the page presses it (JSON POST to /control/actions/…), on a
Stack (backend + fake Xendit + fake FCM, virtual clock); the effect is read back through the
ordinary API, the ``_test`` surface or the fake's control plane, never from the action's answer alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

from halo_sim.backend.app import create_app
from halo_sim.backend.config import Settings
from halo_sim.backend.state import ReferenceBackend
from simkit.server import ServerThread

if TYPE_CHECKING:
    from conftest import World


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _json(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def test_pay_invoice_confirms_the_payment_through_the_fakes_callback(world: World, xendit: httpx.Client) -> None:
    payment = world.payment()
    answer = _json(world.act("pay-invoice", {"invoice_id": payment["xendit_invoice_id"]}))
    assert answer["invoice"]["status"] == "PAID"
    assert world.payment_status(payment["id"]) == "confirmed"
    log = xendit.get("/_fake/callbacks").json()["log"]
    assert [(e["external_id"], e["status"], e["outcome"]) for e in log] == [(payment["id"], "PAID", "delivered")]


def test_expire_invoice_expires_the_payment(world: World) -> None:
    payment = world.payment()
    _json(world.act("expire-invoice", {"invoice_id": payment["xendit_invoice_id"]}))
    assert world.payment_status(payment["id"]) == "expired"


def test_paying_twice_is_the_fakes_refusal_and_an_unknown_invoice_is_not_found(world: World) -> None:
    invoice = world.payment()["xendit_invoice_id"]
    _json(world.act("pay-invoice", {"invoice_id": invoice}))
    again = world.act("pay-invoice", {"invoice_id": invoice})
    assert (again.status_code, again.json()["error"]) == (409, "FAKE_REFUSED")
    unknown = world.act("expire-invoice", {"invoice_id": "no-such-invoice"})
    assert (unknown.status_code, unknown.json()["error"]) == (404, "NOT_FOUND")


def test_fire_webhook_with_the_right_token_confirms_and_a_wrong_or_no_token_is_refused(world: World) -> None:
    payment = world.payment()
    for token in ("wrong", "none"):
        refused = world.act("fire-webhook", {"external_id": payment["id"], "token": token})
        assert (refused.status_code, refused.json()["error"]) == (401, "INVALID_CALLBACK_TOKEN")
        assert world.payment_status(payment["id"]) == "pending"
    body = {"external_id": payment["id"], "invoice_id": payment["xendit_invoice_id"], "amount": payment["amount"]}
    _json(world.act("fire-webhook", body))
    assert world.payment_status(payment["id"]) == "confirmed"


def test_advance_clock_moves_the_virtual_clock(world: World) -> None:
    before = _json(world.api.get("/internal/_test/clock"))["now"]
    _json(world.act("advance-clock", {"seconds": 90}))
    assert _json(world.api.get("/internal/_test/clock"))["now"] == pytest.approx(before + 90)


def test_mitra_presence_toggles_the_mitra_and_answers_no_password(world: World) -> None:
    on = world.act("mitra-presence", {"mitra_id": world.mitra_id, "online": True})
    assert _json(on)["online"] is True and "password" not in on.text
    assert _json(world.api.get("/api/mitra/profile", headers=_bearer(world.mitra_token)))["is_online"] is True
    _json(world.act("mitra-presence", {"mitra_id": world.mitra_id, "online": False}))
    assert _json(world.api.get("/api/mitra/profile", headers=_bearer(world.mitra_token)))["is_online"] is False


def _active_session(world: World) -> dict[str, Any]:
    """The customer pays, the mitra (online) is offered the blast and accepts it through the button."""
    _json(world.act("mitra-presence", {"mitra_id": world.mitra_id, "online": True}))
    payment = world.payment()
    _json(world.act("pay-invoice", {"invoice_id": payment["xendit_invoice_id"]}))
    session = _json(world.act("accept-latest", {"mitra_id": world.mitra_id}))
    assert session["status"] == "active" and session["mitra_id"] == world.mitra_id
    return session  # type: ignore[no-any-return]


def test_accept_latest_makes_the_offered_session_active(world: World) -> None:
    session = _active_session(world)
    seen = _json(world.api.get(f"/api/chat/sessions/{session['id']}", headers=_bearer(world.customer_token)))
    assert seen["status"] == "active"


def test_send_as_either_side_stores_the_message_from_that_side(world: World) -> None:
    session = _active_session(world)
    _json(world.act("send-as-customer", {"session_id": session["id"], "text": "halo bestie"}), 201)
    _json(world.act("send-as-mitra", {"session_id": session["id"], "text": "halo juga"}), 201)
    url = f"/api/chat/sessions/{session['id']}/messages"
    messages = _json(world.api.get(url, headers=_bearer(world.customer_token)))["messages"]
    assert [(m["sender_role"], m["text"]) for m in messages] == [("customer", "halo bestie"), ("mitra", "halo juga")]


def test_reset_phone_deletes_the_customer(world: World) -> None:
    report = _json(world.act("reset-phone", {"phone": "+6281234577001"}))
    assert report["deleted"] is True
    refused = world.api.get("/api/customer/profile", headers=_bearer(world.customer_token))
    assert refused.status_code == 401


def test_config_changes_what_the_apps_read(world: World) -> None:
    body = {"prices": [{"duration_minutes": 15, "amount": 17000}], "support": {"whatsapp": "https://wa.me/6281"}}
    _json(world.act("config", body))
    config = _json(world.api.get("/api/config"))
    assert config["support"]["whatsapp"] == "https://wa.me/6281"
    assert {"duration_minutes": 15, "amount": 17000} in config["prices"]


def test_a_forwarded_action_refuses_bad_input_as_its_route_does(world: World) -> None:
    refused = world.act("config", {"prices": []})
    assert (refused.status_code, refused.json()["error"]) == (400, "VALIDATION_ERROR")


def test_xendit_faults_are_set_on_the_fake_and_held_callbacks_flushed(world: World, xendit: httpx.Client) -> None:
    _json(world.act("xendit-faults", {"reorder": True, "clear": True}))
    assert xendit.get("/_fake/faults").json()["reorder"] is True
    payment = world.payment()
    _json(world.act("pay-invoice", {"invoice_id": payment["xendit_invoice_id"]}))
    assert world.payment_status(payment["id"]) == "pending"  # the callback is held
    _json(world.act("xendit-faults", {"clear": True}))
    flushed = _json(world.act("flush-callbacks", {}))
    assert len(flushed["flushed"]) == 1
    assert world.payment_status(payment["id"]) == "confirmed"


def test_without_fakes_a_fake_action_says_so() -> None:
    backend = ReferenceBackend(Settings(env="test"))
    server = ServerThread(create_app(backend), "127.0.0.1", 0, "bare").start()
    try:
        refused = httpx.post(server.url + "/control/actions/pay-invoice", json={"invoice_id": "inv-1"}, trust_env=False)
    finally:
        server.stop()
    assert (refused.status_code, refused.json()["error"]) == (409, "FAKE_NOT_RUNNING")
