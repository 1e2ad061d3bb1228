"""Fixtures of the control-center tests: one Stack per module (backend + both fakes, virtual clock),
a client on it, a per-test reset, and the people a test needs (a customer, a mitra, a payment)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from halo_sim.stack import Stack
from simkit.xendit_wire import WEBHOOK_PATH

CUSTOMER_PHONE = "+6281234577001"
MITRA_PHONE = "+6281199977001"
MITRA_PASSWORD = "control-pass-77"
CUSTOMER_FCM_TOKEN = "fcm-customer-token-0123456789abcdef"


@pytest.fixture(scope="module")
def api(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.urls()["backend"], timeout=30, trust_env=False) as client:
        yield client


@pytest.fixture(scope="module")
def xendit(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.urls()["fake_xendit"], timeout=10, trust_env=False) as client:
        yield client


@pytest.fixture
def fresh(stack: Stack, api: httpx.Client, xendit: httpx.Client) -> None:
    """Every server back to its start, fake Xendit's callbacks pointed at the backend again."""
    api.post("/internal/_test/reset", json={}).raise_for_status()
    xendit.post("/_fake/reset").raise_for_status()
    callback = {"callback_url": stack.urls()["backend"] + WEBHOOK_PATH, "callback_token": stack.xendit_callback_token}
    xendit.post("/_fake/config", json=callback).raise_for_status()
    httpx.post(stack.urls()["fake_fcm"] + "/_fake/reset", trust_env=False).raise_for_status()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, response.text
    return response.json()


@dataclass
class World:
    """A logged-in customer (with a device and an OTP left outstanding) and a seeded mitra, offline.

    Its methods are what the tests do to it: create a payment, press a button, read a status.
    """

    api: httpx.Client
    customer_token: str
    customer_id: str
    mitra_token: str
    mitra_id: str
    otp: str

    def payment(self) -> dict[str, Any]:
        """A pending payment with its fake Xendit invoice."""
        body = {"duration_minutes": 15}
        payment: dict[str, Any] = ok(
            self.api.post("/api/customer/payments", json=body, headers=bearer(self.customer_token))
        )
        assert payment["xendit_invoice_id"]
        return payment

    def payment_status(self, payment_id: str) -> str:
        found = ok(self.api.get(f"/api/customer/payments/{payment_id}", headers=bearer(self.customer_token)))
        return str(found["status"])

    def act(self, name: str, body: dict[str, Any]) -> httpx.Response:
        """One control-center button, as the page posts it."""
        return self.api.post(f"/control/actions/{name}", json=body)

    def snapshot(self) -> dict[str, Any]:
        return ok(self.api.get("/control/snapshot"))  # type: ignore[no-any-return]


@pytest.fixture
def world(fresh: None, api: httpx.Client) -> World:
    ok(api.post("/api/customer/auth/otp/request", json={"phone": CUSTOMER_PHONE}))
    code = ok(api.get("/internal/_test/otp", params={"phone": CUSTOMER_PHONE}))["code"]
    signed = ok(api.post("/api/customer/auth/otp/verify", json={"phone": CUSTOMER_PHONE, "code": code}))
    device = {"fcm_token": CUSTOMER_FCM_TOKEN}
    ok(api.post("/api/customer/devices", json=device, headers=bearer(signed["token"])))
    ok(api.post("/api/customer/auth/otp/request", json={"phone": CUSTOMER_PHONE}))  # one left outstanding
    pending = ok(api.get("/internal/_test/otp", params={"phone": CUSTOMER_PHONE}))["code"]
    seed = {"phone": MITRA_PHONE, "display_name": "Bestie Control", "password": MITRA_PASSWORD}
    ok(api.post("/internal/_test/seed-mitra", json=seed))
    login = ok(api.post("/api/mitra/auth/login", json={"phone": MITRA_PHONE, "password": MITRA_PASSWORD}))
    return World(api, signed["token"], signed["customer"]["id"], login["token"], login["mitra"]["id"], pending)
