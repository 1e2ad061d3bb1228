"""``payment.service``: the product-agnostic owner of payment_requests.

It knows nothing about chat: it moves payments through the declared state
machine and announces what happened on the event bus
(``payment_request.confirmed``, ``.expired``, ``.consumed``, ``.failed_pairing``);
the pairing subscriber does the rest.  Each confirmation also books the
customer's ``customer_transactions`` row, as the real backend's ledger does.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from halo_sim.backend.services.deps import Deps
from halo_sim.backend.tables import CustomerTransaction, PaymentRequest
from halo_sim.backend.xendit import XenditRejected
from halo_sim.domain.payment import PAYMENT, PaymentEvent, PaymentStatus, usable_for_pairing
from simkit.clock import parse_iso
from simkit.errors import DomainError, NotFound, ValidationFailed

log = logging.getLogger(__name__)

CONFIRMED = "payment_request.confirmed"
# Already paid: a second confirmation (duplicate webhook, force-confirm) changes nothing.
PAID = frozenset({PaymentStatus.CONFIRMED, PaymentStatus.CONSUMED, PaymentStatus.FAILED_PAIRING})


class PaymentProviderError(DomainError):
    """Xendit refused or could not be reached while creating an invoice; no payment was created."""

    status_code = 502
    code = "PAYMENT_PROVIDER_ERROR"


class PaymentService:
    """request / confirm / expire / consume, each emitting its event."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def price(self, duration_minutes: int) -> int:
        """The price of a chat of this length, from the control center's current configuration."""
        prices = self.deps.config().prices
        try:
            return prices[duration_minutes]
        except KeyError:
            known = ", ".join(str(d) for d in sorted(prices))
            raise ValidationFailed(
                f"no price for {duration_minutes} minutes (known: {known})", code="UNKNOWN_DURATION"
            ) from None

    async def request_payment(
        self,
        customer_id: str,
        duration_minutes: int,
        product: str = "chat",
        metadata: dict[str, Any] | None = None,
        targeted_mitra_id: str | None = None,
        topic_sensitivity: str | None = None,
    ) -> PaymentRequest:
        """A new ``pending`` payment for ``product``; with Xendit enabled, its invoice first.

        Everything that can be refused is checked before the invoice is created, and a store
        failure after it exists expires it again: no orphan payment, no orphan invoice.
        """
        self.deps.store.customers.require(customer_id, "customer")
        if targeted_mitra_id is not None and self.deps.store.mitras.get(targeted_mitra_id) is None:
            raise NotFound(f"mitra {targeted_mitra_id} not found", code="MITRA_NOT_FOUND")
        row = PaymentRequest(
            id=self.deps.ids.uuid(),
            customer_id=customer_id,
            product=product,
            amount=self.price(duration_minutes),
            status=PaymentStatus.PENDING,
            created_at=self.deps.now(),
            duration_minutes=duration_minutes,
            metadata=dict(metadata or {}),
            targeted_mitra_id=targeted_mitra_id,
            topic_sensitivity=topic_sensitivity,
            expires_at=self.deps.now() + self.deps.settings.payment_expiry_s,
        )
        if self.deps.xendit is None:
            return self.deps.store.payment_requests.insert(row)
        return await self._insert_invoiced(await self._with_invoice(row))

    async def _with_invoice(self, row: PaymentRequest) -> PaymentRequest:
        assert self.deps.xendit is not None
        try:
            invoice = await self.deps.xendit.create_invoice(
                row.id,
                row.amount,
                f"Halo {row.product} {row.duration_minutes} menit",
                self.deps.settings.payment_expiry_s,
            )
        except XenditRejected as exc:
            raise PaymentProviderError(
                f"could not create the Xendit invoice: {exc}", provider_status=exc.status, provider_code=exc.code
            ) from None
        try:
            return _invoiced(row, invoice)
        except (KeyError, TypeError, ValueError) as exc:
            raise PaymentProviderError(f"Xendit's invoice lacks {exc}", provider_code="BAD_RESPONSE") from None

    async def _insert_invoiced(self, row: PaymentRequest) -> PaymentRequest:
        try:
            return self.deps.store.payment_requests.insert(row)
        except DomainError:
            await self._retract_invoice(row.xendit_invoice_id or "")
            raise

    async def _retract_invoice(self, invoice_id: str) -> None:
        assert self.deps.xendit is not None
        try:
            await self.deps.xendit.expire_invoice(invoice_id)
        except XenditRejected as exc:  # the invoice then expires on its own at Xendit
            log.warning("could not expire orphan invoice %s: %s", invoice_id, exc)

    async def confirm_payment(self, payment_id: str, source: str, announce: bool = True) -> PaymentRequest:
        """``pending → confirmed``, booked in the ledger, then ``payment_request.confirmed``; paid: unchanged.

        ``announce=False`` stores the confirmation without the event: what a crash between
        the commit and the emit leaves behind, for reconciliation to repair.
        """
        row = self.get(payment_id)
        if row.status in PAID:
            return row
        row = self.deps.store.payment_requests.update(
            row.id,
            status=PAYMENT.next(row.status, PaymentEvent.CONFIRM),
            confirmed_at=self.deps.now(),
            confirmed_source=source,
        )
        self._book(row)
        if announce:
            await self.deps.bus.emit(CONFIRMED, {"payment_request_id": row.id, "source": source})
        return row

    def _book(self, row: PaymentRequest) -> None:
        self.deps.store.customer_transactions.insert(
            CustomerTransaction(
                id=self.deps.ids.uuid(),
                customer_id=row.customer_id,
                payment_request_id=row.id,
                amount=row.amount,
                kind="payment",
                created_at=self.deps.now(),
            )
        )

    # The names the chat code used before payment.service became product-agnostic.
    create_payment_session = request_payment
    confirm_payment_session = confirm_payment

    async def transition(self, payment_id: str, event: PaymentEvent) -> PaymentRequest:
        """Any other declared move, announced as ``payment_request.<new status>``."""
        row = self.get(payment_id)
        row = self.deps.store.payment_requests.update(row.id, status=PAYMENT.next(row.status, event))
        await self.deps.bus.emit(f"payment_request.{row.status.value}", {"payment_request_id": row.id})
        return row

    def untarget(self, payment_id: str) -> PaymentRequest:
        """ "Cari bestie lain": the payment no longer names a bestie, so its next attempt is a blast."""
        return self.deps.store.payment_requests.update(payment_id, targeted_mitra_id=None)

    def usable(self, row: PaymentRequest) -> bool:
        """Paid, unused and within its validity window: it may start a pairing attempt."""
        return usable_for_pairing(row.status, row.confirmed_at, self.deps.now(), self.deps.settings.paid_validity_s)

    def get(self, payment_id: str) -> PaymentRequest:
        """The payment or a 404."""
        return self.deps.store.payment_requests.require(payment_id, "payment_request")

    def get_for_customer(self, payment_id: str, customer_id: str) -> PaymentRequest:
        """A customer only sees its own payments (others look like they do not exist)."""
        row = self.get(payment_id)
        if row.customer_id != customer_id:
            raise NotFound(f"payment_request {payment_id} not found")
        return row

    def pending_for_customer(self, customer_id: str) -> list[PaymentRequest]:
        """Confirmed payments not yet consumed: reused instead of paying twice."""
        return self.deps.store.payment_requests.find(customer_id=customer_id, status=PaymentStatus.CONFIRMED)

    def latest_for_customer(self, customer_id: str, status: PaymentStatus | None = None) -> PaymentRequest:
        """The newest payment of a customer (optionally in ``status``)."""
        table = self.deps.store.payment_requests
        row = table.latest(customer_id=customer_id, status=status) if status else table.latest(customer_id=customer_id)
        if row is None:
            raise NotFound(f"customer {customer_id} has no {status or ''} payment_request".replace("  ", " "))
        return row


def _invoiced(row: PaymentRequest, invoice: dict[str, Any]) -> PaymentRequest:
    """``row`` with the invoice's id, URL and expiry (KeyError/TypeError/ValueError when they are missing)."""
    return replace(
        row,
        xendit_invoice_id=invoice["id"],
        xendit_invoice_url=invoice["invoice_url"],
        expires_at=parse_iso(invoice["expiry_date"]),
    )
