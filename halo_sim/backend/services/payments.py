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
from halo_sim.domain.payment import PAYMENT, PaymentEvent, PaymentStatus
from halo_sim.errors import NotFound, ValidationFailed

CONFIRMED = "payment_request.confirmed"
PENDING_TTL_S = 24 * 3600.0


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

    def request_payment(
        self, customer_id: str, duration_minutes: int, product: str = "chat",
        metadata: dict[str, Any] | None = None, targeted_mitra_id: str | None = None,
        topic_sensitivity: str | None = None,
    ) -> PaymentRequest:
        """A new ``pending`` payment for ``product``."""
        now = self.deps.now()
        row = PaymentRequest(
            id=self.deps.ids.uuid(), customer_id=customer_id, product=product,
            amount=self.price(duration_minutes), status=PaymentStatus.PENDING, created_at=now,
            duration_minutes=duration_minutes, metadata=dict(metadata or {}),
            targeted_mitra_id=targeted_mitra_id, topic_sensitivity=topic_sensitivity,
            expires_at=now + PENDING_TTL_S,
        )
        return self.deps.store.insert("payment_requests", row)

    async def confirm_payment(self, payment_id: str, source: str) -> PaymentRequest:
        """``pending → confirmed``, then emit ``payment_request.confirmed``."""
        row = self.get(payment_id)
        row.status = PAYMENT.next(row.status, PaymentEvent.CONFIRM)
        row.confirmed_at, row.confirmed_source = self.deps.now(), source
        await self.deps.bus.emit(CONFIRMED, {"payment_request_id": row.id, "source": source})
        return row

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
