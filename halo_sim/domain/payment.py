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
