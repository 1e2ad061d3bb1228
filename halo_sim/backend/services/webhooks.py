"""The Xendit invoice callback: ``POST /api/shared/payment/webhooks/xendit``.

Xendit retries, duplicates and reorders callbacks, so the handler is idempotent
by construction: the outcome depends only on the payment's current state and
the callback's status, and a late ``EXPIRED`` never undoes a ``PAID``.  The token
check happens before the body is even parsed, in constant time.
"""

from __future__ import annotations

import hmac
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from halo_sim.backend.services.deps import Deps
from halo_sim.backend.services.payments import PAID, PaymentService
from halo_sim.contract.fields import Id
from halo_sim.domain.payment import PaymentEvent, PaymentStatus
from simkit.bounded import BoundedLog
from simkit.errors import Unauthorized

WebhookStatus = Literal["PAID", "SETTLED", "EXPIRED"]
#: Callbacks kept in the webhook log (the newest).
WEBHOOK_LOG_CAP = 1000


class XenditCallback(BaseModel):
    """The fields of an invoice callback the backend acts on; the rest is kept, not required."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    id: Id
    external_id: Id
    status: WebhookStatus
    paid_amount: float | None = Field(default=None, ge=0)


class XenditWebhook:
    """Verifies and applies invoice callbacks; keeps a log of what each one did."""

    def __init__(self, deps: Deps, payments: PaymentService) -> None:
        self.deps = deps
        self.payments = payments
        self.log: BoundedLog[dict[str, Any]] = BoundedLog(WEBHOOK_LOG_CAP)

    def verify(self, token: str | None) -> None:
        """``x-callback-token`` must equal ``XENDIT_CALLBACK_TOKEN`` (never accepted when unset)."""
        expected = self.deps.settings.xendit_callback_token.encode()
        if not expected or not hmac.compare_digest((token or "").encode(), expected):
            raise Unauthorized("missing or wrong x-callback-token", code="INVALID_CALLBACK_TOKEN")

    async def handle(self, callback: XenditCallback, source: str = "xendit_webhook") -> dict[str, Any]:
        """Apply one callback; the answer says what it did (always 200 for a verified, well-formed one)."""
        outcome = await self._apply(callback, source)
        self.log.append(
            {
                "at": self.deps.now(),
                "invoice_id": callback.id,
                "external_id": callback.external_id,
                "status": callback.status,
                "source": source,
                **outcome,
            }
        )
        return outcome

    async def _apply(self, callback: XenditCallback, source: str) -> dict[str, Any]:
        payment = self.deps.store.payment_requests.get(callback.external_id)
        if payment is None:
            return {"result": "ignored", "reason": "UNKNOWN_PAYMENT"}
        if payment.xendit_invoice_id not in (None, callback.id):
            return {"result": "ignored", "reason": "INVOICE_MISMATCH", "payment_request_id": payment.id}
        before = payment.status
        if callback.status in ("PAID", "SETTLED") and before not in PAID and _short(callback, payment.amount):
            return {"result": "ignored", "reason": "AMOUNT_MISMATCH", "payment_request_id": payment.id,
                    "expected_amount": payment.amount, "paid_amount": callback.paid_amount}  # fmt: skip
        if callback.status in ("PAID", "SETTLED"):
            result = "duplicate" if before in PAID else "confirmed"
            await self.payments.confirm_payment(payment.id, source)
        elif before is PaymentStatus.PENDING:
            result = "expired"
            await self.payments.transition(payment.id, PaymentEvent.EXPIRE)
        else:
            result = "duplicate" if before is PaymentStatus.EXPIRED else "ignored"
        status = self.payments.get(payment.id).status
        answer = {"result": result, "payment_request_id": payment.id, "payment_status": status.value}
        if result == "confirmed" and (callback.paid_amount or 0) > payment.amount:
            answer["flag"] = "OVERPAID"  # the customer's money wins; the log shows it for an admin to refund
        if result == "ignored":
            answer["reason"] = "ALREADY_PAID"
        return answer


def _short(callback: XenditCallback, amount: int) -> bool:
    """A PAID callback reporting less than the payment's amount: a partial payment never buys a chat."""
    return callback.paid_amount is not None and callback.paid_amount < amount
