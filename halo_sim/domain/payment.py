"""The payment_request state machine (product-agnostic, as ``payment.service``).

::

    pending ──confirm──▶ confirmed ──consume──▶ consumed
       │                 ▲  │
       └──expire──▶ expired └──fail_pairing──▶ failed_pairing
                  (confirm: a late PAID)

``confirmed`` means paid and not yet used: it is what
``GET /api/customer/payments/pending`` lists, so a customer never pays twice for
one chat.  ``consumed`` means a chat session started from it.
"""

from __future__ import annotations

from enum import StrEnum

from halo_sim.domain.machine import StateMachine


class PaymentStatus(StrEnum):
    """States of a payment_request."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    EXPIRED = "expired"
    FAILED_PAIRING = "failed_pairing"
    CONSUMED = "consumed"


class PaymentEvent(StrEnum):
    """What can happen to a payment_request."""

    CONFIRM = "confirm"
    EXPIRE = "expire"
    CONSUME = "consume"
    FAIL_PAIRING = "fail_pairing"


PAYMENT = StateMachine[PaymentStatus, PaymentEvent](
    "payment_request",
    {
        (PaymentStatus.PENDING, PaymentEvent.CONFIRM): PaymentStatus.CONFIRMED,
        (PaymentStatus.PENDING, PaymentEvent.EXPIRE): PaymentStatus.EXPIRED,
        # A late payment: Xendit says PAID after the request expired here. The customer's money wins.
        (PaymentStatus.EXPIRED, PaymentEvent.CONFIRM): PaymentStatus.CONFIRMED,
        (PaymentStatus.CONFIRMED, PaymentEvent.CONSUME): PaymentStatus.CONSUMED,
        (PaymentStatus.CONFIRMED, PaymentEvent.FAIL_PAIRING): PaymentStatus.FAILED_PAIRING,
    },
)

TERMINAL = frozenset({PaymentStatus.FAILED_PAIRING, PaymentStatus.CONSUMED})


def usable_for_pairing(status: PaymentStatus, confirmed_at: float | None, now: float, validity_s: float) -> bool:
    """A paid payment may start pairing attempts only within ``validity_s`` of its confirmation.

    SPEC: a pairing failure is terminal after N attempts "or payment expiry".  The invoice's
    own ``expires_at`` cannot be that expiry (a late PAID after it still confirms, and the
    customer's money wins), so a confirmed payment carries its own window from the moment it
    was paid; past it, "coba cari lagi" is refused and the payment ends ``failed_pairing``.
    """
    if status is not PaymentStatus.CONFIRMED:
        return False
    return confirmed_at is None or now < confirmed_at + validity_s
