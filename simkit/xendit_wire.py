"""What Xendit sends a backend: the invoice callback's wire format and where it goes.

The fake Xendit builds its callbacks with these, ``halo-sim xendit fire-webhook``
and the relay forge them for invoices the fake never saw, and the scenario
engine fires them: one definition for the three (SPEC §5, Xendit callbacks).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simkit.clock import isoformat

#: Where the Halo backend receives invoice callbacks (the seed's route).
WEBHOOK_PATH = "/api/shared/payment/webhooks/xendit"
#: The header carrying the callback verification token.
TOKEN_HEADER = "x-callback-token"

#: Fields of a PAID (or SETTLED) invoice callback, in Xendit's order (SPEC §5).
PAID_CALLBACK_FIELDS = (
    "id",
    "external_id",
    "user_id",
    "is_high",
    "payment_method",
    "status",
    "merchant_name",
    "amount",
    "paid_amount",
    "bank_code",
    "paid_at",
    "payer_email",
    "description",
    "adjusted_received_amount",
    "fees_paid_amount",
    "updated",
    "created",
    "currency",
    "payment_channel",
    "payment_destination",
)
PAYMENT_CALLBACK_FIELDS = frozenset(
    {
        "payment_method",
        "paid_amount",
        "bank_code",
        "paid_at",
        "adjusted_received_amount",
        "fees_paid_amount",
        "payment_channel",
        "payment_destination",
    }
)
#: Fields of an EXPIRED callback: the same envelope without the payment fields.
EXPIRED_CALLBACK_FIELDS = tuple(f for f in PAID_CALLBACK_FIELDS if f not in PAYMENT_CALLBACK_FIELDS)


def in_callback_order(envelope: Mapping[str, Any], paid: bool) -> dict[str, Any]:
    """Xendit's field set and order for a PAID/SETTLED or an EXPIRED callback; unset fields left out."""
    order = PAID_CALLBACK_FIELDS if paid else EXPIRED_CALLBACK_FIELDS
    return {k: envelope[k] for k in order if envelope.get(k) is not None}


def standalone_callback(
    invoice_id: str,
    external_id: str,
    status: str,
    amount: float,
    at: float,
    *,
    user_id: str = "65a1b2c3d4e5f6a7b8c9d0e1",
    merchant_name: str = "Halo",
    payment_method: str = "BANK_TRANSFER",
    bank_code: str = "BCA",
    description: str | None = None,
    payer_email: str | None = None,
) -> dict[str, Any]:
    """A callback body as Xendit would send it for an invoice this fake never saw.

    What ``halo-sim xendit fire-webhook`` and the relay send to a backend: the same
    shape as the fake's own callbacks, built from a handful of facts.
    """
    stamp = isoformat(at)
    envelope: dict[str, Any] = {
        "id": invoice_id,
        "external_id": external_id,
        "user_id": user_id,
        "is_high": False,
        "status": status,
        "merchant_name": merchant_name,
        "amount": amount,
        "payer_email": payer_email,
        "description": description,
        "updated": stamp,
        "created": stamp,
        "currency": "IDR",
    }
    paid = status in ("PAID", "SETTLED")
    if paid:
        envelope.update(
            payment_method=payment_method,
            paid_amount=amount,
            bank_code=bank_code,
            paid_at=stamp,
            adjusted_received_amount=amount,
            fees_paid_amount=0,
            payment_channel=bank_code,
            payment_destination="8808999912345678",
        )
    return in_callback_order(envelope, paid)
