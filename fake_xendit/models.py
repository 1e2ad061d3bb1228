"""The state and rules of the fake Xendit Invoice API: no I/O, no sleeping.

Everything that decides *what* Xendit would answer or send lives here, so it can
be tested with a :class:`~simkit.clock.VirtualClock` in microseconds; the
HTTP surface (``routes.py``) and the callback sender (``callbacks.py``) are thin
edges around it.  Time comes from the injected scheduler's clock, and the only
timers (invoice expiry) are scheduled on it.

Decisions on Xendit behaviour (sources: Xendit's API reference and the official
``xendit-python`` 7 SDK models; where the docs are silent the choice is marked):

* ``external_id`` is *not* unique: Xendit calls it "ID of your choice" and
  ``GET /v2/invoices?external_id=`` answers a list.  The fake accepts duplicates.
* ``X-IDEMPOTENCY-KEY``: the same key with the same body answers the invoice the
  first call created (its current state), without creating another one.  The
  Invoice API reference does not say what a reused key with a *different* body
  does; the fake answers ``409 IDEMPOTENCY_ERROR`` (the convention of Xendit's
  newer APIs) rather than silently returning an invoice for another request.
  A call refused by validation does not consume its key.
* Expiring an invoice that is not PENDING: Xendit answers
  ``404 INVOICE_NOT_FOUND_ERROR`` with "Could not find and update PENDING invoice
  …" (reported in xendit/xendit-php#200); the fake does the same.  A manual
  expiry moves ``expiry_date`` to the moment of expiry and, like an automatic
  one, queues an EXPIRED callback.
* Listing answers newest first; ``limit`` defaults to 10 and must be 1–100.
* Reads never change state: an invoice past its ``expiry_date`` is EXPIRED only
  once its scheduler timer has fired.
* Callback bodies carry exactly the fields of SPEC §5; ``payer_email`` and
  ``description`` are left out when the invoice has none (Xendit omits unset
  optional fields), and ``bank_code`` only for bank-transfer payments.

Bounded memory (``halo-sim serve`` runs for days; the caps are constructor settings):

* The recorded calls and the callback outbox are logs: :class:`~simkit.bounded.BoundedLog`
  of the newest :data:`CALLS_CAP` / :data:`OUTBOX_CAP`, ``dropped`` counting the rest.
* Invoices are state the merchant still refers to, so they are bounded by status, not by
  count: every PENDING invoice stays (each has its expiry timer; the backend polls it), and
  of the finished ones (PAID, SETTLED, EXPIRED) the :data:`FINISHED_INVOICES_CAP` that
  finished last stay.  An older finished invoice is forgotten whole: ``GET`` and ``expire!``
  answer ``404 INVOICE_NOT_FOUND_ERROR`` as Xendit does for an unknown id, its checkout page
  is a 404, it no longer lists, and its idempotency key is forgotten with it (the same key
  then creates a new invoice, as after Xendit's own key retention ends).  An invoice PAID
  but never settled can therefore no longer settle once evicted.
"""

from __future__ import annotations

import json
import math
import re
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, TypeGuard

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fake_xendit.errors import InjectableCode, XenditError
from fake_xendit.keys import basic_username, key_refusal
from simkit.bounded import BoundedLog
from simkit.clock import isoformat
from simkit.fakekit import RecordedCall
from simkit.scheduler import Scheduler, Timer
from simkit.xendit_wire import in_callback_order

INVOICE_STATUSES = ("PENDING", "PAID", "SETTLED", "EXPIRED")
#: The currencies the SDK's ``InvoiceCurrency`` enum accepts.
CURRENCIES = ("IDR", "USD", "THB", "VND", "PHP", "MYR")
#: The SDK's ``InvoicePaymentMethod`` enum.
PAYMENT_METHODS = (
    "POOL",
    "CALLBACK_VIRTUAL_ACCOUNT",
    "CREDIT_CARD",
    "RETAIL_OUTLET",
    "QR_CODE",
    "QRIS",
    "EWALLET",
    "DIRECT_DEBIT",
    "BANK_TRANSFER",
    "PAYLATER",
    "CRYPTOCURRENCY",
)
BANK_METHODS = frozenset({"BANK_TRANSFER", "CALLBACK_VIRTUAL_ACCOUNT", "POOL"})
DEFAULT_CHANNEL = {
    "CREDIT_CARD": "CREDIT_CARD",
    "RETAIL_OUTLET": "ALFAMART",
    "QR_CODE": "QRIS",
    "QRIS": "QRIS",
    "EWALLET": "OVO",
    "DIRECT_DEBIT": "DD_BRI",
    "PAYLATER": "KREDIVO",
    "CRYPTOCURRENCY": "CRYPTO",
}
#: Virtual-account banks offered on IDR invoices (all members of the SDK's ``BankCode`` enum).
VA_BANKS = ("BCA", "BNI", "BRI", "MANDIRI", "PERMATA")

#: Service-API requests kept for ``/_fake/calls`` (the newest): a debugging aid.
CALLS_CAP = 1_000
#: Callbacks kept in the outbox (the newest), as ``/_fake/callbacks`` and the state file show them.
OUTBOX_CAP = 5_000
#: Finished (PAID, SETTLED, EXPIRED) invoices kept, those that finished last; PENDING ones all stay.
FINISHED_INVOICES_CAP = 5_000

DEFAULT_INVOICE_DURATION = 86_400
MAX_INVOICE_DURATION = 31_536_000  # Xendit: at most one year
DEFAULT_LIST_LIMIT = 10
MAX_LIST_LIMIT = 100
DEFAULT_BASE_URL = "http://127.0.0.1"
DEFAULT_PROFILE_PICTURE = "https://du8nwjtfkinx.cloudfront.net/xendit.png"

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

CallbackListener = Callable[["OutboundCallback"], None]
ResetListener = Callable[[], None]


# --- value objects ----------------------------------------------------------------


@dataclass(frozen=True)
class Payment:
    """How an invoice was paid: what the PAID callback and the invoice object report."""

    method: str
    channel: str
    destination: str
    bank_code: str | None
    paid_amount: float
    paid_at: float


@dataclass
class Invoice:
    """One invoice, in the fake's own terms; :meth:`to_json` renders Xendit's object."""

    id: str
    seq: int
    external_id: str
    user_id: str
    merchant_name: str
    merchant_profile_picture_url: str
    amount: float
    currency: str
    created: float
    updated: float
    expiry_date: float
    invoice_url: str
    status: str = "PENDING"
    payer_email: str | None = None
    description: str | None = None
    success_redirect_url: str | None = None
    failure_redirect_url: str | None = None
    should_send_email: bool = False
    items: list[dict[str, Any]] | None = None
    metadata: dict[str, Any] | None = None
    customer: dict[str, Any] | None = None
    payment: Payment | None = None

    def to_json(self) -> dict[str, Any]:
        """The invoice object Xendit answers, with every field the SDK's model requires."""
        body: dict[str, Any] = {
            "id": self.id,
            "external_id": self.external_id,
            "user_id": self.user_id,
            "status": self.status,
            "merchant_name": self.merchant_name,
            "merchant_profile_picture_url": self.merchant_profile_picture_url,
            "amount": self.amount,
            "expiry_date": isoformat(self.expiry_date),
            "invoice_url": self.invoice_url,
            "available_banks": self._available_banks(),
            "available_retail_outlets": self._when_idr([{"retail_outlet_name": n} for n in ("ALFAMART", "INDOMARET")]),
            "available_ewallets": self._when_idr(
                [{"ewallet_type": n} for n in ("OVO", "DANA", "SHOPEEPAY", "LINKAJA")]
            ),
            "available_qr_codes": self._when_idr([{"qr_code_type": "QRIS"}]),
            "available_direct_debits": [],
            "available_paylaters": [],
            "should_exclude_credit_card": False,
            "should_send_email": self.should_send_email,
            "created": isoformat(self.created),
            "updated": isoformat(self.updated),
            "currency": self.currency,
        }
        optional = {
            "payer_email": self.payer_email,
            "description": self.description,
            "success_redirect_url": self.success_redirect_url,
            "failure_redirect_url": self.failure_redirect_url,
            "items": self.items,
            "metadata": self.metadata,
            "customer": self.customer,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        if self.payment is not None:
            body.update(self._payment_fields(self.payment))
        return body

    def callback_body(self) -> dict[str, Any]:
        """The callback Xendit POSTs for this invoice's current status (PAID/SETTLED or EXPIRED)."""
        envelope: dict[str, Any] = {
            "id": self.id,
            "external_id": self.external_id,
            "user_id": self.user_id,
            "is_high": False,
            "status": self.status,
            "merchant_name": self.merchant_name,
            "amount": self.amount,
            "payer_email": self.payer_email,
            "description": self.description,
            "updated": isoformat(self.updated),
            "created": isoformat(self.created),
            "currency": self.currency,
        }
        if self.payment is not None:
            envelope.update(self._payment_fields(self.payment))
            envelope["adjusted_received_amount"] = self.payment.paid_amount
            envelope["fees_paid_amount"] = 0
        return in_callback_order(envelope, paid=self.payment is not None)

    @staticmethod
    def _payment_fields(payment: Payment) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "payment_method": payment.method,
            "paid_amount": payment.paid_amount,
            "paid_at": isoformat(payment.paid_at),
            "payment_channel": payment.channel,
            "payment_destination": payment.destination,
        }
        if payment.bank_code is not None:
            fields["bank_code"] = payment.bank_code
        return fields

    def _when_idr(self, channels: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Indonesian channels only make sense on IDR invoices; other currencies get none."""
        return channels if self.currency == "IDR" else []

    def _available_banks(self) -> list[dict[str, Any]]:
        return self._when_idr(
            [
                {
                    "bank_code": code,
                    "collection_type": "POOL",
                    "transfer_amount": self.amount,
                    "bank_branch": "Virtual Account",
                    "account_holder_name": self.merchant_name.upper(),
                    "identity_amount": 0,
                }
                for code in VA_BANKS
            ]
        )


@dataclass(frozen=True)
class OutboundCallback:
    """A callback the model decided Xendit would send; the dispatcher delivers it."""

    callback_id: str
    invoice_id: str
    external_id: str
    status: str
    body: dict[str, Any]
    created: float

    def to_json(self) -> dict[str, Any]:
        """Summary for the control plane."""
        return {**asdict(self), "created": isoformat(self.created)}


# --- fault and config specs (pydantic: validated at the control plane) --------------------


class FailApi(BaseModel):
    """Answer the next ``count`` invoice-API calls with ``error_code`` instead of serving them."""

    model_config = ConfigDict(extra="forbid")

    count: int = Field(default=1, ge=1)
    error_code: InjectableCode = "SERVER_ERROR"
    message: str | None = None


class XenditFaults(BaseModel):
    """Every fault the fake can inject; each defaults to "behave like Xendit"."""

    model_config = ConfigDict(extra="forbid")

    delay_s: float = Field(default=0.0, ge=0.0, description="deliver callbacks this many clock seconds late")
    duplicate: bool = Field(default=False, description="deliver every callback twice")
    reorder: bool = Field(default=False, description="hold callbacks; flush delivers them newest first")
    drop: bool = Field(default=False, description="record callbacks as dropped and never send them")
    fail_api: FailApi | None = None


class ConfigUpdate(BaseModel):
    """Runtime settings changeable through ``POST /_fake/config``."""

    model_config = ConfigDict(extra="forbid")

    callback_url: str | None = None
    callback_token: str = ""
    base_url: str | None = None
    merchant_name: str = Field(default="", min_length=1)
    secret_key: str | None = Field(default=None, min_length=1)  # None: any test-mode key


def validation_message(exc: ValidationError) -> str:
    """One line per problem, naming the field: readable in a 400 body."""
    return "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}" for err in exc.errors())


# --- create-request validation ------------------------------------------------------------


@dataclass
class _CreateRequest:
    external_id: str
    amount: float
    currency: str
    duration: float
    payer_email: str | None
    description: str | None
    success_redirect_url: str | None
    failure_redirect_url: str | None
    should_send_email: bool
    items: list[dict[str, Any]] | None
    metadata: dict[str, Any] | None
    customer: dict[str, Any] | None


def _is_number(value: object) -> TypeGuard[float]:
    """A JSON number: ``True`` is an int to Python but not an amount to Xendit."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _tidy_number(value: float) -> float:
    """Whole amounts render as JSON integers, as Xendit's do (the SDK sends floats)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


class _Problems:
    """Collects Joi-style validation problems, the shape of Xendit's ``errors`` list."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, path: str, message: str) -> None:
        self.items.append({"path": [path], "message": f'"{path}" {message}'})

    def optional_str(self, body: Mapping[str, Any], key: str) -> str | None:
        value = body.get(key)
        if value is not None and not isinstance(value, str):
            self.add(key, "must be a string")
            return None
        return value

    def optional_object(self, body: Mapping[str, Any], key: str) -> dict[str, Any] | None:
        value = body.get(key)
        if value is not None and not isinstance(value, dict):
            self.add(key, "must be an object")
            return None
        return value


def _parse_create(body: Any) -> _CreateRequest:
    if not isinstance(body, dict):
        raise XenditError.validation([{"path": [], "message": '"value" must be an object'}])
    problems = _Problems()
    external_id = body.get("external_id")
    if external_id is None:
        problems.add("external_id", "is required")
    elif not isinstance(external_id, str) or not external_id.strip():
        problems.add("external_id", "must be a non-empty string")
    amount = body.get("amount")
    if amount is None:
        problems.add("amount", "is required")
    elif not _is_number(amount):
        problems.add("amount", "must be a number")
    elif amount <= 0:
        problems.add("amount", "must be greater than 0")
    duration = _parse_duration(body.get("invoice_duration"), problems)
    payer_email = problems.optional_str(body, "payer_email")
    if payer_email is not None and not _EMAIL.match(payer_email):
        problems.add("payer_email", "must be a valid email")
    items = _parse_items(body.get("items"), problems)
    should_send_email = body.get("should_send_email", False)
    if not isinstance(should_send_email, bool):
        problems.add("should_send_email", "must be a boolean")
        should_send_email = False
    request = _CreateRequest(
        external_id=str(external_id),
        amount=_tidy_number(amount) if _is_number(amount) else 0,
        currency="IDR",
        duration=duration,
        payer_email=payer_email,
        description=problems.optional_str(body, "description"),
        success_redirect_url=problems.optional_str(body, "success_redirect_url"),
        failure_redirect_url=problems.optional_str(body, "failure_redirect_url"),
        should_send_email=should_send_email,
        items=items,
        metadata=problems.optional_object(body, "metadata"),
        customer=problems.optional_object(body, "customer"),
    )
    currency = problems.optional_str(body, "currency")
    if problems.items:
        raise XenditError.validation(problems.items)
    if currency is not None:
        if currency.upper() not in CURRENCIES:
            raise XenditError.of("UNSUPPORTED_CURRENCY", f"Currency {currency} is not supported")
        request.currency = currency.upper()
    return request


def _parse_duration(value: Any, problems: _Problems) -> float:
    if value is None:
        return DEFAULT_INVOICE_DURATION
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            problems.add("invoice_duration", "must be a number")
            return DEFAULT_INVOICE_DURATION
    if not _is_number(value):
        problems.add("invoice_duration", "must be a number")
        return DEFAULT_INVOICE_DURATION
    if not 1 <= value <= MAX_INVOICE_DURATION:
        problems.add("invoice_duration", f"must be between 1 and {MAX_INVOICE_DURATION}")
        return DEFAULT_INVOICE_DURATION
    return float(value)


def _parse_items(value: Any, problems: _Problems) -> list[dict[str, Any]] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        problems.add("items", "must be an array")
        return None
    for index, item in enumerate(value):
        ok = (
            isinstance(item, dict)
            and isinstance(item.get("name"), str)
            and _is_number(item.get("price"))
            and _is_number(item.get("quantity"))
        )
        if not ok:
            problems.add(f"items.{index}", "must have a string name, a number price and a number quantity")
    return value


# --- the backend --------------------------------------------------------------------------


@dataclass
class _IdempotencyRecord:
    fingerprint: str
    invoice_id: str


@dataclass
class _Counters:
    invoices: int = 0
    callbacks: int = 0


class XenditBackend:
    """The whole state of one fake Xendit account; implements :class:`simkit.fakekit.FakeService`.

    ``calls_cap``, ``outbox_cap`` and ``finished_invoices_cap`` are the bounds of the module's
    docstring; like the rest of the configuration they survive :meth:`reset`.
    """

    def __init__(
        self,
        scheduler: Scheduler,
        secret_key: str | None = None,
        callback_url: str | None = None,
        callback_token: str = "fake-callback-token",
        base_url: str | None = None,
        merchant_name: str = "Halo",
        user_id: str = "65a1b2c3d4e5f6a7b8c9d0e1",
        id_seed: int = 0x65A1B2C3,
        *,
        calls_cap: int = CALLS_CAP,
        outbox_cap: int = OUTBOX_CAP,
        finished_invoices_cap: int = FINISHED_INVOICES_CAP,
    ) -> None:
        self.scheduler = scheduler
        self.secret_key = secret_key
        self.callback_url = callback_url
        self.callback_token = callback_token
        self.base_url = base_url
        self.merchant_name = merchant_name
        self.user_id = user_id
        self.id_seed = id_seed
        self.calls: BoundedLog[RecordedCall] = BoundedLog(calls_cap)
        self.invoices: dict[str, Invoice] = {}
        self.outbox: BoundedLog[OutboundCallback] = BoundedLog(outbox_cap)
        self.fault_spec = XenditFaults()
        self.finished_invoices_cap = max(1, finished_invoices_cap)
        self._finished: deque[str] = deque()  # ids of finished invoices, in the order they finished
        self._evicted = 0
        self._idempotency: dict[str, _IdempotencyRecord] = {}
        self._key_of: dict[str, str] = {}  # invoice id -> its idempotency key, to forget both at once
        self._expiry_timers: dict[str, Timer] = {}
        self._counters = _Counters()
        self._callback_listeners: list[CallbackListener] = []
        self._reset_listeners: list[ResetListener] = []

    # --- FakeService -------------------------------------------------------------------

    def now(self) -> float:
        """The injected clock's time: the only time this backend knows."""
        return self.scheduler.clock.now()

    def reset(self) -> None:
        """Forget every invoice, callback, fault and recorded call; keep the configuration."""
        for timer in self._expiry_timers.values():
            timer.cancel()
        self._expiry_timers.clear()
        self.invoices.clear()
        self._finished.clear()
        self._evicted = 0
        for log in (self.outbox, self.calls):
            log.clear()
            log.dropped = 0
        self._idempotency.clear()
        self._key_of.clear()
        self._counters = _Counters()
        self.fault_spec = XenditFaults()
        for listener in self._reset_listeners:
            listener()

    def state(self) -> dict[str, Any]:
        """Everything, as JSON: invoices, queued callbacks, configuration, faults, timers."""
        return {
            "now": isoformat(self.now()),
            "config": self.config(),
            "invoices": [inv.to_json() for inv in self._newest_first(self.invoices.values())],
            "callbacks": [cb.to_json() for cb in self.outbox.newest()],
            "faults": self.faults(),
            "bounds": self.bounds(),
            "timers": [
                {"name": t.name, "due": isoformat(t.when)}
                for t in self.scheduler.pending()
                if t.name.startswith("xendit-")
            ],
        }

    def bounds(self) -> dict[str, Any]:
        """What the bounds keep and dropped: the calls, the outbox and the finished invoices."""
        finished = {"kept": len(self._finished), "cap": self.finished_invoices_cap, "dropped": self._evicted}
        return {
            "calls": self.calls.describe(),
            "callbacks": self.outbox.describe(),
            "finished_invoices": {**finished, "pending": len(self.invoices) - len(self._finished)},
        }

    def invoices_by_id(self, ids: list[str]) -> list[Invoice]:
        """The kept invoices among ``ids`` (an evicted or unknown id is left out), in the order asked."""
        return [self.invoices[i] for i in ids if i in self.invoices]

    def faults(self) -> dict[str, Any]:
        """The injected faults, with how many ``fail_api`` answers are left."""
        return self.fault_spec.model_dump()

    def set_faults(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Merge ``spec`` into the current faults; a bad spec raises ``ValueError`` and changes nothing."""
        merged = {**self.fault_spec.model_dump(), **spec}
        try:
            self.fault_spec = XenditFaults.model_validate(merged)
        except ValidationError as exc:
            raise ValueError(validation_message(exc)) from None
        return self.faults()

    def clear_faults(self) -> None:
        """Back to behaving like Xendit."""
        self.fault_spec = XenditFaults()

    # --- saving and restoring (``halo-sim serve --state-file``) -----------------------

    def snapshot(self) -> dict[str, Any]:
        """Invoices, queued callbacks, idempotency keys, faults and id counters as JSON-ready data.

        Configuration is not included (the restoring process sets it again); recorded calls
        are a debugging aid and are not kept either.  Everything saved is within its bound (the
        outbox as kept, with the count its bound dropped).
        """
        return {
            "invoices": [asdict(inv) for inv in self.invoices.values()],
            "outbox": [asdict(cb) for cb in self.outbox.newest()],
            "outbox_dropped": self.outbox.describe()["dropped"],
            "invoices_evicted": self._evicted,
            "idempotency": {key: asdict(record) for key, record in self._idempotency.items()},
            "faults": self.fault_spec.model_dump(),
            "counters": asdict(self._counters),
        }

    def restore(self, data: Mapping[str, Any], skip: int = 0) -> None:
        """Continue from a :meth:`snapshot`: invoices (their checkout URLs work again), the outbox,
        idempotency keys.  Expiry timers are not armed yet: call :meth:`rearm_expiry` once
        callbacks can be delivered (an overdue invoice expires, and sends its callback, at once).

        Ids go on from the saved counters plus ``skip``: a snapshot older than the last id handed
        out (a periodic checkpoint before a crash) must not lead to an invoice id being reused,
        or a new customer's payment would confirm an old one.
        """
        self.reset()
        for raw in data.get("invoices", []):
            payment = raw.get("payment")
            invoice = Invoice(**{**raw, "payment": Payment(**payment) if payment else None})
            self.invoices[invoice.id] = invoice
        self._restore_bounds(data)
        self._idempotency = {k: _IdempotencyRecord(**v) for k, v in data.get("idempotency", {}).items()}
        self._key_of = {record.invoice_id: key for key, record in self._idempotency.items()}
        self._evict()
        self.fault_spec = XenditFaults.model_validate(data.get("faults", {}))
        counters = data.get("counters", {})
        self._counters = _Counters(counters.get("invoices", 0) + skip, counters.get("callbacks", 0) + skip)

    def _restore_bounds(self, data: Mapping[str, Any]) -> None:
        """The outbox within its cap and the finishing order of the invoices (by when they last
        changed: a file from before the bounds may hold more than the caps, the newest stay)."""
        saved = [OutboundCallback(**cb) for cb in data.get("outbox", [])]
        self.outbox[:] = saved[-self.outbox.cap :]
        self.outbox.dropped = int(data.get("outbox_dropped", 0)) + max(0, len(saved) - self.outbox.cap)
        finished = sorted((inv for inv in self.invoices.values() if inv.status != "PENDING"), key=_finishing_order)
        self._finished.extend(inv.id for inv in finished)
        self._evicted = int(data.get("invoices_evicted", 0))

    def rearm_expiry(self) -> None:
        """After :meth:`restore`: every PENDING invoice expires on time again."""
        for invoice in self.invoices.values():
            if invoice.status == "PENDING" and invoice.id not in self._expiry_timers:
                self._arm_expiry(invoice)

    # --- listeners (how the I/O edge hears about decisions) ---------------------------

    def add_callback_listener(self, listener: CallbackListener) -> None:
        """Call ``listener`` with every callback queued from now on (the dispatcher subscribes)."""
        self._callback_listeners.append(listener)

    def add_reset_listener(self, listener: ResetListener) -> None:
        """Call ``listener`` on :meth:`reset`, so edge state (delivery log) resets with the model."""
        self._reset_listeners.append(listener)

    # --- configuration -----------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        """The runtime settings (the secret key is shown: this is a fake, made for debugging)."""
        return {
            "callback_url": self.callback_url,
            "callback_token": self.callback_token,
            "base_url": self.base_url,
            "merchant_name": self.merchant_name,
            "secret_key": self.secret_key,
        }

    def configure(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Apply the given settings only; unknown keys or wrong types raise ``ValueError``."""
        try:
            update = ConfigUpdate.model_validate(dict(changes))
        except ValidationError as exc:
            raise ValueError(validation_message(exc)) from None
        for name in update.model_fields_set:
            setattr(self, name, getattr(update, name))
        return self.config()

    # --- auth and injected API faults ---------------------------------------------------

    def check_auth(self, authorization: str | None) -> None:
        """HTTP Basic with the key as username: any test-mode key, or only ``secret_key`` when one is set."""
        key, problem = basic_username(authorization)
        refusal = problem if key is None else key_refusal(key, self.secret_key)
        if refusal is not None:
            raise XenditError.invalid_api_key(refusal)

    def take_api_fault(self) -> XenditError | None:
        """Consume one injected API failure, if any is armed."""
        fail = self.fault_spec.fail_api
        if fail is None:
            return None
        remaining = fail.count - 1
        self.fault_spec = self.fault_spec.model_copy(
            update={"fail_api": fail.model_copy(update={"count": remaining}) if remaining > 0 else None}
        )
        return XenditError.of(fail.error_code, fail.message or f"Injected fault: {fail.error_code}")

    # --- the Invoice API -------------------------------------------------------------------

    def create_invoice(self, body: Any, idempotency_key: str | None = None, base_url: str | None = None) -> Invoice:
        """``POST /v2/invoices``: validate, create a PENDING invoice and arm its expiry timer."""
        request = _parse_create(body)
        fingerprint = json.dumps(body, sort_keys=True, separators=(",", ":"))
        if idempotency_key is not None and (record := self._idempotency.get(idempotency_key)) is not None:
            if record.fingerprint != fingerprint:
                raise XenditError.of(
                    "IDEMPOTENCY_ERROR",
                    f"Idempotency key {idempotency_key} was already used with a different request body",
                )
            return self.invoices[record.invoice_id]
        invoice = self._new_invoice(request, (self.base_url or base_url or DEFAULT_BASE_URL).rstrip("/"))
        if idempotency_key is not None:
            self._idempotency[idempotency_key] = _IdempotencyRecord(fingerprint, invoice.id)
            self._key_of[invoice.id] = idempotency_key
        return invoice

    def get_invoice(self, invoice_id: str) -> Invoice:
        """``GET /v2/invoices/{id}``: never changes state."""
        invoice = self.invoices.get(invoice_id)
        if invoice is None:
            raise XenditError.invoice_not_found(invoice_id)
        return invoice

    def list_invoices(
        self,
        external_id: str | None = None,
        statuses: list[str] | None = None,
        limit: int | None = None,
    ) -> list[Invoice]:
        """``GET /v2/invoices``: newest first, filtered by external id and statuses."""
        if limit is None:
            limit = DEFAULT_LIST_LIMIT
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise XenditError.validation(
                [{"path": ["limit"], "message": f'"limit" must be between 1 and {MAX_LIST_LIMIT}'}]
            )
        wanted = {s.upper() for s in statuses} if statuses else None
        if wanted is not None and (unknown := wanted - set(INVOICE_STATUSES)):
            raise XenditError.validation(
                [{"path": ["statuses"], "message": f'"statuses" has unknown values {sorted(unknown)}'}]
            )
        found = [
            inv
            for inv in self._newest_first(self.invoices.values())
            if (external_id is None or inv.external_id == external_id) and (wanted is None or inv.status in wanted)
        ]
        return found[:limit]

    def expire_invoice(self, invoice_id: str) -> Invoice:
        """``POST /invoices/{id}/expire!``: PENDING → EXPIRED now; anything else is Xendit's 404."""
        invoice = self.get_invoice(invoice_id)
        if invoice.status != "PENDING":
            raise XenditError(
                404,
                "INVOICE_NOT_FOUND_ERROR",
                f"Could not find and update PENDING invoice {invoice_id}",
            )
        now = self.now()
        invoice.expiry_date = now
        self._mark_expired(invoice)
        return invoice

    # --- fake-only actions (checkout page and control plane) ---------------------------

    def pay_invoice(
        self,
        invoice_id: str,
        payment_method: str = "BANK_TRANSFER",
        bank_code: str | None = None,
        payment_channel: str | None = None,
        payment_destination: str | None = None,
        paid_amount: float | None = None,
    ) -> Invoice:
        """What a customer paying on the checkout page does: PENDING → PAID and a PAID callback."""
        invoice = self.get_invoice(invoice_id)
        if invoice.status != "PENDING":
            raise XenditError.of(
                "INVOICE_NOT_PENDING", f"Invoice {invoice_id} is {invoice.status}; only a PENDING invoice can be paid"
            )
        invoice.payment = self._payment(
            invoice, payment_method, bank_code, payment_channel, payment_destination, paid_amount
        )
        invoice.status = "PAID"
        invoice.updated = invoice.payment.paid_at
        self._cancel_expiry(invoice_id)
        self._queue_callback(invoice)
        self._finish(invoice)
        return invoice

    def settle_invoice(self, invoice_id: str) -> Invoice:
        """PAID → SETTLED (funds reached the balance); queues a SETTLED callback for the backend's SETTLED path."""
        invoice = self.get_invoice(invoice_id)
        if invoice.status != "PAID":
            raise XenditError.of(
                "INVOICE_NOT_PAID", f"Invoice {invoice_id} is {invoice.status}; only a PAID invoice can settle"
            )
        invoice.status = "SETTLED"
        invoice.updated = self.now()
        self._queue_callback(invoice)
        return invoice

    # --- internals -------------------------------------------------------------------------

    def _next_id(self) -> str:
        """Counter-based 24-hex ids (ObjectId-shaped like Xendit's), reproducible run to run."""
        self._counters.invoices += 1
        return f"{self.id_seed & 0xFFFFFFFF:08x}{self._counters.invoices:016x}"

    def _new_invoice(self, request: _CreateRequest, base_url: str) -> Invoice:
        now = self.now()
        invoice_id = self._next_id()
        invoice = Invoice(
            id=invoice_id,
            seq=self._counters.invoices,
            external_id=request.external_id,
            user_id=self.user_id,
            merchant_name=self.merchant_name,
            merchant_profile_picture_url=DEFAULT_PROFILE_PICTURE,
            amount=request.amount,
            currency=request.currency,
            created=now,
            updated=now,
            expiry_date=now + request.duration,
            invoice_url=f"{base_url}/web/invoices/{invoice_id}",
            payer_email=request.payer_email,
            description=request.description,
            success_redirect_url=request.success_redirect_url,
            failure_redirect_url=request.failure_redirect_url,
            should_send_email=request.should_send_email,
            items=request.items,
            metadata=request.metadata,
            customer=request.customer,
        )
        self.invoices[invoice_id] = invoice
        self._arm_expiry(invoice)
        return invoice

    def _arm_expiry(self, invoice: Invoice) -> None:
        invoice_id = invoice.id
        self._expiry_timers[invoice_id] = self.scheduler.call_at(
            invoice.expiry_date,
            lambda: self._expire_due(invoice_id),
            name=f"xendit-expire-{invoice_id}",
        )

    def _expire_due(self, invoice_id: str) -> None:
        """The expiry timer: only a still-PENDING invoice expires (a paid one was already disarmed)."""
        self._expiry_timers.pop(invoice_id, None)
        invoice = self.invoices.get(invoice_id)
        if invoice is not None and invoice.status == "PENDING":
            self._mark_expired(invoice)

    def _mark_expired(self, invoice: Invoice) -> None:
        invoice.status = "EXPIRED"
        invoice.updated = self.now()
        self._cancel_expiry(invoice.id)
        self._queue_callback(invoice)
        self._finish(invoice)

    def _finish(self, invoice: Invoice) -> None:
        """PENDING → PAID or EXPIRED: the invoice joins the finished ones, the oldest of which go."""
        self._finished.append(invoice.id)
        self._evict()

    def _evict(self) -> None:
        """Forget the finished invoices past the cap, oldest finished first, with their idempotency keys."""
        while len(self._finished) > self.finished_invoices_cap:
            invoice_id = self._finished.popleft()
            self.invoices.pop(invoice_id, None)
            key = self._key_of.pop(invoice_id, None)
            if key is not None:
                self._idempotency.pop(key, None)
            self._evicted += 1

    def _cancel_expiry(self, invoice_id: str) -> None:
        timer = self._expiry_timers.pop(invoice_id, None)
        if timer is not None:
            timer.cancel()

    def _payment(
        self,
        invoice: Invoice,
        method: str,
        bank_code: str | None,
        channel: str | None,
        destination: str | None,
        paid_amount: float | None,
    ) -> Payment:
        method = method.upper()
        if method not in PAYMENT_METHODS:
            raise XenditError.validation(
                [{"path": ["payment_method"], "message": f'"payment_method" must be one of {list(PAYMENT_METHODS)}'}]
            )
        if paid_amount is not None and (not _is_number(paid_amount) or paid_amount <= 0):
            raise XenditError.validation(
                [{"path": ["paid_amount"], "message": '"paid_amount" must be a number greater than 0'}]
            )
        if method in BANK_METHODS:
            bank_code = (bank_code or "BCA").upper()
            channel = channel or bank_code
            destination = destination or f"8808{invoice.seq:09d}"
        else:
            bank_code = None
            channel = channel or DEFAULT_CHANNEL.get(method, method)
            destination = destination or channel
        return Payment(
            method=method,
            channel=channel,
            destination=destination,
            bank_code=bank_code,
            paid_amount=_tidy_number(paid_amount) if paid_amount is not None else invoice.amount,
            paid_at=self.now(),
        )

    def _queue_callback(self, invoice: Invoice) -> None:
        """Decide that Xendit would now POST a callback, and tell the listeners (the dispatcher)."""
        self._counters.callbacks += 1
        callback = OutboundCallback(
            callback_id=f"cb-{self._counters.callbacks:06d}",
            invoice_id=invoice.id,
            external_id=invoice.external_id,
            status=invoice.status,
            body=invoice.callback_body(),
            created=self.now(),
        )
        self.outbox.append(callback)
        for listener in self._callback_listeners:
            listener(callback)

    @staticmethod
    def _newest_first(invoices: Any) -> list[Invoice]:
        return sorted(invoices, key=lambda inv: (inv.created, inv.seq), reverse=True)


def _finishing_order(invoice: Invoice) -> tuple[float, int]:
    """When an invoice (roughly) finished: its last change; a settled one counts from settling."""
    return invoice.updated, invoice.seq
