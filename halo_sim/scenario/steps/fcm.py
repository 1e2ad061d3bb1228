"""Push expectations, read from the fake FCM's inbox over its control plane."""

from __future__ import annotations

from typing import Any

from halo_sim.scenario.actor import Actor
from halo_sim.scenario.context import RunContext, compact
from halo_sim.scenario.expect import matches
from halo_sim.scenario.polling import poll
from halo_sim.scenario.steps import Args, StepOutcome, step
from simkit.errors import StepFailed


class ExpectPush(Args):
    token: str
    match: dict[str, Any] | None = None
    timeout: float = 3.0


class ExpectNoPush(Args):
    token: str
    match: dict[str, Any] | None = None


class TokenArg(Args):
    token: str


async def _inbox(ctx: RunContext, token: str) -> list[dict[str, Any]]:
    result = await ctx.request("GET", f"{ctx.target.fcm_url}/_fake/inbox", query={"token": token})
    if result["status"] != 200:
        raise StepFailed(f"fake FCM inbox answered {result['status']}", [f"  {compact(result['body'])}"])
    return list(result["body"]["messages"])


def _matching(inbox: list[dict[str, Any]], match: dict[str, Any] | None) -> list[dict[str, Any]]:
    return [entry for entry in inbox if matches(match, entry["message"])]


@step("fcm", "expect_push", ExpectPush, capability="fcm_inbox")
async def expect_push(ctx: RunContext, actor: Actor | None, args: ExpectPush) -> StepOutcome:
    """A push to ``token`` whose message contains ``match`` is in the inbox (waiting up to ``timeout``)."""
    arrived, inbox = await poll(
        lambda: _inbox(ctx, args.token), lambda box: bool(_matching(box, args.match)), args.timeout
    )
    if not arrived:
        seen = [f"  {compact(e['message'], 160)}" for e in inbox] or ["  the inbox of this token is empty"]
        raise StepFailed(f"no matching push to {args.token} within {args.timeout} s", seen)
    found = _matching(inbox, args.match)
    return StepOutcome({"push": found[-1], "count": len(found)}, compact(found[-1]["message"]))


@step("fcm", "expect_no_push", ExpectNoPush, capability="fcm_inbox")
async def expect_no_push(ctx: RunContext, actor: Actor | None, args: ExpectNoPush) -> StepOutcome:
    """No push to ``token`` (containing ``match``) is in the inbox."""
    found = _matching(await _inbox(ctx, args.token), args.match)
    if found:
        raise StepFailed(
            f"{len(found)} push(es) to {args.token} that should not exist",
            [f"  {compact(e['message'], 160)}" for e in found],
        )
    return StepOutcome({"count": 0}, "inbox has none")


@step("fcm", "unregister", TokenArg, capability="fcm_inbox")
async def unregister(ctx: RunContext, actor: Actor | None, args: TokenArg) -> StepOutcome:
    """Make FCM answer UNREGISTERED for ``token`` (the app was uninstalled)."""
    result = await ctx.request("POST", f"{ctx.target.fcm_url}/_fake/tokens/{args.token}/unregister")
    return StepOutcome(result, f"{args.token} unregistered", http=True)
