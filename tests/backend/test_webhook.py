"""The Xendit invoice webhook over real HTTP: token checks, every status, duplicates, reorders, bad bodies.

One Stack (backend + fake FCM + fake Xendit on one virtual clock) per module.  Payments
are created through the API, so each has a real invoice at the fake; the handler tests
then fire callback bodies themselves (``standalone_callback``), and the end-to-end tests
let the fake deliver them.  Every case compares the payment (as its customer sees it)
and the backend state before and after.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from halo_sim.backend.config import Settings
from halo_sim.backend.state import ReferenceBackend
from halo_sim.stack import Stack
from simkit.clock import VirtualClock
from simkit.errors import Unauthorized
from simkit.scheduler import Scheduler
from simkit.xendit_wire import WEBHOOK_PATH, standalone_callback

WAIT_S = 5.0  # bound for polling an asynchronous delivery; never asserted on
AMOUNT_15 = 15000  # the default price of a 15-minute chat


pytestmark = pytest.mark.usefixtures("fresh")  # tests/backend/conftest.py: reset the Stack per test


# --- helpers ---------------------------------------------------------------------------------


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(api: httpx.Client) -> str:
    response = api.post("/api/customer/auth/anonymous")
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def create_payment(api: httpx.Client, token: str) -> dict[str, Any]:
    response = api.post("/api/customer/payments", json={"duration_minutes": 15}, headers=auth(token))
    assert response.status_code == 201, response.text
    payment: dict[str, Any] = response.json()
    assert payment["status"] == "pending"
    assert payment["xendit_invoice_id"]
    return payment


def payment_of(api: httpx.Client, token: str, payment_id: str) -> dict[str, Any]:
    """The payment as its customer sees it."""
    response = api.get(f"/api/customer/payments/{payment_id}", headers=auth(token))
    assert response.status_code == 200, response.text
    payment: dict[str, Any] = response.json()
    return payment


def state(api: httpx.Client) -> dict[str, Any]:
    response = api.get("/internal/_test/state")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def snapshot(api: httpx.Client) -> dict[str, Any]:
    """What a callback could change: every table, the event history and the webhook log."""
    data = state(api)
    return {"tables": data["tables"], "events": data["events"], "webhooks": data["webhooks"]}


def events_of(api: httpx.Client, payment_id: str, name: str) -> list[dict[str, Any]]:
    return [e for e in state(api)["events"] if e["event"] == name and e.get("payment_request_id") == payment_id]


def sessions_of(api: httpx.Client, payment_id: str) -> list[dict[str, Any]]:
    return [s for s in state(api)["tables"]["chat_sessions"] if s["payment_request_id"] == payment_id]


def callback(api: httpx.Client, payment: dict[str, Any], status: str, invoice_id: str | None = None) -> dict[str, Any]:
    """A Xendit-shaped callback body for ``payment``'s invoice (or another invoice id)."""
    return standalone_callback(
        invoice_id or payment["xendit_invoice_id"], payment["id"], status, payment["amount"], state(api)["now"]
    )


@pytest.fixture(scope="module")
def callback_token(stack: Stack) -> str:
    """The stack's configured callback token (random per start unless XENDIT_CALLBACK_TOKEN is set)."""
    return stack.xendit_callback_token


@pytest.fixture(autouse=True)
def _token(callback_token: str) -> None:
    global RIGHT_TOKEN
    RIGHT_TOKEN = callback_token


RIGHT_TOKEN = ""  # set per test from the stack: what ``fire`` sends by default


def fire(api: httpx.Client, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    """POST a callback to the webhook with the right token (unless ``headers`` says otherwise)."""
    if headers is None:
        headers = {"x-callback-token": RIGHT_TOKEN}
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return api.post(WEBHOOK_PATH, content=content, headers={"content-type": "application/json", **headers})


def wait_until(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.01)


# --- the token -------------------------------------------------------------------------------


def test_paid_callback_with_the_right_token_is_200_and_confirms(api: httpx.Client) -> None:
    token = login(api)
    payment = create_payment(api, token)
    assert payment_of(api, token, payment["id"])["status"] == "pending"

    response = fire(api, callback(api, payment, "PAID"))

    assert response.status_code == 200, response.text
    assert response.json()["result"] == "confirmed"
    assert payment_of(api, token, payment["id"])["status"] == "confirmed"


@pytest.mark.parametrize(
    "make_headers",
    [
        pytest.param(lambda t: {"x-callback-token": "not-the-token"}, id="wrong-token"),
        pytest.param(lambda t: {}, id="missing-header"),
        pytest.param(lambda t: {"x-callback-token": ""}, id="empty-token"),
        pytest.param(lambda t: {"x-callback-token": t[:-1]}, id="prefix-of-the-right-token"),
        pytest.param(lambda t: {"x-callback-token": t + "x"}, id="right-token-plus-one-char"),
        pytest.param(lambda t: {"x-callback-token": t.upper()}, id="right-token-other-case"),
        pytest.param(lambda t: {"authorization": f"Bearer {t}"}, id="token-in-the-wrong-header"),
    ],
)
def test_callback_without_the_exact_token_is_401_and_changes_nothing(
    api: httpx.Client, callback_token: str, make_headers: Callable[[str], dict[str, str]]
) -> None:
    headers = make_headers(callback_token)
    token = login(api)
    payment = create_payment(api, token)
    body = callback(api, payment, "PAID")
    before = snapshot(api)
    assert payment_of(api, token, payment["id"])["status"] == "pending"

    response = fire(api, body, headers)

    assert response.status_code == 401, response.text
    assert response.json()["error"] == "INVALID_CALLBACK_TOKEN"
    assert payment_of(api, token, payment["id"])["status"] == "pending"
    assert snapshot(api) == before


def test_wrong_token_is_401_even_when_the_body_is_malformed(api: httpx.Client) -> None:
    """The token is checked before the body is parsed: a bad body without the token is 401, not 400."""
    before = snapshot(api)
    response = fire(api, b"{not json", {"x-callback-token": "nope"})
    assert (response.status_code, response.json()["error"]) == (401, "INVALID_CALLBACK_TOKEN"), response.text
    assert snapshot(api) == before


@pytest.mark.parametrize("presented", [None, "", "anything", "halo-sim-callback-token"])
def test_an_unset_callback_token_accepts_no_callback_at_all(presented: str | None) -> None:
    """With ``XENDIT_CALLBACK_TOKEN`` empty, verify refuses everything (an empty header included)."""
    backend = ReferenceBackend(Settings(xendit_callback_token=""), Scheduler(VirtualClock()))
    try:
        with pytest.raises(Unauthorized) as refused:
            backend.webhook.verify(presented)
        assert refused.value.code == "INVALID_CALLBACK_TOKEN"
    finally:
        asyncio.run(backend.close())


def test_a_set_callback_token_is_accepted_by_verify() -> None:
    backend = ReferenceBackend(Settings(xendit_callback_token="s3cret"), Scheduler(VirtualClock()))
    try:
        backend.webhook.verify("s3cret")  # no exception
        with pytest.raises(Unauthorized):
            backend.webhook.verify("s3cre")
    finally:
        asyncio.run(backend.close())


# --- each status -----------------------------------------------------------------------------


def test_paid_confirms_with_exactly_one_confirmed_event_and_starts_pairing(api: httpx.Client) -> None:
    token = login(api)
    payment = create_payment(api, token)
    assert events_of(api, payment["id"], "payment_request.confirmed") == []
    assert sessions_of(api, payment["id"]) == []

    response = fire(api, callback(api, payment, "PAID"))

    assert response.status_code == 200, response.text
    assert response.json() == {
        "result": "confirmed",
        "payment_request_id": payment["id"],
        "payment_status": "confirmed",
    }
    after = payment_of(api, token, payment["id"])
    assert after["status"] == "confirmed"
    assert after["confirmed_source"] == "xendit_webhook"
    assert len(events_of(api, payment["id"], "payment_request.confirmed")) == 1
    sessions = sessions_of(api, payment["id"])
    assert len(sessions) == 1
    assert sessions[0]["status"] in ("searching", "offered")
    log = state(api)["webhooks"]
    assert [(w["status"], w["result"], w["invoice_id"]) for w in log] == [
        ("PAID", "confirmed", payment["xendit_invoice_id"])
    ]


def test_settled_on_a_pending_payment_confirms_it(api: httpx.Client) -> None:
    token = login(api)
    payment = create_payment(api, token)
    assert payment_of(api, token, payment["id"])["status"] == "pending"

    response = fire(api, callback(api, payment, "SETTLED"))

    assert response.status_code == 200, response.text
    assert response.json()["result"] == "confirmed"
    assert payment_of(api, token, payment["id"])["status"] == "confirmed"
    assert len(events_of(api, payment["id"], "payment_request.confirmed")) == 1
    assert len(sessions_of(api, payment["id"])) == 1


def test_settled_after_paid_is_a_duplicate_and_starts_nothing_new(api: httpx.Client) -> None:
    token = login(api)
    payment = create_payment(api, token)
    assert fire(api, callback(api, payment, "PAID")).json()["result"] == "confirmed"
    before = payment_of(api, token, payment["id"])

    response = fire(api, callback(api, payment, "SETTLED"))

    assert response.status_code == 200, response.text
    assert response.json()["result"] == "duplicate"
    assert payment_of(api, token, payment["id"]) == before
    assert len(events_of(api, payment["id"], "payment_request.confirmed")) == 1
    assert len(sessions_of(api, payment["id"])) == 1


def test_expired_on_a_pending_payment_expires_it(api: httpx.Client) -> None:
    token = login(api)
    payment = create_payment(api, token)
    assert payment_of(api, token, payment["id"])["status"] == "pending"

    response = fire(api, callback(api, payment, "EXPIRED"))

    assert response.status_code == 200, response.text
    assert response.json() == {"result": "expired", "payment_request_id": payment["id"], "payment_status": "expired"}
    assert payment_of(api, token, payment["id"])["status"] == "expired"
    assert len(events_of(api, payment["id"], "payment_request.expired")) == 1
    assert events_of(api, payment["id"], "payment_request.confirmed") == []
    assert sessions_of(api, payment["id"]) == []


def test_expired_twice_is_a_duplicate_and_emits_no_second_event(api: httpx.Client) -> None:
    token = login(api)
    payment = create_payment(api, token)
    assert fire(api, callback(api, payment, "EXPIRED")).json()["result"] == "expired"

    response = fire(api, callback(api, payment, "EXPIRED"))

    assert response.status_code == 200, response.text
    assert response.json()["result"] == "duplicate"
    assert payment_of(api, token, payment["id"])["status"] == "expired"
    assert len(events_of(api, payment["id"], "payment_request.expired")) == 1


# --- duplicates and reorders -----------------------------------------------------------------


def test_duplicate_paid_is_200_duplicate_with_still_one_confirmed_event(api: httpx.Client) -> None:
    token = login(api)
    payment = create_payment(api, token)
    first = fire(api, callback(api, payment, "PAID"))
    assert first.json()["result"] == "confirmed"
    before = payment_of(api, token, payment["id"])
    assert before["status"] == "confirmed"

    second = fire(api, callback(api, payment, "PAID"))

    assert second.status_code == 200, second.text
    assert second.json() == {"result": "duplicate", "payment_request_id": payment["id"], "payment_status": "confirmed"}
    assert payment_of(api, token, payment["id"]) == before  # confirmed_at/source kept from the first
    assert len(events_of(api, payment["id"], "payment_request.confirmed")) == 1
    assert len(sessions_of(api, payment["id"])) == 1
    assert [w["result"] for w in state(api)["webhooks"]] == ["confirmed", "duplicate"]


def test_expired_after_paid_is_ignored_already_paid_and_the_payment_stays_confirmed(api: httpx.Client) -> None:
    token = login(api)
    payment = create_payment(api, token)
    assert fire(api, callback(api, payment, "PAID")).json()["result"] == "confirmed"
    before = payment_of(api, token, payment["id"])
    assert before["status"] == "confirmed"

    response = fire(api, callback(api, payment, "EXPIRED"))

    assert response.status_code == 200, response.text
    assert response.json() == {
        "result": "ignored",
        "reason": "ALREADY_PAID",
        "payment_request_id": payment["id"],
        "payment_status": "confirmed",
    }
    assert payment_of(api, token, payment["id"]) == before
    assert events_of(api, payment["id"], "payment_request.expired") == []
    assert len(sessions_of(api, payment["id"])) == 1


def test_paid_after_expired_is_a_late_payment_and_confirms(api: httpx.Client) -> None:
    token = login(api)
    payment = create_payment(api, token)
    assert fire(api, callback(api, payment, "EXPIRED")).json()["result"] == "expired"
    assert payment_of(api, token, payment["id"])["status"] == "expired"
    assert sessions_of(api, payment["id"]) == []

    response = fire(api, callback(api, payment, "PAID"))

    assert response.status_code == 200, response.text
    assert response.json()["result"] == "confirmed"
    assert payment_of(api, token, payment["id"])["status"] == "confirmed"
    assert len(events_of(api, payment["id"], "payment_request.confirmed")) == 1
    assert len(sessions_of(api, payment["id"])) == 1


# --- malformed bodies --------------------------------------------------------------------------


def _without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


@pytest.mark.parametrize(
    "make_body",
    [
        pytest.param(lambda good: b"this is not json", id="not-json"),
        pytest.param(lambda good: b'{"id": "x", "external_id": ', id="truncated-json"),
        pytest.param(lambda good: [good], id="json-array"),
        pytest.param(lambda good: "PAID", id="json-string"),
        pytest.param(lambda good: _without(good, "external_id"), id="missing-external_id"),
        pytest.param(lambda good: _without(good, "id"), id="missing-id"),
        pytest.param(lambda good: _without(good, "status"), id="missing-status"),
        pytest.param(lambda good: {**good, "status": "FOO"}, id="unknown-status-FOO"),
        pytest.param(lambda good: {**good, "status": "paid"}, id="lower-case-status"),
        pytest.param(lambda good: {**good, "status": "PENDING"}, id="status-PENDING"),
        pytest.param(lambda good: {**good, "external_id": None}, id="null-external_id"),
        pytest.param(lambda good: b"", id="empty-body"),
    ],
)
def test_malformed_callback_is_400_and_changes_nothing(
    api: httpx.Client, make_body: Callable[[dict[str, Any]], Any]
) -> None:
    token = login(api)
    payment = create_payment(api, token)
    good = callback(api, payment, "PAID")
    before = snapshot(api)
    assert payment_of(api, token, payment["id"])["status"] == "pending"

    response = fire(api, make_body(good))

    assert response.status_code == 400, response.text
    assert response.json()["error"] == "VALIDATION_ERROR"
    assert payment_of(api, token, payment["id"])["status"] == "pending"
    assert snapshot(api) == before


# --- callbacks that cannot apply ---------------------------------------------------------------


def test_unknown_external_id_is_200_ignored_unknown_payment(api: httpx.Client) -> None:
    token = login(api)
    payment = create_payment(api, token)
    before = snapshot(api)
    assert payment_of(api, token, payment["id"])["status"] == "pending"

    body = standalone_callback(payment["xendit_invoice_id"], "no-such-payment", "PAID", AMOUNT_15, state(api)["now"])
    response = fire(api, body)

    assert response.status_code == 200, response.text
    assert response.json() == {"result": "ignored", "reason": "UNKNOWN_PAYMENT"}
    after = snapshot(api)
    assert after["tables"] == before["tables"]
    assert after["events"] == before["events"]
    assert [(w["external_id"], w["result"], w["reason"]) for w in after["webhooks"]] == [
        ("no-such-payment", "ignored", "UNKNOWN_PAYMENT")
    ]
    assert payment_of(api, token, payment["id"])["status"] == "pending"


@pytest.mark.parametrize("status", ["PAID", "SETTLED", "EXPIRED"])
def test_invoice_id_other_than_the_payments_is_200_ignored_invoice_mismatch(api: httpx.Client, status: str) -> None:
    token = login(api)
    payment = create_payment(api, token)
    before = snapshot(api)
    assert payment_of(api, token, payment["id"])["status"] == "pending"

    response = fire(api, callback(api, payment, status, invoice_id="65a1b2c3ffffffffffffffff"))

    assert response.status_code == 200, response.text
    assert response.json() == {"result": "ignored", "reason": "INVOICE_MISMATCH", "payment_request_id": payment["id"]}
    assert payment_of(api, token, payment["id"])["status"] == "pending"
    after = snapshot(api)
    assert after["tables"] == before["tables"]
    assert after["events"] == before["events"]


def test_invoice_mismatch_on_a_confirmed_payment_leaves_it_confirmed(api: httpx.Client) -> None:
    token = login(api)
    payment = create_payment(api, token)
    assert fire(api, callback(api, payment, "PAID")).json()["result"] == "confirmed"
    before = snapshot(api)
    assert payment_of(api, token, payment["id"])["status"] == "confirmed"

    response = fire(api, callback(api, payment, "EXPIRED", invoice_id="65a1b2c3ffffffffffffffff"))

    assert response.json()["reason"] == "INVOICE_MISMATCH"
    assert payment_of(api, token, payment["id"])["status"] == "confirmed"
    assert snapshot(api)["tables"] == before["tables"]


@pytest.mark.parametrize("status", ["PAID", "SETTLED"])
def test_a_paid_callback_for_less_than_the_amount_is_ignored_amount_mismatch(api: httpx.Client, status: str) -> None:
    token = login(api)
    payment = create_payment(api, token)
    before = snapshot(api)["tables"]
    body = {**callback(api, payment, status), "paid_amount": payment["amount"] - 1}

    response = fire(api, body)

    assert response.status_code == 200, response.text
    assert response.json() == {
        "result": "ignored",
        "reason": "AMOUNT_MISMATCH",
        "payment_request_id": payment["id"],
        "expected_amount": payment["amount"],
        "paid_amount": payment["amount"] - 1,
    }
    assert payment_of(api, token, payment["id"])["status"] == "pending"
    assert snapshot(api)["tables"] == before  # no confirmation, no ledger row, no session


def test_a_confirmation_books_one_customer_transaction_and_a_duplicate_books_none(api: httpx.Client) -> None:
    token = login(api)
    payment = create_payment(api, token)
    assert fire(api, callback(api, payment, "PAID")).json()["result"] == "confirmed"
    assert fire(api, callback(api, payment, "SETTLED")).json()["result"] == "duplicate"

    rows = [t for t in state(api)["tables"]["customer_transactions"] if t["payment_request_id"] == payment["id"]]
    assert [(t["customer_id"], t["amount"], t["kind"]) for t in rows] == [
        (payment["customer_id"], payment["amount"], "payment")
    ]


# --- end to end: the fake delivers -------------------------------------------------------------


def test_paying_at_the_fake_delivers_the_callback_and_confirms_the_payment(
    api: httpx.Client, xendit: httpx.Client
) -> None:
    token = login(api)
    payment = create_payment(api, token)
    assert payment_of(api, token, payment["id"])["status"] == "pending"

    paid = xendit.post(f"/_fake/invoices/{payment['xendit_invoice_id']}/pay")
    assert paid.status_code == 200, paid.text

    wait_until(lambda: payment_of(api, token, payment["id"])["status"] == "confirmed", "the PAID callback")
    assert [d["outcome"] for d in paid.json()["deliveries"]] == ["delivered"]
    assert payment_of(api, token, payment["id"])["confirmed_source"] == "xendit_webhook"
    assert len(events_of(api, payment["id"], "payment_request.confirmed")) == 1
    assert len(sessions_of(api, payment["id"])) == 1
    log = state(api)["webhooks"]
    assert [(w["status"], w["result"], w["source"]) for w in log] == [("PAID", "confirmed", "xendit_webhook")]


def test_expiring_at_the_fake_delivers_the_callback_and_expires_the_payment(
    api: httpx.Client, xendit: httpx.Client
) -> None:
    token = login(api)
    payment = create_payment(api, token)
    assert payment_of(api, token, payment["id"])["status"] == "pending"

    expired = xendit.post(f"/_fake/invoices/{payment['xendit_invoice_id']}/expire")
    assert expired.status_code == 200, expired.text

    wait_until(lambda: payment_of(api, token, payment["id"])["status"] == "expired", "the EXPIRED callback")
    assert [w["result"] for w in state(api)["webhooks"]] == ["expired"]


def test_duplicated_delivery_is_logged_once_confirmed_once_duplicate(api: httpx.Client, xendit: httpx.Client) -> None:
    token = login(api)
    payment = create_payment(api, token)
    assert xendit.post("/_fake/faults", json={"duplicate": True}).status_code == 200
    assert payment_of(api, token, payment["id"])["status"] == "pending"

    paid = xendit.post(f"/_fake/invoices/{payment['xendit_invoice_id']}/pay")
    assert paid.status_code == 200, paid.text

    wait_until(lambda: len(state(api)["webhooks"]) == 2, "both copies of the PAID callback")
    assert sorted(w["result"] for w in state(api)["webhooks"]) == ["confirmed", "duplicate"]
    assert payment_of(api, token, payment["id"])["status"] == "confirmed"
    assert len(events_of(api, payment["id"], "payment_request.confirmed")) == 1
    assert len(sessions_of(api, payment["id"])) == 1


def test_reordered_delivery_paid_then_expired_newest_first_keeps_the_payment_confirmed(
    api: httpx.Client, xendit: httpx.Client
) -> None:
    """Held callbacks flushed newest first: the fake only holds what it sent, so pay then settle."""
    token = login(api)
    payment = create_payment(api, token)
    invoice_id = payment["xendit_invoice_id"]
    assert xendit.post("/_fake/faults", json={"reorder": True}).status_code == 200
    assert xendit.post(f"/_fake/invoices/{invoice_id}/pay").status_code == 200
    assert xendit.post(f"/_fake/invoices/{invoice_id}/settle").status_code == 200
    assert payment_of(api, token, payment["id"])["status"] == "pending"  # both held

    flushed = xendit.post("/_fake/callbacks/flush")
    assert flushed.status_code == 200, flushed.text

    wait_until(lambda: len(state(api)["webhooks"]) == 2, "both held callbacks")
    log = state(api)["webhooks"]
    assert [(w["status"], w["result"]) for w in log] == [("SETTLED", "confirmed"), ("PAID", "duplicate")]
    assert payment_of(api, token, payment["id"])["status"] == "confirmed"
    assert len(events_of(api, payment["id"], "payment_request.confirmed")) == 1
