"""Xendit's error answers, as the fake raises them.

Xendit answers every failed call with ``{"error_code": ..., "message": ...}``
and an HTTP status that depends on the code; validation failures add an
``errors`` list naming each offending field.  Keeping the status next to the
code in one exception lets the pure model layer refuse an operation with the
exact answer the HTTP layer must send, without knowing about HTTP.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

#: The HTTP status Xendit pairs with each error code the fake can answer.
STATUS_BY_CODE: dict[str, int] = {
    "API_VALIDATION_ERROR": 400,
    "UNSUPPORTED_CURRENCY": 400,
    "INVALID_API_KEY": 401,
    "ACCESS_SUSPENDED": 403,
    "INVOICE_NOT_FOUND_ERROR": 404,
    # Fake-only: paying (through the checkout page or the control plane) an
    # invoice that is no longer PENDING; real Xendit has no "pay" endpoint.
    "INVOICE_NOT_PENDING": 409,
    "INVOICE_NOT_PAID": 409,
    # Reusing an X-IDEMPOTENCY-KEY with a different body (see models.py).
    "IDEMPOTENCY_ERROR": 409,
    "SERVER_ERROR": 500,
}

#: Codes a test may inject through the ``fail_api`` fault: the ones Xendit's Invoice API documents.
InjectableCode = Literal[
    "API_VALIDATION_ERROR", "INVALID_API_KEY", "ACCESS_SUSPENDED", "INVOICE_NOT_FOUND_ERROR", "SERVER_ERROR"
]
INJECTABLE_CODES: tuple[str, ...] = get_args(InjectableCode)


class XenditError(Exception):
    """A refusal carrying Xendit's status, error code and message."""

    def __init__(
        self,
        status: int,
        error_code: str,
        message: str,
        errors: list[dict[str, Any]] | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(f"{status} {error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.errors = errors
        self.reason = reason  # for the fake's log only: Xendit's body never says why a key was refused

    def to_body(self) -> dict[str, Any]:
        """The JSON body Xendit answers with (``errors`` only for validation failures)."""
        body: dict[str, Any] = {"error_code": self.error_code, "message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        return body

    @classmethod
    def of(cls, error_code: str, message: str) -> XenditError:
        """An error whose status follows from its code (500 for codes the fake does not know)."""
        return cls(STATUS_BY_CODE.get(error_code, 500), error_code, message)

    @classmethod
    def validation(cls, errors: list[dict[str, Any]]) -> XenditError:
        """400 API_VALIDATION_ERROR; the message is the first problem, as Xendit's is."""
        return cls(400, "API_VALIDATION_ERROR", str(errors[0]["message"]), errors)

    @classmethod
    def invalid_api_key(cls, reason: str = "invalid API key") -> XenditError:
        """401 for a missing or wrong secret key; ``reason`` goes to the log, the body is Xendit's."""
        return cls(401, "INVALID_API_KEY", "API key is invalid", reason=reason)

    @classmethod
    def access_suspended(cls) -> XenditError:
        """403: the account is suspended (only ever injected as a fault)."""
        return cls(403, "ACCESS_SUSPENDED", "Access to this resource is suspended")

    @classmethod
    def invoice_not_found(cls, invoice_id: str) -> XenditError:
        """404 for an invoice id the fake never issued."""
        return cls(404, "INVOICE_NOT_FOUND_ERROR", f"Could not find invoice with id {invoice_id}")

    @classmethod
    def server_error(cls, message: str = "An unexpected error occurred, our team has been notified") -> XenditError:
        """500, Xendit's answer to anything unexpected."""
        return cls(500, "SERVER_ERROR", message)
