"""Payments through fake Xendit: pay or expire an invoice as a customer would, inject
delivery faults, check the callbacks it sent, or fire a callback by hand.

The fake delivers its callbacks to the backend's webhook by itself; these steps
drive and observe it over its ``/_fake`` control plane.  ``fire_webhook`` posts a
Xendit-shaped callback straight to the target's webhook route (as
``halo-sim xendit fire-webhook`` does), with the target's callback token unless
the step gives one — which is how a wrong or missing token is tested.
"""

from __future__ import annotations

import json
import time
from typing import Any, Literal

from pydantic import model_validator

from halo_sim.scenario.actor import Actor
from halo_sim.scenario.context import Result, RunContext, compact
from halo_sim.scenario.expect import matches
from halo_sim.scenario.polling import poll
from halo_sim.scenario.steps import Args, StepOutcome, step
from simkit.errors import CapabilityMissing, StepFailed
from simkit.xendit_wire import TOKEN_HEADER, standalone_callback


class InvoiceArg(Args):
    invoice_id: str


class PayArgs(InvoiceArg):
    payment_method: str | None = None
    bank_code: str | None = None


class FaultArgs(Args):
    duplicate: bool | None = None
    reorder: bool | None = None
    drop: bool | None = None
    delay_s: float | None = None
    fail_api: dict[str, Any] | None = None


class ExpectCallback(Args):
    match: dict[str, Any] | None = None
    count: int | None = None
    timeout: float = 3.0


class FireWebhook(Args):
    external_id: str | None = None
    status: Literal["PAID", "SETTLED", "EXPIRED"] = "PAID"
    invoice_id: str | None = None
    amount: float = 25000
    fields: dict[str, Any] = {}
    drop: list[str] = []
    raw: str | None = None
    token: str | None = None
    omit_token: bool = False

    @model_validator(mode="after")
    def _body_is_built_or_raw(self) -> FireWebhook:
        if self.raw is None and self.external_id is None:
            raise ValueError("external_id is required (unless raw gives the whole body)")
        if self.raw is not None and (self.fields or self.drop):
            raise ValueError("raw is the whole body: fields and drop do not apply to it")
        return self


async def _fake(ctx: RunContext, method: str, path: str, body: Any = None) -> StepOutcome:
    result = await ctx.request(method, f"{ctx.target.xendit_url}{path}", body)
    return StepOutcome(result, f"{result['status']} {compact(result['body'], 180)}", http=True)


@step("xendit", "pay", PayArgs, capability="xendit_fake")
async def pay(ctx: RunContext, actor: Actor | None, args: PayArgs) -> StepOutcome:
    """The customer pays on the checkout page; the fake sends the PAID callback."""
    body = args.model_dump(exclude={"invoice_id"}, exclude_none=True)
    return await _fake(ctx, "POST", f"/_fake/invoices/{args.invoice_id}/pay", body)


@step("xendit", "expire", InvoiceArg, capability="xendit_fake")
async def expire(ctx: RunContext, actor: Actor | None, args: InvoiceArg) -> StepOutcome:
    """The invoice expires now; the fake sends the EXPIRED callback."""
    return await _fake(ctx, "POST", f"/_fake/invoices/{args.invoice_id}/expire")


@step("xendit", "faults", FaultArgs, capability="xendit_fake")
async def faults(ctx: RunContext, actor: Actor | None, args: FaultArgs) -> StepOutcome:
    """Make callback delivery misbehave (duplicate, reorder, drop, delay) or the API fail."""
    return await _fake(ctx, "POST", "/_fake/faults", args.model_dump(exclude_none=True))


@step("xendit", "flush", Args, capability="xendit_fake")
async def flush(ctx: RunContext, actor: Actor | None, args: Args) -> StepOutcome:
    """Deliver the callbacks held by the ``reorder`` fault (newest first)."""
    return await _fake(ctx, "POST", "/_fake/callbacks/flush")


@step("xendit", "expect_callback", ExpectCallback, capability="xendit_fake")
async def expect_callback(ctx: RunContext, actor: Actor | None, args: ExpectCallback) -> StepOutcome:
    """The fake's delivery log (one entry per attempt) has entries containing ``match`` (exactly ``count``)."""

    async def log() -> list[dict[str, Any]]:
        return list((await ctx.request("GET", f"{ctx.target.xendit_url}/_fake/callbacks"))["body"]["log"])

    def matching(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [e for e in entries if matches(args.match, e)]

    def enough(entries: list[dict[str, Any]]) -> bool:
        found = matching(entries)
        return bool(found) and (args.count is None or len(found) == args.count)

    ok, entries = await poll(log, enough, args.timeout)
    found = matching(entries)
    if not ok:
        raise StepFailed(
            f"expected {args.count or 'some'} matching callback(s), found {len(found)}",
            [f"  {compact(e, 160)}" for e in entries[-8:]] or ["  no callbacks were sent"],
        )
    return StepOutcome({"callbacks": found, "count": len(found)}, f"{len(found)} matching callback(s)")


@step("xendit", "fire_webhook", FireWebhook)
async def fire_webhook(ctx: RunContext, actor: Actor | None, args: FireWebhook) -> StepOutcome:
    """POST a Xendit callback to the target's webhook, as ``halo-sim xendit fire-webhook`` does.

    The body is Xendit's for ``status``, with ``fields`` overriding (or adding) any field and
    ``drop`` removing some; ``raw`` sends that text as the body instead (malformed JSON, say).
    The target's callback token goes along unless ``token`` (a wrong one) or ``omit_token``.

    Result: `{status, body, headers}` of the backend's answer (a refusal's `body.error` is its code).
    """
    token = args.token if args.token is not None else ctx.target.xendit_callback_token
    if token is None and not args.omit_token:
        raise CapabilityMissing(f"target {ctx.target.name!r} has no Xendit callback token; give token: in the step")
    headers = {"content-type": "application/json"} | ({} if args.omit_token else {TOKEN_HEADER: token or ""})
    route = ctx.target.routes["xendit.webhook"]
    content = args.raw if args.raw is not None else json.dumps(_callback(args), default=str)
    result = await _send(ctx, route.method, ctx.target.base_url + route.path, content, headers)
    what = "raw body" if args.raw is not None else args.status
    return StepOutcome(result, f"{what} → {result['status']} {compact(result['body'], 160)}", http=True)


def _callback(args: FireWebhook) -> dict[str, Any]:
    """Xendit's callback for the step's facts, then its ``fields`` and ``drop`` applied."""
    external_id = args.external_id or ""  # present: checked when the step was loaded
    body = standalone_callback(
        args.invoice_id or f"fake-{external_id}", external_id, args.status, args.amount, time.time()
    )
    body.update(args.fields)
    return {k: v for k, v in body.items() if k not in args.drop}


async def _send(ctx: RunContext, method: str, url: str, content: str, headers: dict[str, str]) -> Result:
    """The request as given, byte for byte (``ctx.request`` sends JSON values only), recorded in the transcript."""
    response = await ctx.http.request(method, url, content=content.encode(), headers=headers)
    try:
        parsed: Any = response.json()
    except ValueError:
        parsed = response.text
    ctx.transcript.add("http", method=method, url=url, request=content, status=response.status_code, response=parsed)
    return {"status": response.status_code, "body": parsed, "headers": dict(response.headers)}
