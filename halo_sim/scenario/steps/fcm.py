"""Push expectations, read from the fake FCM's inbox over its control plane.

The inbox of a token only grows, so the run remembers which pushes waits consumed
(:class:`~halo_sim.scenario.sightings.Sightings`): ``expect_push`` takes the oldest push
no earlier wait took, and the next ``expect_push`` waits for the next one, as frame waits
do.  ``expect_pushes`` gives them as a list in inbox (arrival) order, so a scenario can say
which came first; ``expect_no_push`` and ``count: 0`` fail on any push no wait took.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from halo_sim.scenario.actor import Actor
from halo_sim.scenario.context import RunContext, compact
from halo_sim.scenario.expect import matches
from halo_sim.scenario.polling import poll
from halo_sim.scenario.steps import Args, StepOutcome, step
from halo_sim.scenario.steps.counted import Counted
from halo_sim.scenario.timeline import Sighting, listing
from simkit.errors import StepFailed

Entry = dict[str, Any]


class ExpectPush(Args):
    token: str
    match: dict[str, Any] | None = None
    timeout: float = Field(3.0, gt=0)


class ExpectPushes(Counted):
    token: str
    match: dict[str, Any] | None = None


class ExpectNoPush(Args):
    token: str
    match: dict[str, Any] | None = None


class TokenArg(Args):
    token: str


async def _inbox(ctx: RunContext, token: str) -> list[Entry]:
    """The token's inbox, oldest first; each push is stamped the first time a poll shows it."""
    result = await ctx.request("GET", f"{ctx.target.fcm_url}/_fake/inbox", query={"token": token})
    if result["status"] != 200:
        raise StepFailed(f"fake FCM inbox answered {result['status']}", [f"  {compact(result['body'])}"])
    entries = list(result["body"]["messages"])
    for entry in entries:
        ctx.sightings.stamp(_key(entry))
    return entries


def _key(entry: Entry) -> str:
    return f"push:{entry['name']}"


def _pending(ctx: RunContext, inbox: list[Entry], match: dict[str, Any] | None) -> list[Entry]:
    """The pushes no wait consumed whose message contains ``match``, in inbox order."""
    taken = ctx.sightings.consumed_pushes
    return [e for e in inbox if e["name"] not in taken and matches(match, e["message"])]


def _consume(ctx: RunContext, entries: list[Entry]) -> list[Entry]:
    ctx.sightings.consumed_pushes.update(e["name"] for e in entries)
    return entries


def _near_misses(ctx: RunContext, inbox: list[Entry], match: dict[str, Any] | None, token: str) -> list[str]:
    """Every push to the token, with when the harness first saw it, whether a wait took it, and why it misses."""
    zero, taken = ctx.transcript.started, ctx.sightings.consumed_pushes
    seen = [
        Sighting(ctx.sightings.stamp(_key(e)) - zero, e["name"] in taken, e["message"], e["message"]) for e in inbox
    ]
    return listing(f"pushes to {token}", seen, [("", match)] if match else [])


@step("fcm", "expect_push", ExpectPush, capability="fcm_inbox")
async def expect_push(ctx: RunContext, actor: Actor | None, args: ExpectPush) -> StepOutcome:
    """Wait for the oldest push to ``token`` no earlier wait consumed whose message contains ``match``; consume it.

    Result: {push: the inbox entry (its message under message), count: matching pushes in the inbox, consumed ones too}
    """
    arrived, inbox = await poll(
        lambda: _inbox(ctx, args.token), lambda box: bool(_pending(ctx, box, args.match)), args.timeout
    )
    if not arrived:
        raise StepFailed(
            f"no matching push to {args.token} within {args.timeout} s",
            _near_misses(ctx, inbox, args.match, args.token),
        )
    push = _consume(ctx, _pending(ctx, inbox, args.match)[:1])[0]
    count = sum(1 for e in inbox if matches(args.match, e["message"]))
    return StepOutcome({"push": push, "count": count}, compact(push["message"]))


@step("fcm", "expect_pushes", ExpectPushes, capability="fcm_inbox")
async def expect_pushes(ctx: RunContext, actor: Actor | None, args: ExpectPushes) -> StepOutcome:
    """The unconsumed pushes to ``token`` whose message contains ``match``, in inbox order, consumed.

    Without ``count``: all of them, once there is one; ``count: N``: the oldest N, once N are there;
    ``count: 0``: none is there or comes ``within`` seconds.
    Result: {pushes: [inbox entries, oldest first]}
    """
    if args.count == 0:
        return await _no_push(ctx, args.token, args.match, args.window())
    wanted = args.count or 1
    arrived, inbox = await poll(
        lambda: _inbox(ctx, args.token), lambda box: len(_pending(ctx, box, args.match)) >= wanted, args.wait_s()
    )
    found = _pending(ctx, inbox, args.match)
    if not arrived:
        raise StepFailed(
            f"{len(found)} of {wanted} matching push(es) to {args.token} within {args.wait_s()} s",
            _near_misses(ctx, inbox, args.match, args.token),
        )
    pushes = _consume(ctx, found if args.count is None else found[:wanted])
    return StepOutcome({"pushes": pushes}, f"{len(pushes)} push(es): {compact([p['message'] for p in pushes], 200)}")


@step("fcm", "expect_no_push", ExpectNoPush, capability="fcm_inbox")
async def expect_no_push(ctx: RunContext, actor: Actor | None, args: ExpectNoPush) -> StepOutcome:
    """No push to ``token`` (containing ``match``) that no wait consumed is in the inbox now.

    Result: {count: 0}
    """
    return await _no_push(ctx, args.token, args.match, 0.0)


async def _no_push(ctx: RunContext, token: str, match: dict[str, Any] | None, within: float) -> StepOutcome:
    came, inbox = await poll(lambda: _inbox(ctx, token), lambda box: bool(_pending(ctx, box, match)), within)
    if came:
        found = _pending(ctx, inbox, match)
        zero = ctx.transcript.started
        raise StepFailed(
            f"{len(found)} push(es) to {token} that should not exist",
            [f"  +{ctx.sightings.stamp(_key(e)) - zero:.3f} s  {compact(e['message'], 160)}" for e in found],
        )
    return StepOutcome({"count": 0, "pushes": []}, f"no push in {within} s" if within else "inbox has none")


@step("fcm", "unregister", TokenArg, capability="fcm_inbox")
async def unregister(ctx: RunContext, actor: Actor | None, args: TokenArg) -> StepOutcome:
    """Make FCM answer UNREGISTERED for ``token`` (the app was uninstalled).

    Result: {status, body, headers} (the fake's answer)
    """
    result = await ctx.request("POST", f"{ctx.target.fcm_url}/_fake/tokens/{args.token}/unregister")
    return StepOutcome(result, f"{args.token} unregistered", http=True)
