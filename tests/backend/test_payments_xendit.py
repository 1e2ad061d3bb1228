"""Payments with Xendit enabled, over real HTTP: the invoice first, provider failures, webhook-path confirmation,
and the legacy client-driven chat start living with the server-driven one.

One Stack (backend + fake FCM + fake Xendit on one virtual clock) per module.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from halo_sim.backend.services.payments import CONFIRMED
from halo_sim.stack import Stack
from simkit.clock import parse_iso

PHONE = "+6281234500042"


pytestmark = pytest.mark.usefixtures("fresh")  # tests/backend/conftest.py: reset the Stack per test


# --- helpers ---------------------------------------------------------------------------------


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(api: httpx.Client, phone: str = PHONE) -> str:
    """OTP login with the code read from the test surface; returns the bearer token."""
    assert api.post("/api/customer/auth/otp/request", json={"phone": phone}).status_code == 200
    code = api.get("/internal/_test/otp", params={"phone": phone}).json()["code"]
    response = api.post("/api/customer/auth/otp/verify", json={"phone": phone, "code": code})
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def request_payment(api: httpx.Client, token: str, minutes: int = 15) -> httpx.Response:
    return api.post("/api/customer/payments", json={"duration_minutes": minutes}, headers=auth(token))


def create_payment(api: httpx.Client, token: str) -> dict[str, Any]:
    response = request_payment(api, token)
    assert response.status_code == 201, response.text
    payment: dict[str, Any] = response.json()
    return payment


def payment_of(api: httpx.Client, token: str, payment_id: str) -> dict[str, Any]:
    response = api.get(f"/api/customer/payments/{payment_id}", headers=auth(token))
    assert response.status_code == 200, response.text
    payment: dict[str, Any] = response.json()
    return payment


def state(api: httpx.Client) -> dict[str, Any]:
    response = api.get("/internal/_test/state")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def sessions_of(api: httpx.Client, payment_id: str) -> list[dict[str, Any]]:
    return [s for s in state(api)["tables"]["chat_sessions"] if s["payment_request_id"] == payment_id]


@pytest.fixture(scope="module")
def secret_key(stack: Stack) -> str:
    """The stack's Xendit secret key (random per start unless XENDIT_SECRET_KEY is configured)."""
    return stack.config.xendit_secret_key


def invoice_at_xendit(xendit: httpx.Client, invoice_id: str, secret_key: str) -> dict[str, Any]:
    """The invoice through the fake's real API (Basic auth with the secret key)."""
    response = xendit.get(f"/v2/invoices/{invoice_id}", auth=(secret_key, ""))
    assert response.status_code == 200, response.text
    invoice: dict[str, Any] = response.json()
    return invoice


def legacy_start(api: httpx.Client, token: str, payment_id: str) -> dict[str, Any]:
    response = api.post("/api/customer/chat/request", json={"payment_request_id": payment_id}, headers=auth(token))
    assert response.status_code == 200, response.text
    session: dict[str, Any] = response.json()
    return session


def confirm_losing_the_event(api: httpx.Client, payment_id: str) -> None:
    response = api.post(
        "/internal/_test/force-confirm-payment", json={"payment_request_id": payment_id, "lose_event": True}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "confirmed"


# --- creating a payment ----------------------------------------------------------------------


def test_creating_a_payment_returns_the_xendit_invoice_id_and_url(
    api: httpx.Client, xendit: httpx.Client, secret_key: str
) -> None:
    token = login(api)

    payment = create_payment(api, token)

    assert payment["status"] == "pending"
    assert payment["xendit_invoice_id"]
    invoice = invoice_at_xendit(xendit, payment["xendit_invoice_id"], secret_key)
    assert invoice["external_id"] == payment["id"]
    assert invoice["amount"] == payment["amount"] == 15000
    assert invoice["status"] == "PENDING"
    assert payment["xendit_invoice_url"] == invoice["invoice_url"]


def test_the_invoice_url_serves_the_checkout_page(api: httpx.Client) -> None:
    token = login(api)
    payment = create_payment(api, token)

    page = httpx.get(payment["xendit_invoice_url"], timeout=10, trust_env=False)

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert payment["xendit_invoice_id"] in page.text


def test_payment_expires_at_equals_the_invoice_expiry(api: httpx.Client, xendit: httpx.Client, secret_key: str) -> None:
    token = login(api)
    now = state(api)["now"]

    payment = create_payment(api, token)

    invoice = invoice_at_xendit(xendit, payment["xendit_invoice_id"], secret_key)
    assert payment["expires_at"] == parse_iso(invoice["expiry_date"])
    assert payment["expires_at"] == now + 86400  # the backend asked for payment_expiry_s
    assert payment_of(api, token, payment["id"])["expires_at"] == payment["expires_at"]


def test_one_invoice_is_created_per_payment_with_the_payment_id_as_external_id(
    api: httpx.Client, xendit: httpx.Client
) -> None:
    token = login(api)
    payment = create_payment(api, token)
    calls = [c for c in xendit.get("/_fake/calls").json()["calls"] if c["method"] == "POST"]
    assert len(calls) == 1
    invoices = xendit.get("/_fake/state").json()["invoices"]
    assert [(i["id"], i["external_id"]) for i in invoices] == [(payment["xendit_invoice_id"], payment["id"])]


# --- Xendit refuses --------------------------------------------------------------------------


def test_xendit_failure_answers_502_payment_provider_error_and_stores_no_payment(
    api: httpx.Client, xendit: httpx.Client
) -> None:
    token = login(api)
    faults = {"fail_api": {"count": 1, "error_code": "SERVER_ERROR"}}
    assert xendit.post("/_fake/faults", json=faults).status_code == 200
    assert state(api)["tables"]["payment_requests"] == []

    response = request_payment(api, token)

    assert response.status_code == 502, response.text
    body = response.json()
    assert body["error"] == "PAYMENT_PROVIDER_ERROR"
    assert body["provider_code"] == "SERVER_ERROR"
    assert body["provider_status"] == 500
    assert state(api)["tables"]["payment_requests"] == []
    assert xendit.get("/_fake/state").json()["invoices"] == []
    assert state(api)["events"] == []


def test_after_a_xendit_failure_the_next_attempt_succeeds(api: httpx.Client, xendit: httpx.Client) -> None:
    token = login(api)
    faults = {"fail_api": {"count": 1, "error_code": "SERVER_ERROR"}}
    assert xendit.post("/_fake/faults", json=faults).status_code == 200
    assert request_payment(api, token).status_code == 502

    retry = request_payment(api, token)

    assert retry.status_code == 201, retry.text
    rows = state(api)["tables"]["payment_requests"]
    assert [r["id"] for r in rows] == [retry.json()["id"]]
    assert rows[0]["xendit_invoice_id"] == retry.json()["xendit_invoice_id"]


def test_a_rejected_api_key_is_also_a_502_with_the_provider_code(
    api: httpx.Client, xendit: httpx.Client, secret_key: str
) -> None:
    token = login(api)
    assert xendit.post("/_fake/config", json={"secret_key": "xnd_development_someone_else"}).status_code == 200
    try:
        response = request_payment(api, token)
    finally:
        assert xendit.post("/_fake/config", json={"secret_key": secret_key}).status_code == 200

    assert response.status_code == 502, response.text
    assert response.json()["provider_code"] == "INVALID_API_KEY"
    assert response.json()["provider_status"] == 401
    assert state(api)["tables"]["payment_requests"] == []


# --- confirming through the webhook path ------------------------------------------------------


def test_mark_latest_payment_paid_confirms_through_the_webhook_handler(api: httpx.Client) -> None:
    token = login(api)
    payment = create_payment(api, token)
    assert payment_of(api, token, payment["id"])["status"] == "pending"

    response = api.post("/internal/_test/mark-latest-payment-paid", json={"phone": PHONE})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["result"] == "confirmed"
    assert body["payment_request_id"] == payment["id"]
    assert body["payment"]["status"] == "confirmed"
    assert payment_of(api, token, payment["id"])["status"] == "confirmed"
    log = state(api)["webhooks"]
    assert [(w["invoice_id"], w["status"], w["result"], w["source"]) for w in log] == [
        (payment["xendit_invoice_id"], "PAID", "confirmed", "test")
    ]
    assert len(sessions_of(api, payment["id"])) == 1


def test_mark_latest_payment_paid_without_a_pending_payment_is_404(api: httpx.Client) -> None:
    login(api)
    response = api.post("/internal/_test/mark-latest-payment-paid", json={"phone": PHONE})
    assert (response.status_code, response.json()["error"]) == (404, "NOT_FOUND"), response.text


# --- legacy client-driven start ----------------------------------------------------------------


def test_legacy_chat_request_after_a_lost_event_starts_pairing_and_is_idempotent(api: httpx.Client) -> None:
    token = login(api)
    payment = create_payment(api, token)
    confirm_losing_the_event(api, payment["id"])
    assert sessions_of(api, payment["id"]) == []

    first = legacy_start(api, token, payment["id"])
    second = legacy_start(api, token, payment["id"])

    assert first["payment_request_id"] == payment["id"]
    assert first["status"] in ("searching", "offered")
    assert second["id"] == first["id"]
    assert [s["id"] for s in sessions_of(api, payment["id"])] == [first["id"]]


def test_server_driven_start_after_a_legacy_start_does_not_create_a_second_session(
    api: httpx.Client, stack: Stack
) -> None:
    token = login(api)
    payment = create_payment(api, token)
    confirm_losing_the_event(api, payment["id"])
    session = legacy_start(api, token, payment["id"])

    # The sweeper sees the session and re-emits nothing …
    report = api.post("/internal/_test/run-reconciliation", json={}).json()
    assert report["reemitted"] == []
    # … and a late confirmed event (the blast's trigger) lands in the same idempotent start.
    stack.loop.call(stack.backend.deps.bus.emit(CONFIRMED, {"payment_request_id": payment["id"], "source": "late"}))

    assert [s["id"] for s in sessions_of(api, payment["id"])] == [session["id"]]
    assert state(api)["errors"] == []
    assert legacy_start(api, token, payment["id"])["id"] == session["id"]


def test_legacy_chat_request_on_an_unpaid_payment_is_409(api: httpx.Client) -> None:
    token = login(api)
    payment = create_payment(api, token)

    response = api.post("/api/customer/chat/request", json={"payment_request_id": payment["id"]}, headers=auth(token))

    assert response.status_code == 409, response.text
    assert response.json()["error"] == "PAYMENT_NOT_CONFIRMED"
    assert sessions_of(api, payment["id"]) == []
