"""The reconciliation sweeper: repairs what lost events and missed callbacks leave behind.

Runs once at start-up and then every ``HALO_SWEEP_INTERVAL_S`` on the injected
clock.  A confirmed payment with no chat session (its ``confirmed`` event was
lost, e.g. the process died between commit and emit) gets the event again, so
the blast starts; a pending payment past ``expires_at`` is expired — after
asking Xendit, when enabled, whether it was paid after all.
"""

from __future__ import annotations

from typing import Any

from halo_sim.backend.services.deps import Deps
from halo_sim.backend.services.payments import CONFIRMED, PaymentService
from halo_sim.backend.tables import PaymentRequest
from halo_sim.backend.xendit import XenditRejected
from halo_sim.domain.pairing import IN_FLIGHT
from halo_sim.domain.payment import PaymentEvent, PaymentStatus


class Reconciler:
    """One sweep repairs; :meth:`schedule` keeps sweeping."""

    def __init__(self, deps: Deps, payments: PaymentService) -> None:
        self.deps = deps
        self.payments = payments
        self.runs = 0

    async def sweep(self) -> dict[str, list[str]]:
        """Re-emit orphaned confirmations and expire overdue payments; returns the ids touched."""
        self.runs += 1
        report: dict[str, list[str]] = {
            "reemitted": [], "expired": [], "confirmed": [], "failed_pairing": [], "errors": []
        }  # fmt: skip
        for payment in self.deps.store.payment_requests.find(status=PaymentStatus.CONFIRMED):
            await self._settle_confirmed(payment, report)
        for payment in self._overdue():
            await self._settle_overdue(payment, report)
        return report

    async def _settle_confirmed(self, payment: PaymentRequest, report: dict[str, list[str]]) -> None:
        """Orphaned: re-emit.  Past its validity with nothing in flight: pairing is over for good."""
        attempts = self.deps.store.chat_sessions.find(payment_request_id=payment.id)
        if not self.payments.usable(payment) and not any(s.status in IN_FLIGHT for s in attempts):
            await self.payments.transition(payment.id, PaymentEvent.FAIL_PAIRING)
            report["failed_pairing"].append(payment.id)
        elif not attempts:
            report["reemitted"].append(payment.id)
            await self.deps.bus.emit(CONFIRMED, {"payment_request_id": payment.id, "source": "reconciliation"})

    def _overdue(self) -> list[PaymentRequest]:
        now = self.deps.now()
        pending = self.deps.store.payment_requests.find(status=PaymentStatus.PENDING)
        return [p for p in pending if p.expires_at is not None and p.expires_at <= now]

    async def _settle_overdue(self, payment: PaymentRequest, report: dict[str, list[str]]) -> None:
        status = "EXPIRED"
        if self.deps.xendit is not None and payment.xendit_invoice_id:
            try:
                status = str((await self.deps.xendit.get_invoice(payment.xendit_invoice_id))["status"])
            except XenditRejected as exc:
                report["errors"].append(f"{payment.id}: {exc}")
                return
        current = self.deps.store.payment_requests.get(payment.id)  # re-read: the row we hold is a snapshot
        if current is None or current.status is not PaymentStatus.PENDING:  # settled (or reset) while we asked
            return
        if status in ("PAID", "SETTLED"):
            await self.payments.confirm_payment(payment.id, "reconciliation")
            report["confirmed"].append(payment.id)
        else:
            await self.payments.transition(payment.id, PaymentEvent.EXPIRE)
            report["expired"].append(payment.id)

    def schedule(self) -> None:
        """Sweep every ``sweep_interval_s`` from now on."""
        self.deps.later(self.deps.settings.sweep_interval_s, self._tick, "reconciliation")

    async def _tick(self) -> Any:
        self.schedule()
        return await self.sweep()
