"""The buttons of the control center: each one the request a scenario step (or the app) would make.

No rule lives here.  A backend action is *forwarded*, in process, to the route a scenario
step calls (``/internal/_test/clock``, ``mitra-accept-latest``, ``send-chat-message-as-*``,
``reset-phone``, the control center's ``PATCH /api/control-center/config``, the Xendit
webhook), so it passes that route's validation, guard and service exactly; putting a
mitra online or offline calls the presence service the mitra's own toggle calls.  A fake
action is the ``/_fake`` control-plane request the ``xendit`` steps send.  Answers are the
target's own, minus secrets (a mitra row's password never leaves).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import quote

import httpx
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse

from halo_sim.backend.routes.common import backend_of, body
from halo_sim.backend.schemas import Body, ClockAdvance, ConfigUpdate, MitraRef, PhoneBody, SessionMessage
from halo_sim.control.fakes import Fakes
from simkit.xendit_wire import TOKEN_HEADER, WEBHOOK_PATH, standalone_callback

InvoiceId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class InvoiceAction(Body):
    """An invoice of fake Xendit, by id."""

    invoice_id: InvoiceId


class PayInvoice(InvoiceAction):
    """Pay as the customer would on the checkout page (bank transfer unless told)."""

    payment_method: Literal["BANK_TRANSFER", "EWALLET", "QR_CODE", "RETAIL_OUTLET", "CREDIT_CARD"] | None = None


class FireWebhook(Body):
    """A Xendit callback posted to the backend's webhook: with its token, a wrong one, or none."""

    external_id: Annotated[str, Field(min_length=1, max_length=64)]
    status: Literal["PAID", "SETTLED", "EXPIRED"] = "PAID"
    invoice_id: InvoiceId | None = None
    amount: float = Field(default=25000, ge=0, le=1e12)
    token: Literal["valid", "wrong", "none"] = "valid"


class XenditFaults(Body):
    """Callback delivery faults of fake Xendit (``clear`` first forgets those in force)."""

    duplicate: bool | None = None
    reorder: bool | None = None
    drop: bool | None = None
    delay_s: float | None = Field(default=None, ge=0, le=3600)
    clear: bool = False


class MitraPresence(MitraRef):
    """Put one mitra online or offline, as its own toggle does."""

    online: bool


class Nothing(Body):
    """An action that takes no input."""


@dataclass(frozen=True)
class Forward:
    """An action that is exactly another route of the backend, with the same body."""

    method: str
    path: str
    model: type[BaseModel]


FORWARDS: dict[str, Forward] = {
    "advance-clock": Forward("POST", "/internal/_test/clock", ClockAdvance),
    "accept-latest": Forward("POST", "/internal/_test/mitra-accept-latest", MitraRef),
    "send-as-customer": Forward("POST", "/internal/_test/send-chat-message-as-customer", SessionMessage),
    "send-as-mitra": Forward("POST", "/internal/_test/send-chat-message-as-mitra", SessionMessage),
    "reset-phone": Forward("POST", "/internal/_test/reset-phone", PhoneBody),
    "config": Forward("PATCH", "/api/control-center/config", ConfigUpdate),
}


async def call_backend(request: Request, method: str, path: str, payload: Any, headers: dict[str, str]) -> JSONResponse:
    """One request to this very app, in process, as a loopback client holding the test token."""
    settings = backend_of(request).settings
    sent = {"x-test-token": settings.test_token} if settings.test_token else {}
    transport = httpx.ASGITransport(app=request.app, raise_app_exceptions=False, client=("127.0.0.1", 0))
    async with httpx.AsyncClient(transport=transport, base_url="http://control.local") as client:
        answer = await client.request(method, path, json=payload, headers={**sent, **headers})
    return JSONResponse(answer.json(), status_code=answer.status_code)


def forwarding(forward: Forward) -> Any:
    """The endpoint of a forwarded action: validate as the target would, then call it."""

    async def endpoint(request: Request) -> JSONResponse:
        data = await body(request, forward.model)
        return await call_backend(request, forward.method, forward.path, data.model_dump(exclude_unset=True), {})

    return endpoint


async def fire_webhook(request: Request) -> JSONResponse:
    """What ``xendit.fire_webhook`` does: a Xendit-shaped callback to the webhook route."""
    data = await body(request, FireWebhook)
    token = {
        "valid": backend_of(request).settings.xendit_callback_token,
        "wrong": secrets.token_hex(16),
        "none": None,
    }[data.token]
    callback = standalone_callback(
        data.invoice_id or f"fake-{data.external_id}", data.external_id, data.status, data.amount, time.time()
    )
    headers = {} if token is None else {TOKEN_HEADER: token}
    return await call_backend(request, "POST", WEBHOOK_PATH, callback, headers)


async def mitra_presence(request: Request) -> JSONResponse:
    """The mitra's online toggle, through the presence service (offers follow, as for the app's toggle)."""
    data = await body(request, MitraPresence)
    backend = backend_of(request)
    mitra = await backend.presence.set_online(
        backend.testing.named_mitra(data.mitra_id, data.mitra_phone).id, data.online
    )
    return JSONResponse({"id": mitra.id, "display_name": mitra.display_name, "online": mitra.online})


def _fakes(request: Request) -> Fakes:
    return Fakes(backend_of(request).advertised)


async def pay_invoice(request: Request) -> JSONResponse:
    """What ``xendit.pay`` does; answers once the PAID callback's first delivery finished."""
    data = await body(request, PayInvoice)
    paid = data.model_dump(exclude={"invoice_id"}, exclude_none=True)
    path = f"/_fake/invoices/{quote(data.invoice_id, safe='')}/pay"
    return JSONResponse(await _fakes(request).xendit("POST", path, paid))


async def expire_invoice(request: Request) -> JSONResponse:
    """What ``xendit.expire`` does."""
    data = await body(request, InvoiceAction)
    path = f"/_fake/invoices/{quote(data.invoice_id, safe='')}/expire"
    return JSONResponse(await _fakes(request).xendit("POST", path))


async def xendit_faults(request: Request) -> JSONResponse:
    """What ``xendit.faults`` does (after a clear, when asked)."""
    data = await body(request, XenditFaults)
    fakes = _fakes(request)
    if data.clear:
        await fakes.xendit("DELETE", "/_fake/faults")
    spec = data.model_dump(exclude={"clear"}, exclude_none=True)
    return JSONResponse(await fakes.xendit("POST", "/_fake/faults", spec))


async def flush_callbacks(request: Request) -> JSONResponse:
    """What ``xendit.flush`` does: deliver the callbacks the reorder fault holds."""
    await body(request, Nothing)
    return JSONResponse(await _fakes(request).xendit("POST", "/_fake/callbacks/flush"))


FAKE_CODES = ("NOT_FOUND", "FAKE_REFUSED", "FAKE_NOT_RUNNING")


@dataclass(frozen=True)
class Action:
    """One button: its endpoint, its body, and the route it forwards to (or the codes it answers)."""

    endpoint: Any
    model: type[BaseModel]
    target: tuple[str, str] | None = None
    codes: tuple[str, ...] = ()


OWN: dict[str, Action] = {
    "fire-webhook": Action(fire_webhook, FireWebhook, ("POST", WEBHOOK_PATH)),
    "mitra-presence": Action(mitra_presence, MitraPresence, codes=("NOT_FOUND", "MITRA_NOT_FOUND")),
    "pay-invoice": Action(pay_invoice, PayInvoice, codes=FAKE_CODES),
    "expire-invoice": Action(expire_invoice, InvoiceAction, codes=FAKE_CODES),
    "xendit-faults": Action(xendit_faults, XenditFaults, codes=FAKE_CODES),
    "flush-callbacks": Action(flush_callbacks, Nothing, codes=FAKE_CODES),
}


def table() -> dict[str, Action]:
    """Every action by name (for the routes, the route table and the OpenAPI document)."""
    forwarded = {n: Action(forwarding(f), f.model, (f.method, f.path)) for n, f in FORWARDS.items()}
    return forwarded | OWN


def action_path(name: str) -> str:
    """Where the page posts an action."""
    return f"/control/actions/{name}"


SUMMARIES = {
    "advance-clock": "Advance the virtual clock (as POST /internal/_test/clock)",
    "accept-latest": "This mitra accepts its newest offer (as _test/mitra-accept-latest)",
    "send-as-customer": "Send a message as the session's customer (as _test/send-chat-message-as-customer)",
    "send-as-mitra": "Send a message as the session's mitra (as _test/send-chat-message-as-mitra)",
    "reset-phone": "Delete a customer and all it owns (as _test/reset-phone)",
    "config": "Change prices and support handles (as PATCH /api/control-center/config)",
    "fire-webhook": "POST a Xendit callback to the webhook, with its token, a wrong one or none",
    "mitra-presence": "Put a mitra online or offline (its own toggle's service)",
    "pay-invoice": "Pay an invoice on fake Xendit (as the xendit.pay step)",
    "expire-invoice": "Expire an invoice on fake Xendit (as the xendit.expire step)",
    "xendit-faults": "Set (or clear) fake Xendit's callback delivery faults (as the xendit.faults step)",
    "flush-callbacks": "Deliver the callbacks fake Xendit holds (as the xendit.flush step)",
}


def declarations() -> dict[str, tuple[str, Action]]:
    """Each action's path, summary and :class:`Action`, for the route table (``halo_sim/backend/api.py``)."""
    return {action_path(n): (SUMMARIES[n], action) for n, action in table().items()}
