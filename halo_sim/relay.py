"""Xendit invoice callbacks delivered to any backend: one by hand, or relayed from polling.

Two tools for a backend Xendit cannot reach (a laptop, an emulator's host, a
second developer behind the dashboard's single webhook URL):

* :func:`fire_webhook` posts one Xendit-shaped callback, built with
  :func:`fake_xendit.models.standalone_callback`, to a backend's webhook route
  (``halo-sim xendit fire-webhook``; replaces ``backend/.dev/xendit-fake-webhook.sh``).
* :class:`Relay` polls the Invoice API (Xendit test mode, or fake Xendit) for
  invoices in a final status and forwards each new ``(invoice id, status)`` to a
  backend as a signed callback (``halo-sim xendit relay``).

Neither raises for a backend that answers badly or not at all: each POST comes
back as a :class:`Delivery` carrying the status code and answer, or the transport
error, so the CLI decides the exit code and the relay decides what to retry.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from simkit.clock import parse_iso
from simkit.errors import HaloSimError
from simkit.xendit_wire import WEBHOOK_PATH, standalone_callback

__all__ = [
    "CALLBACK_STATUSES",
    "WEBHOOK_PATH",
    "BadWebhookUrl",
    "Delivery",
    "Forwarded",
    "InvoiceLister",
    "Relay",
    "callback_from_invoice",
    "fire_webhook",
    "mask_secret",
    "webhook_url",
]

#: The invoice statuses Xendit sends a callback for (SPEC §5): the only ones relayed.
CALLBACK_STATUSES = ("PAID", "SETTLED", "EXPIRED")
#: Xendit's largest page for ``GET /v2/invoices``.
LIST_LIMIT = 100
DEFAULT_TIMEOUT_S = 10.0

log = logging.getLogger(__name__)


class BadWebhookUrl(HaloSimError, ValueError):
    """The backend URL is not an absolute http(s) URL."""


def webhook_url(base_url: str, path: str | None = None) -> str:
    """The backend's webhook URL: ``base_url`` plus ``path`` (default: the Halo webhook route).

    A ``base_url`` that already ends with the path is used as it is, so both
    ``http://host:8080`` and ``http://host:8080/api/shared/payment/webhooks/xendit`` work.
    """
    base = base_url.strip().rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadWebhookUrl(f"not a backend URL: {base_url!r} (expected e.g. http://127.0.0.1:8080)")
    route = "/" + (path or WEBHOOK_PATH).strip().strip("/")
    return base if base.endswith(route) else base + route


def mask_secret(secret: str) -> str:
    """A secret as it may be printed: stars and its last four characters (nothing of a short one)."""
    return "****" + secret[-4:] if len(secret) > 8 else "****"


@dataclass(frozen=True)
class Delivery:
    """One callback POSTed to a backend, and what came back.

    ``status_code`` is ``None`` when the backend could not be reached; ``error`` then says why.
    """

    url: str
    headers: dict[str, str]
    body: dict[str, Any]
    status_code: int | None
    answer: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """The backend took it (any 2xx, as Xendit counts it)."""
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def reached(self) -> bool:
        """The backend answered at all."""
        return self.status_code is not None

    @property
    def invoice_id(self) -> str:
        return str(self.body.get("id", ""))

    @property
    def external_id(self) -> str:
        return str(self.body.get("external_id", ""))

    @property
    def status(self) -> str:
        return str(self.body.get("status", ""))

    def outcome(self) -> str:
        """The answer in a few words: ``200 confirmed``, ``401 INVALID_CALLBACK_TOKEN``, ``not reached: …``."""
        if self.status_code is None:
            return f"not reached: {self.error}"
        answer = self.answer
        if isinstance(answer, dict):
            if "result" in answer:
                reason = f" ({answer['reason']})" if answer.get("reason") else ""
                return f"{self.status_code} {answer['result']}{reason}"
            if "error" in answer:
                return f"{self.status_code} {answer['error']}"
        text = answer if isinstance(answer, str) else json.dumps(answer)
        return f"{self.status_code} {text[:120]}".rstrip()


#: What :meth:`Relay.poll_once` reports: one forwarded callback.
Forwarded = Delivery


def _headers(token: str) -> dict[str, str]:
    return {"content-type": "application/json", "x-callback-token": token}


def _answer(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _not_reached(exc: httpx.HTTPError) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def fire_webhook(
    to: str,
    external_id: str,
    token: str,
    *,
    invoice_id: str | None = None,
    status: str = "PAID",
    amount: float = 25000,
    path: str | None = None,
    at: float | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Delivery:
    """POST one invoice callback for payment ``external_id`` to the backend at ``to``.

    ``invoice_id`` defaults to ``fake-<external_id>``: what a backend without
    Xendit (``XENDIT_ENABLED=false``) accepts.  A backend that created a real
    invoice for the payment only applies a callback carrying that invoice's id.
    Raises :class:`BadWebhookUrl` for a malformed ``to``; never for the answer.
    """
    url = webhook_url(to, path)
    body = standalone_callback(
        invoice_id or f"fake-{external_id}", external_id, status.upper(), amount, time.time() if at is None else at
    )
    headers = _headers(token)
    try:
        with httpx.Client(timeout=timeout_s) as http:
            response = http.post(url, json=body, headers=headers)
    except httpx.HTTPError as exc:
        return Delivery(url, headers, body, None, error=_not_reached(exc))
    return Delivery(url, headers, body, response.status_code, _answer(response))


def callback_from_invoice(invoice: Mapping[str, Any]) -> dict[str, Any]:
    """The callback Xendit would send for an invoice object (as ``GET /v2/invoices`` answers it)."""
    updated = invoice.get("updated")
    at = parse_iso(updated) if isinstance(updated, str) else time.time()
    extra = {
        key: invoice[key]
        for key in ("user_id", "merchant_name", "payment_method", "bank_code")
        if isinstance(invoice.get(key), str)
    }
    return standalone_callback(
        str(invoice["id"]),
        str(invoice["external_id"]),
        str(invoice["status"]),
        invoice.get("amount", 0),
        at,
        description=invoice.get("description"),
        payer_email=invoice.get("payer_email"),
        **extra,
    )


class InvoiceLister(Protocol):
    """What the relay needs of a Xendit client (:class:`halo_sim.backend.xendit.XenditClient` fits)."""

    async def list_invoices(self, **filters: Any) -> list[dict[str, Any]]: ...


@dataclass
class Relay:
    """Polls Xendit for final invoice statuses and forwards each new one to a backend's webhook.

    Xendit's dashboard takes one webhook URL per account; the relay lets any
    number of local backends see the callbacks of a shared test-mode account.

    * What is new is keyed on ``(invoice id, status)``, the pair Xendit's own
      callbacks are deduplicated on: ``PAID`` then ``SETTLED`` are two callbacks.
    * The first poll records the invoices already ``PAID``/``SETTLED``/``EXPIRED``
      *without* forwarding them (the baseline): starting the relay must not replay
      the account's history into a backend.  ``replay=True`` forwards them on the
      first poll instead (a backend that missed them answers ``confirmed``, one
      that saw them ``duplicate``).
    * A pair is remembered only once the backend answered 2xx; a refusal (401 for
      a wrong token, 5xx) or an unreachable backend is reported and the same
      callback is sent again on the next poll, as Xendit retries.
    * One poll lists the ``LIST_LIMIT`` (100) most recently created invoices in a
      final status, oldest forwarded first; a change to an invoice older than
      that window is not seen.
    """

    xendit: InvoiceLister
    forward_to: str
    callback_token: str
    http: httpx.AsyncClient
    replay: bool = False
    path: str | None = None
    limit: int = LIST_LIMIT
    url: str = field(init=False)
    seen: set[tuple[str, str]] = field(init=False, default_factory=set)
    primed: bool = field(init=False, default=False)
    baseline: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.url = webhook_url(self.forward_to, self.path)

    async def poll_once(self) -> list[Delivery]:
        """List final invoices, forward the new ``(id, status)`` pairs; Xendit's errors raise ``XenditRejected``."""
        listed = await self.xendit.list_invoices(statuses=json.dumps(list(CALLBACK_STATUSES)), limit=self.limit)
        invoices = [inv for inv in listed if _relayable(inv)]
        if not self.primed:
            self.primed = True
            if not self.replay:
                self.seen.update(_key(inv) for inv in invoices)
                self.baseline = len(self.seen)
                return []
        forwarded = []
        for invoice in reversed(invoices):  # Xendit lists newest first; forward in the order they happened
            if _key(invoice) in self.seen:
                continue
            delivery = await self.forward(invoice)
            if delivery.ok:
                self.seen.add(_key(invoice))
            forwarded.append(delivery)
        return forwarded

    async def forward(self, invoice: Mapping[str, Any]) -> Delivery:
        """POST the callback for one invoice to the backend, whatever its answer."""
        body = callback_from_invoice(invoice)
        headers = _headers(self.callback_token)
        try:
            response = await self.http.post(self.url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            return Delivery(self.url, headers, body, None, error=_not_reached(exc))
        return Delivery(self.url, headers, body, response.status_code, _answer(response))

    async def run(
        self,
        interval_s: float,
        stop_event: asyncio.Event,
        *,
        on_poll: Callable[[list[Delivery]], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        """Poll now (unless a poll already ran), then every ``interval_s`` until ``stop_event`` is set.

        A failed listing (Xendit down, a rate limit) is handed to ``on_error`` (or
        logged) and the loop goes on; each poll's deliveries go to ``on_poll``.
        """
        if not self.primed:
            await self._poll_reporting(on_poll, on_error)
        while not stop_event.is_set():
            try:
                await asyncio.wait_for(stop_event.wait(), timeout=interval_s)
            except TimeoutError:
                await self._poll_reporting(on_poll, on_error)

    async def _poll_reporting(
        self, on_poll: Callable[[list[Delivery]], None] | None, on_error: Callable[[Exception], None] | None
    ) -> None:
        try:
            deliveries = await self.poll_once()
        except (HaloSimError, ValueError, TypeError) as exc:  # XenditRejected, or a body that is not a list
            if on_error is None:
                log.warning("relay: listing Xendit invoices failed: %s", exc)
            else:
                on_error(exc)
            return
        if on_poll is not None:
            on_poll(deliveries)


def _relayable(invoice: Any) -> bool:
    return (
        isinstance(invoice, dict)
        and isinstance(invoice.get("id"), str)
        and isinstance(invoice.get("external_id"), str)
        and invoice.get("status") in CALLBACK_STATUSES
    )


def _key(invoice: Mapping[str, Any]) -> tuple[str, str]:
    return str(invoice["id"]), str(invoice["status"])
