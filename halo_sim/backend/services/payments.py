"""``payment.service``: the product-agnostic owner of payment_requests.

It knows nothing about chat: it moves payments through the declared state
machine and announces what happened on the event bus
(``payment_request.confirmed``, ``.expired``, ``.consumed``, ``.failed_pairing``);
the pairing subscriber does the rest.
"""

from __future__ import annotations

from typing import Any

from halo_sim.backend.services.deps import Deps
from halo_sim.backend.tables import PaymentRequest
from halo_sim.backend.xendit import XenditRejected
from halo_sim.domain.payment import PAYMENT, PaymentEvent, PaymentStatus
from simkit.clock import parse_iso
from simkit.errors import DomainError, NotFound, ValidationFailed

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
        """The configured price of a chat of this length."""
        try:
            return self.deps.settings.prices[duration_minutes]
        except KeyError:
            known = ", ".join(str(d) for d in sorted(self.deps.settings.prices))
            raise ValidationFailed(f"no price for {duration_minutes} minutes (known: {known})") from None

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

        The invoice is created before the row is stored, so a Xendit failure leaves no
        orphan payment the customer could never pay nor leave.
        """
        self.deps.store.require("customers", customer_id, "customer")
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
        if self.deps.xendit is not None:
            await self._attach_invoice(row)
        return self.deps.store.insert("payment_requests", row)

    async def _attach_invoice(self, row: PaymentRequest) -> None:
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
            row.xendit_invoice_id, row.xendit_invoice_url = invoice["id"], invoice["invoice_url"]
            row.expires_at = parse_iso(invoice["expiry_date"])
        except (KeyError, TypeError, ValueError) as exc:
            raise PaymentProviderError(f"Xendit's invoice lacks {exc}", provider_code="BAD_RESPONSE") from None

    async def confirm_payment(self, payment_id: str, source: str, announce: bool = True) -> PaymentRequest:
        """``pending → confirmed``, then emit ``payment_request.confirmed``; already paid: unchanged.

        ``announce=False`` stores the confirmation without the event: what a crash between
        the commit and the emit leaves behind, for reconciliation to repair.
        """
        row = self.get(payment_id)
        if row.status in PAID:
            return row
        row.status = PAYMENT.next(row.status, PaymentEvent.CONFIRM)
        row.confirmed_at, row.confirmed_source = self.deps.now(), source
        if announce:
            await self.deps.bus.emit(CONFIRMED, {"payment_request_id": row.id, "source": source})
        return row

    # The names the chat code used before payment.service became product-agnostic.
    create_payment_session = request_payment
    confirm_payment_session = confirm_payment

    async def transition(self, payment_id: str, event: PaymentEvent) -> PaymentRequest:
        """Any other declared move, announced as ``payment_request.<new status>``."""
        row = self.get(payment_id)
        row.status = PAYMENT.next(row.status, event)
        await self.deps.bus.emit(f"payment_request.{row.status.value}", {"payment_request_id": row.id})
        return row

    def get(self, payment_id: str) -> PaymentRequest:
        """The payment or a 404."""
        return self.deps.store.require("payment_requests", payment_id, "payment_request")  # type: ignore[no-any-return]

    def get_for_customer(self, payment_id: str, customer_id: str) -> PaymentRequest:
        """A customer only sees its own payments (others look like they do not exist)."""
        row = self.get(payment_id)
        if row.customer_id != customer_id:
            raise NotFound(f"payment_request {payment_id} not found")
        return row

    def pending_for_customer(self, customer_id: str) -> list[PaymentRequest]:
        """Confirmed payments not yet consumed: reused instead of paying twice."""
        return self.deps.store.find("payment_requests", customer_id=customer_id, status=PaymentStatus.CONFIRMED)

    def latest_for_customer(self, customer_id: str, status: PaymentStatus | None = None) -> PaymentRequest:
        """The newest payment of a customer (optionally in ``status``)."""
        rows = self.deps.store.find("payment_requests", customer_id=customer_id)
        rows = [r for r in rows if status is None or r.status == status]
        if not rows:
            raise NotFound(f"customer {customer_id} has no {status or ''} payment_request".replace("  ", " "))
        return rows[-1]  # type: ignore[no-any-return]
