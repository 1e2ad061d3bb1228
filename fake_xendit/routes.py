"""The HTTP surface of the fake: Xendit's Invoice API, the checkout page, the control plane.

Routes only translate HTTP to calls on :class:`~fake_xendit.models.XenditBackend`
and back; every rule lives in the model, every outbound POST in the
:class:`~fake_xendit.callbacks.CallbackDispatcher`.

Service API (HTTP Basic with the secret key)::

    POST /v2/invoices  and  /v2/invoices/      create (X-IDEMPOTENCY-KEY honoured)
    GET  /v2/invoices                          list: external_id, statuses, limit
    GET  /v2/invoices/{id}                     get
    POST /invoices/{id}/expire!                expire (literal "!", no /v2)

Checkout page (no auth: it is the customer's browser)::

    GET  /web/invoices/{id}                    the page at invoice_url
    POST /web/invoices/{id}/pay | /expire      form actions, 303 back or to the redirect URL

Control plane (``/_fake``, shared with every fake, plus)::

    POST /_fake/invoices/{id}/pay | /expire | /settle   act as customer / Xendit
    GET  /_fake/invoices?id=A&id=B                      the kept invoices among these ids (no auth, unrecorded)
    GET  /_fake/callbacks[?after=N&limit=K]             delivery log (after position N, newest K),
                                                        held and queued callbacks, what the bounds dropped
    POST /_fake/callbacks/flush                         release held (reordered) callbacks, newest first
    GET|POST /_fake/config                              callback_url, callback_token, base_url, …

The ``/_fake`` actions and the flush answer once every first delivery attempt
in flight has finished (``?wait=false`` answers at once), so a test can assert
on the receiver right after; retries stay on the scheduler.  A flush with
nothing held is therefore also the way to wait for sends started by the
checkout page.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs

from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from fake_xendit.callbacks import CallbackDispatcher
from fake_xendit.checkout import render_invoice, render_not_found
from fake_xendit.errors import XenditError
from fake_xendit.models import MAX_LIST_LIMIT, Invoice, XenditBackend, validation_message
from simkit.clock import SystemClock
from simkit.fakekit import CallRecorder, control_routes, count_param
from simkit.scheduler import Scheduler

#: Every refused request is logged here with its reason (a 401 body never says why).
log = logging.getLogger("fake_xendit")


class PayRequest(BaseModel):
    """Optional body of ``POST /_fake/invoices/{id}/pay``: how the customer paid."""

    model_config = ConfigDict(extra="forbid")

    payment_method: str = "BANK_TRANSFER"
    bank_code: str | None = None
    payment_channel: str | None = None
    payment_destination: str | None = None
    paid_amount: float | None = None


def create_app(backend: XenditBackend | None = None, dispatcher: CallbackDispatcher | None = None) -> Starlette:
    """A fake Xendit as an ASGI app; without arguments, a wall-clock backend and default dispatcher."""
    if backend is None:
        backend = dispatcher.backend if dispatcher is not None else XenditBackend(Scheduler(SystemClock()))
    if dispatcher is None:
        dispatcher = CallbackDispatcher(backend)
    if dispatcher.backend is not backend:
        raise ValueError("the dispatcher must deliver the callbacks of the backend it is served with")
    handlers = _Handlers(backend, dispatcher)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # The scheduler is not stopped here on purpose: it may be shared with the
        # reference backend, and its driver task ends with this server's loop anyway.
        backend.scheduler.start()
        try:
            yield
        finally:
            await dispatcher.aclose()

    app = Starlette(
        routes=handlers.routes() + control_routes(backend),
        middleware=[Middleware(CallRecorder, service=backend)],
        exception_handlers={XenditError: _xendit_error, Exception: _unexpected_error},
        lifespan=lifespan,
    )
    app.state.backend = backend
    app.state.dispatcher = dispatcher
    return app


async def _xendit_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, XenditError)
    log.warning(
        "refused %s %s: %s %s, %s",
        request.method,
        request.url.path,
        exc.status,
        exc.error_code,
        exc.reason or exc.message,
    )
    return JSONResponse(exc.to_body(), status_code=exc.status)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    """A bug in the fake still answers in Xendit's shape, so a client's error path is what runs."""
    log.error("failed %s %s: %r", request.method, request.url.path, exc, exc_info=exc)
    return JSONResponse(XenditError.server_error(f"fake_xendit: {exc!r}").to_body(), status_code=500)


class _Handlers:
    """The endpoints, bound to one backend and one dispatcher."""

    def __init__(self, backend: XenditBackend, dispatcher: CallbackDispatcher) -> None:
        self.backend = backend
        self.dispatcher = dispatcher

    def routes(self) -> list[Route]:
        return [
            Route("/v2/invoices", self.invoices, methods=["GET", "POST"]),
            Route("/v2/invoices/", self.invoices, methods=["GET", "POST"]),
            Route("/v2/invoices/{invoice_id}", self.get_invoice, methods=["GET"]),
            Route("/invoices/{invoice_id}/expire!", self.expire_invoice, methods=["POST"]),
            Route("/web/invoices/{invoice_id}", self.checkout_page, methods=["GET"]),
            Route("/web/invoices/{invoice_id}/pay", self.checkout_pay, methods=["POST"]),
            Route("/web/invoices/{invoice_id}/expire", self.checkout_expire, methods=["POST"]),
            Route("/_fake/invoices", self.fake_invoices, methods=["GET"]),
            Route("/_fake/invoices/{invoice_id}/pay", self.fake_pay, methods=["POST"]),
            Route("/_fake/invoices/{invoice_id}/expire", self.fake_expire, methods=["POST"]),
            Route("/_fake/invoices/{invoice_id}/settle", self.fake_settle, methods=["POST"]),
            Route("/_fake/callbacks", self.callbacks, methods=["GET"]),
            Route("/_fake/callbacks/flush", self.flush_callbacks, methods=["POST"]),
            Route("/_fake/config", self.config, methods=["GET", "POST"]),
        ]

    # --- Invoice API ----------------------------------------------------------------------

    def _authorize(self, request: Request) -> None:
        """Xendit's auth, then any injected API failure (which only ever hits authenticated calls)."""
        self.backend.check_auth(request.headers.get("authorization"))
        fault = self.backend.take_api_fault()
        if fault is not None:
            raise fault

    async def invoices(self, request: Request) -> Response:
        self._authorize(request)
        if request.method == "GET":
            return self._list(request)
        body = await _json_body(request)
        invoice = self.backend.create_invoice(
            body,
            request.headers.get("x-idempotency-key"),
            base_url=str(request.base_url).rstrip("/"),
        )
        return JSONResponse(invoice.to_json())

    def _list(self, request: Request) -> Response:
        params = request.query_params
        statuses = _statuses(params.getlist("statuses") + params.getlist("statuses[]"))
        limit_text = params.get("limit")
        try:
            limit = int(float(limit_text)) if limit_text is not None else None
        except ValueError:
            raise XenditError.validation([{"path": ["limit"], "message": '"limit" must be a number'}]) from None
        found = self.backend.list_invoices(params.get("external_id"), statuses or None, limit)
        return JSONResponse([inv.to_json() for inv in found])

    async def get_invoice(self, request: Request) -> Response:
        self._authorize(request)
        return JSONResponse(self.backend.get_invoice(request.path_params["invoice_id"]).to_json())

    async def expire_invoice(self, request: Request) -> Response:
        self._authorize(request)
        return JSONResponse(self.backend.expire_invoice(request.path_params["invoice_id"]).to_json())

    # --- checkout page -------------------------------------------------------------------

    async def checkout_page(self, request: Request) -> Response:
        invoice_id = request.path_params["invoice_id"]
        invoice = self.backend.invoices.get(invoice_id)
        if invoice is None:
            return HTMLResponse(render_not_found(invoice_id), status_code=404)
        return HTMLResponse(render_invoice(invoice))

    async def checkout_pay(self, request: Request) -> Response:
        invoice_id = request.path_params["invoice_id"]
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        method, _, channel = (form.get("method") or ["BANK_TRANSFER:BCA"])[0].partition(":")
        bank = channel if method == "BANK_TRANSFER" else None
        return self._checkout_action(
            invoice_id,
            lambda: self.backend.pay_invoice(invoice_id, method, bank_code=bank, payment_channel=channel or None),
            success=True,
        )

    async def checkout_expire(self, request: Request) -> Response:
        invoice_id = request.path_params["invoice_id"]
        return self._checkout_action(invoice_id, lambda: self.backend.expire_invoice(invoice_id), success=False)

    def _checkout_action(self, invoice_id: str, action: Callable[[], Invoice], *, success: bool) -> Response:
        """Run a form action; answer 303 to the redirect URL, or back to the page (also when refused)."""
        if invoice_id not in self.backend.invoices:
            return HTMLResponse(render_not_found(invoice_id), status_code=404)
        page = f"/web/invoices/{invoice_id}"
        try:
            invoice = action()
        except XenditError:
            return RedirectResponse(page, status_code=303)  # no longer PENDING: the page shows why
        target = invoice.success_redirect_url if success else invoice.failure_redirect_url
        return RedirectResponse(target or page, status_code=303)

    # --- control plane extras ---------------------------------------------------------------

    async def fake_pay(self, request: Request) -> Response:
        raw = await _json_body(request, allow_empty=True)
        try:
            pay = PayRequest.model_validate(raw or {})
        except ValidationError as exc:
            return JSONResponse({"error": validation_message(exc)}, status_code=400)
        invoice_id = request.path_params["invoice_id"]
        return await self._act(request, lambda: self.backend.pay_invoice(invoice_id, **pay.model_dump()))

    async def fake_expire(self, request: Request) -> Response:
        invoice_id = request.path_params["invoice_id"]
        return await self._act(request, lambda: self.backend.expire_invoice(invoice_id))

    async def fake_settle(self, request: Request) -> Response:
        invoice_id = request.path_params["invoice_id"]
        return await self._act(request, lambda: self.backend.settle_invoice(invoice_id))

    async def _act(self, request: Request, action: Callable[[], Invoice]) -> Response:
        """Run a state change, wait for its callbacks' first attempts, answer what happened.

        Positions in the bounded logs (not list indexes, which shift when a log trims) say what is new.
        """
        outbox, log = self.backend.outbox, self.dispatcher.log
        before, logged = outbox.total, log.total
        invoice = action()
        caused = outbox.after(before, outbox.cap)
        if _wants_wait(request):
            await self.dispatcher.drain()
        ids = {cb.callback_id for cb in caused}
        return JSONResponse(
            {
                "invoice": invoice.to_json(),
                "callbacks": [cb.to_json() for cb in caused],
                "deliveries": [entry.to_json() for entry in log.after(logged, log.cap) if entry.callback_id in ids],
            }
        )

    async def fake_invoices(self, request: Request) -> Response:
        """Invoices by id for a reader that knows which it wants (the control center), O(ids asked)."""
        ids = request.query_params.getlist("id")
        if len(ids) > MAX_LIST_LIMIT:
            return JSONResponse({"error": f"at most {MAX_LIST_LIMIT} ids"}, status_code=400)
        return JSONResponse({"invoices": [inv.to_json() for inv in self.backend.invoices_by_id(ids)]})

    async def callbacks(self, request: Request) -> Response:
        try:
            after, limit = count_param(request, "after"), count_param(request, "limit")
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(self.dispatcher.summary(after or 0, limit))

    async def flush_callbacks(self, request: Request) -> Response:
        released = self.dispatcher.flush()
        if _wants_wait(request):
            await self.dispatcher.drain()
        return JSONResponse({"flushed": [cb.callback_id for cb in released], **self.dispatcher.summary()})

    async def config(self, request: Request) -> Response:
        if request.method == "POST":
            changes = await _json_body(request, allow_empty=True)
            if not isinstance(changes, dict):
                return JSONResponse({"error": "config body must be a JSON object"}, status_code=400)
            try:
                self.backend.configure(changes)
            except ValueError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(self.backend.config())


async def _json_body(request: Request, allow_empty: bool = False) -> Any:
    """The parsed JSON body; malformed JSON is Xendit's 400 API_VALIDATION_ERROR."""
    raw = await request.body()
    if not raw.strip():
        if allow_empty:
            return None
        raise XenditError.validation([{"path": [], "message": '"value" must be an object'}])
    try:
        return json.loads(raw)
    except ValueError:
        raise XenditError.validation([{"path": [], "message": "Request body is not valid JSON"}]) from None


def _statuses(values: list[str]) -> list[str]:
    """Accept every spelling clients use: repeated params (the SDK), a JSON array (Xendit's docs), commas."""
    found: list[str] = []
    for value in values:
        text = value.strip()
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = text.strip("[]").split(",")
            items = [str(v) for v in parsed] if isinstance(parsed, list) else [text]
        else:
            items = text.split(",")
        found.extend(item.strip().strip("\"'") for item in items if item.strip())
    return found


def _wants_wait(request: Request) -> bool:
    return request.query_params.get("wait", "true").lower() not in ("0", "false", "no")
