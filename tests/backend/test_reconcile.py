"""The reconciliation sweeper: lost ``confirmed`` events re-emitted, overdue payments settled with Xendit.

Through a real Stack (backend + fakes on one virtual clock) over HTTP, plus a unit-ish
test of a bare ReferenceBackend without Xendit on a VirtualClock scheduler.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from halo_sim.backend.config import Settings
from halo_sim.backend.services.webhooks import XenditCallback
from halo_sim.backend.state import ReferenceBackend
from halo_sim.backend.tables import Customer
from halo_sim.domain.payment import PaymentStatus
from simkit.clock import VirtualClock
from simkit.scheduler import Scheduler

SWEEP_S = 60  # Settings.sweep_interval_s
EXPIRY_S = 86_400  # Settings.payment_expiry_s (and the invoice duration the backend asks Xendit for)


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
    return payment


def payment_status(api: httpx.Client, token: str, payment_id: str) -> str:
    response = api.get(f"/api/customer/payments/{payment_id}", headers=auth(token))
    assert response.status_code == 200, response.text
    return str(response.json()["status"])


def state(api: httpx.Client) -> dict[str, Any]:
    response = api.get("/internal/_test/state")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def sessions_of(api: httpx.Client, payment_id: str) -> list[dict[str, Any]]:
    return [s for s in state(api)["tables"]["chat_sessions"] if s["payment_request_id"] == payment_id]


def events_of(api: httpx.Client, payment_id: str, name: str) -> list[dict[str, Any]]:
    return [e for e in state(api)["events"] if e["event"] == name and e.get("payment_request_id") == payment_id]


def confirm_losing_the_event(api: httpx.Client, payment_id: str) -> None:
    response = api.post(
        "/internal/_test/force-confirm-payment", json={"payment_request_id": payment_id, "lose_event": True}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "confirmed"


def advance(api: httpx.Client, seconds: float) -> dict[str, Any]:
    response = api.post("/internal/_test/clock", json={"seconds": seconds})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def run_reconciliation(api: httpx.Client) -> dict[str, list[str]]:
    response = api.post("/internal/_test/run-reconciliation", json={})
    assert response.status_code == 200, response.text
    report: dict[str, list[str]] = response.json()
    return report


def invoice_reads(xendit: httpx.Client, invoice_id: str) -> int:
    """How many times the backend asked the fake for this invoice (GET /v2/invoices/{id})."""
    calls = xendit.get("/_fake/calls").json()["calls"]
    return sum(1 for c in calls if c["method"] == "GET" and c["path"] == f"/v2/invoices/{invoice_id}")


# --- lost confirmed events -------------------------------------------------------------------


def test_confirmation_with_lost_event_leaves_a_confirmed_payment_without_session(api: httpx.Client) -> None:
    token = login(api)
    payment = create_payment(api, token)

    confirm_losing_the_event(api, payment["id"])

    assert payment_status(api, token, payment["id"]) == "confirmed"
    assert sessions_of(api, payment["id"]) == []
    assert events_of(api, payment["id"], "payment_request.confirmed") == []


def test_run_reconciliation_reemits_a_lost_confirmation_and_pairing_starts(api: httpx.Client) -> None:
    token = login(api)
    payment = create_payment(api, token)
    confirm_losing_the_event(api, payment["id"])
    assert sessions_of(api, payment["id"]) == []

    report = run_reconciliation(api)

    assert report == {"reemitted": [payment["id"]], "expired": [], "confirmed": [], "failed_pairing": [], "errors": []}
    assert len(sessions_of(api, payment["id"])) == 1
    reemitted = events_of(api, payment["id"], "payment_request.confirmed")
    assert [e["source"] for e in reemitted] == ["reconciliation"]


def test_a_second_reconciliation_does_not_reemit_once_the_session_exists(api: httpx.Client) -> None:
    token = login(api)
    payment = create_payment(api, token)
    confirm_losing_the_event(api, payment["id"])
    assert run_reconciliation(api)["reemitted"] == [payment["id"]]

    again = run_reconciliation(api)

    assert again["reemitted"] == []
    assert len(sessions_of(api, payment["id"])) == 1
    assert len(events_of(api, payment["id"], "payment_request.confirmed")) == 1


def test_reconciliation_leaves_a_normally_confirmed_payment_alone(api: httpx.Client) -> None:
    token = login(api)
    payment = create_payment(api, token)
    response = api.post("/internal/_test/force-confirm-payment", json={"payment_request_id": payment["id"]})
    assert response.status_code == 200, response.text
    assert len(sessions_of(api, payment["id"])) == 1

    assert run_reconciliation(api)["reemitted"] == []
    assert len(sessions_of(api, payment["id"])) == 1


def test_periodic_sweep_after_one_interval_reemits_without_run_reconciliation(api: httpx.Client) -> None:
    token = login(api)
    payment = create_payment(api, token)
    confirm_losing_the_event(api, payment["id"])
    assert sessions_of(api, payment["id"]) == []

    advance(api, SWEEP_S)

    assert len(sessions_of(api, payment["id"])) == 1
    assert [e["source"] for e in events_of(api, payment["id"], "payment_request.confirmed")] == ["reconciliation"]


def test_periodic_sweep_does_not_run_before_the_interval(api: httpx.Client) -> None:
    token = login(api)
    payment = create_payment(api, token)
    confirm_losing_the_event(api, payment["id"])

    advance(api, SWEEP_S - 1)

    assert sessions_of(api, payment["id"]) == []


# --- overdue pending payments ------------------------------------------------------------------


def test_overdue_pending_payment_without_callback_is_expired_by_the_periodic_sweep_after_asking_xendit(
    api: httpx.Client, xendit: httpx.Client
) -> None:
    assert xendit.post("/_fake/config", json={"callback_url": None}).status_code == 200  # no EXPIRED callback
    token = login(api)
    payment = create_payment(api, token)
    invoice_id = payment["xendit_invoice_id"]
    advance(api, EXPIRY_S - SWEEP_S)
    assert payment_status(api, token, payment["id"]) == "pending"  # not yet due
    assert invoice_reads(xendit, invoice_id) == 0

    advance(api, 2 * SWEEP_S)

    assert payment_status(api, token, payment["id"]) == "expired"
    assert len(events_of(api, payment["id"], "payment_request.expired")) == 1
    assert state(api)["webhooks"] == []  # it was the sweep, not a callback
    assert invoice_reads(xendit, invoice_id) >= 1
    invoice = xendit.get("/_fake/state").json()["invoices"][0]
    assert (invoice["id"], invoice["status"]) == (invoice_id, "EXPIRED")
    skipped = xendit.get("/_fake/callbacks").json()["log"]
    assert [(e["status"], e["outcome"]) for e in skipped] == [("EXPIRED", "skipped")]


def test_overdue_pending_payment_is_listed_as_expired_by_run_reconciliation(
    api: httpx.Client, xendit: httpx.Client
) -> None:
    """Created half an interval in, so at its expiry no periodic sweep has run yet: the manual one reports it."""
    assert xendit.post("/_fake/config", json={"callback_url": None}).status_code == 200
    advance(api, SWEEP_S / 2)
    token = login(api)
    payment = create_payment(api, token)
    advance(api, EXPIRY_S)  # exactly expires_at; the last periodic sweep ran half an interval ago
    assert payment_status(api, token, payment["id"]) == "pending"

    report = run_reconciliation(api)

    assert report == {"reemitted": [], "expired": [payment["id"]], "confirmed": [], "failed_pairing": [], "errors": []}
    assert payment_status(api, token, payment["id"]) == "expired"
    assert invoice_reads(xendit, payment["xendit_invoice_id"]) == 1


def test_paid_at_xendit_with_the_callback_dropped_is_confirmed_by_the_sweep_instead_of_expired(
    api: httpx.Client, xendit: httpx.Client
) -> None:
    token = login(api)
    payment = create_payment(api, token)
    assert xendit.post("/_fake/faults", json={"drop": True}).status_code == 200
    paid = xendit.post(f"/_fake/invoices/{payment['xendit_invoice_id']}/pay")
    assert paid.status_code == 200, paid.text
    assert [d["outcome"] for d in paid.json()["deliveries"]] == ["dropped"]
    assert payment_status(api, token, payment["id"]) == "pending"  # the backend never heard

    advance(api, EXPIRY_S + SWEEP_S)

    assert payment_status(api, token, payment["id"]) == "confirmed"
    row = next(p for p in state(api)["tables"]["payment_requests"] if p["id"] == payment["id"])
    assert row["confirmed_source"] == "reconciliation"
    assert events_of(api, payment["id"], "payment_request.expired") == []
    assert len(events_of(api, payment["id"], "payment_request.confirmed")) == 1
    assert len(sessions_of(api, payment["id"])) == 1
    assert state(api)["webhooks"] == []


def test_reconciliation_reports_an_unreachable_xendit_as_an_error_and_keeps_the_payment_pending(
    api: httpx.Client, xendit: httpx.Client
) -> None:
    assert xendit.post("/_fake/config", json={"callback_url": None}).status_code == 200
    token = login(api)
    payment = create_payment(api, token)
    # Every invoice read fails from now on (more than the sweeps up to expiry can use).
    faults = {"fail_api": {"count": 100, "error_code": "SERVER_ERROR"}}
    assert xendit.post("/_fake/faults", json=faults).status_code == 200

    advance(api, EXPIRY_S)
    report = run_reconciliation(api)

    assert report["expired"] == [] and report["confirmed"] == []
    assert len(report["errors"]) == 1 and report["errors"][0].startswith(payment["id"])
    assert payment_status(api, token, payment["id"]) == "pending"


# --- without Xendit: a bare backend on a virtual clock ------------------------------------------


def _bare_backend() -> tuple[ReferenceBackend, Scheduler, VirtualClock]:
    clock = VirtualClock()
    scheduler = Scheduler(clock)
    backend = ReferenceBackend(Settings(env="test"), scheduler)
    assert backend.xendit is None
    backend.store.insert(
        "customers", Customer(id="c1", phone=None, display_name="Ayu", is_anonymous=True, created_at=clock.now())
    )
    return backend, scheduler, clock


def test_without_xendit_an_overdue_pending_payment_is_expired_by_the_periodic_sweep() -> None:
    async def scenario() -> None:
        backend, scheduler, _ = _bare_backend()
        try:
            await backend.start()
            payment = await backend.payments.request_payment("c1", 15)
            assert payment.xendit_invoice_id is None
            await scheduler.advance(EXPIRY_S - 1)
            assert backend.payments.get(payment.id).status is PaymentStatus.PENDING

            await scheduler.advance(SWEEP_S)

            assert backend.payments.get(payment.id).status is PaymentStatus.EXPIRED
            expired = [e for e in backend.deps.bus.history if e["event"] == "payment_request.expired"]
            assert expired == [{"event": "payment_request.expired", "payment_request_id": payment.id}]
            assert backend.scheduler.errors == [] and backend.deps.bus.errors == []
        finally:
            await backend.close()

    asyncio.run(scenario())


def test_without_xendit_a_sweep_expires_exactly_the_payments_past_expires_at() -> None:
    async def scenario() -> None:
        backend, _, clock = _bare_backend()
        try:
            old = await backend.payments.request_payment("c1", 15)
            clock.advance(10)
            newer = await backend.payments.request_payment("c1", 30)
            clock.advance(EXPIRY_S - 10)  # exactly old's expires_at (due at <=), 10 s before newer's

            report = await backend.reconciler.sweep()

            assert report == {"reemitted": [], "expired": [old.id], "confirmed": [], "failed_pairing": [], "errors": []}
            assert backend.payments.get(old.id).status is PaymentStatus.EXPIRED
            assert backend.payments.get(newer.id).status is PaymentStatus.PENDING
        finally:
            await backend.close()

    asyncio.run(scenario())


def test_without_xendit_a_sweep_reemits_a_lost_confirmation() -> None:
    async def scenario() -> None:
        backend, _, _ = _bare_backend()
        try:
            payment = await backend.payments.request_payment("c1", 15)
            await backend.payments.confirm_payment(payment.id, "test", announce=False)
            assert backend.store.chat_sessions.find(payment_request_id=payment.id) == []

            report = await backend.reconciler.sweep()

            assert report["reemitted"] == [payment.id]
            assert len(backend.store.chat_sessions.find(payment_request_id=payment.id)) == 1
        finally:
            await backend.close()

    asyncio.run(scenario())


class _RacingXendit:
    """A Xendit stand-in whose invoice read is slow enough for a PAID callback to land meanwhile.

    ``get_invoice`` first lets the webhook confirm the payment (what an ``await`` on the network
    allows in production), then answers what Xendit read before the payment: still PENDING
    (Xendit expires invoices a little after ``expiry_date``).
    """

    def __init__(self, backend: ReferenceBackend, racing_invoice: str) -> None:
        self.backend = backend
        self.racing_invoice = racing_invoice

    async def get_invoice(self, invoice_id: str) -> dict[str, Any]:
        if invoice_id == self.racing_invoice:
            payment = self.backend.store.payment_requests.find(xendit_invoice_id=invoice_id)[0]
            await self.backend.webhook.handle(XenditCallback(id=invoice_id, external_id=payment.id, status="PAID"))
            return {"id": invoice_id, "status": "PENDING"}
        return {"id": invoice_id, "status": "EXPIRED"}

    async def aclose(self) -> None:
        return None


def test_a_paid_callback_during_the_sweeps_xendit_read_neither_crashes_the_sweep_nor_skips_other_payments() -> None:
    async def scenario() -> None:
        backend, _, clock = _bare_backend()
        try:
            racing = await backend.payments.request_payment("c1", 15)
            other = await backend.payments.request_payment("c1", 15)
            backend.store.payment_requests.update(racing.id, xendit_invoice_id="inv-racing")
            backend.store.payment_requests.update(other.id, xendit_invoice_id="inv-other")
            backend.deps.xendit = _RacingXendit(backend, "inv-racing")  # type: ignore[assignment]
            clock.advance(EXPIRY_S)

            report = await backend.reconciler.sweep()  # raises IllegalTransition today

            assert backend.payments.get(racing.id).status is PaymentStatus.CONFIRMED
            assert backend.payments.get(other.id).status is PaymentStatus.EXPIRED
            assert other.id in report["expired"] and racing.id not in report["expired"]
        finally:
            backend.deps.xendit = None
            await backend.close()

    asyncio.run(scenario())
