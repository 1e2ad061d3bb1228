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
from halo_sim.scenario.steps.counted import Counted
from halo_sim.scenario.timeline import Sighting, listing
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


class ExpectCallback(Counted):
    match: dict[str, Any] | None = None


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
    """The customer pays on the checkout page; the fake sends the PAID callback.

    Result: `{status, body, headers}` of the fake's answer (`body` is the invoice).
    """
    body = args.model_dump(exclude={"invoice_id"}, exclude_none=True)
    return await _fake(ctx, "POST", f"/_fake/invoices/{args.invoice_id}/pay", body)


@step("xendit", "expire", InvoiceArg, capability="xendit_fake")
async def expire(ctx: RunContext, actor: Actor | None, args: InvoiceArg) -> StepOutcome:
    """The invoice expires now; the fake sends the EXPIRED callback.

    Result: `{status, body, headers}` of the fake's answer (`body` is the invoice).
    """
    return await _fake(ctx, "POST", f"/_fake/invoices/{args.invoice_id}/expire")


@step("xendit", "faults", FaultArgs, capability="xendit_fake")
async def faults(ctx: RunContext, actor: Actor | None, args: FaultArgs) -> StepOutcome:
    """Make callback delivery misbehave (duplicate, reorder, drop, delay) or the API fail.

    Result: `{status, body, headers}` of the fake's answer (`body` is the faults now in force).
    """
    return await _fake(ctx, "POST", "/_fake/faults", args.model_dump(exclude_none=True))


@step("xendit", "flush", Args, capability="xendit_fake")
async def flush(ctx: RunContext, actor: Actor | None, args: Args) -> StepOutcome:
    """Deliver the callbacks held by the ``reorder`` fault (newest first).

    Result: `{status, body, headers}` of the fake's answer.
    """
    return await _fake(ctx, "POST", "/_fake/callbacks/flush")


@step("xendit", "expect_callback", ExpectCallback, capability="xendit_fake")
async def expect_callback(ctx: RunContext, actor: Actor | None, args: ExpectCallback) -> StepOutcome:
    """The fake's delivery log (one entry per attempt) has entries containing ``match``, in log order.

    Without ``count``: once there is one, all of them; ``count: N``: exactly N (waiting up to
    ``timeout`` for the log to reach N); ``count: 0``: none is there or comes ``within`` seconds.
    Result: {callbacks: [log entries, oldest first], count}
    """
    if args.count == 0:
        return await _no_callback(ctx, args)
    ok, entries = await poll(lambda: _callback_log(ctx), lambda log: _enough(args, log), args.wait_s())
    found = _matching(args.match, entries)
    if not ok:
        raise StepFailed(
            f"expected {args.count or 'some'} matching callback(s), found {len(found)} within {args.wait_s()} s",
            _callback_listing(ctx, entries, args.match),
        )
    return StepOutcome({"callbacks": found, "count": len(found)}, f"{len(found)} matching callback(s)")


async def _callback_log(ctx: RunContext) -> list[dict[str, Any]]:
    """The fake's delivery log, each entry stamped the first time a poll shows it (the log only grows)."""
    entries = list((await ctx.request("GET", f"{ctx.target.xendit_url}/_fake/callbacks"))["body"]["log"])
    for index, _ in enumerate(entries):
        ctx.sightings.stamp(f"callback:{index}")
    return entries


def _matching(match: dict[str, Any] | None, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in entries if matches(match, e)]


def _enough(args: ExpectCallback, entries: list[dict[str, Any]]) -> bool:
    found = _matching(args.match, entries)
    return bool(found) and (args.count is None or len(found) == args.count)


async def _no_callback(ctx: RunContext, args: ExpectCallback) -> StepOutcome:
    came, entries = await poll(lambda: _callback_log(ctx), lambda log: bool(_matching(args.match, log)), args.window())
    if came:
        found = [(i, e) for i, e in enumerate(entries) if matches(args.match, e)]
        zero = ctx.transcript.started
        raise StepFailed(
            f"{len(found)} matching callback(s) sent where none should be",
            [f"  +{ctx.sightings.stamp(f'callback:{i}') - zero:.3f} s  {compact(e, 160)}" for i, e in found],
        )
    return StepOutcome({"callbacks": [], "count": 0}, f"no matching callback in {args.window()} s")


def _callback_listing(ctx: RunContext, entries: list[dict[str, Any]], match: dict[str, Any] | None) -> list[str]:
    """Every logged attempt, with when the harness first saw it and why it is not a matching one."""
    zero = ctx.transcript.started
    seen = [Sighting(ctx.sightings.stamp(f"callback:{i}") - zero, None, e, e) for i, e in enumerate(entries)]
    return listing("callbacks", seen, [("", match)] if match else [])


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
    sent = ctx.transcript.since(time.perf_counter())
    response = await ctx.http.request(method, url, content=content.encode(), headers=headers)
    try:
        parsed: Any = response.json()
    except ValueError:
        parsed = response.text
    status = response.status_code
    ctx.transcript.add("http", method=method, url=url, request=content, status=status, response=parsed, sent=sent)
    return {"status": status, "body": parsed, "headers": dict(response.headers)}
