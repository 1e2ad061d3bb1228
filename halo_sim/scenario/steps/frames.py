"""WebSocket frames: wait for one, make sure one does not come, or send one."""

from __future__ import annotations

from typing import Any

from halo_sim.scenario.actor import Actor
from halo_sim.scenario.context import RunContext, compact
from halo_sim.scenario.expect import diff
from halo_sim.scenario.steps import Args, StepOutcome, step
from simkit.errors import StepFailed


class ExpectFrame(Args):
    type: str | None = None
    match: dict[str, Any] | None = None
    timeout: float = 3.0


class ExpectNoFrame(Args):
    type: str | None = None
    match: dict[str, Any] | None = None
    within: float = 0.2


class SendFrame(Args):
    frame: dict[str, Any]
    reply: str | None = None
    timeout: float = 3.0


def _needs_socket(actor: Actor) -> None:
    if actor.ws is None:
        raise StepFailed(f"{actor.name}'s app is not in the foreground (no socket); add {actor.name}.foreground first")


@step("actor", "expect_frame", ExpectFrame)
async def expect_frame(ctx: RunContext, actor: Actor | None, args: ExpectFrame) -> StepOutcome:
    """Wait for the next frame of ``type`` containing ``match``; earlier other frames are skipped."""
    assert actor is not None
    _needs_socket(actor)
    frame = await actor.wait_frame(args.type, args.match, args.timeout)
    if frame is None:
        raise StepFailed(
            f"no {args.type or 'matching'} frame for {actor.name} within {args.timeout} s",
            _near_misses(actor, args.type, args.match),
        )
    return StepOutcome({"frame": frame}, compact(frame))


def _near_misses(actor: Actor, kind: str | None, match: dict[str, Any] | None) -> list[str]:
    seen = actor.unconsumed()
    if not seen:
        return ["  no unconsumed frames arrived"]
    lines = [f"  frames received and not yet matched ({len(seen)}):"]
    for frame in seen[-8:]:
        why = diff({"type": kind, **(match or {})} if kind else (match or {}), frame)
        lines.append(f"    {compact(frame, 160)}")
        lines += [f"      ✗ {p}" for p in why[:3]]
    return lines


@step("actor", "expect_no_frame", ExpectNoFrame)
async def expect_no_frame(ctx: RunContext, actor: Actor | None, args: ExpectNoFrame) -> StepOutcome:
    """Nothing of ``type`` (containing ``match``) arrives within ``within`` seconds."""
    assert actor is not None
    frame = await actor.wait_frame(args.type, args.match, args.within)
    if frame is not None:
        raise StepFailed(
            f"{actor.name} received a {args.type or 'matching'} frame it should not have", [f"  {compact(frame)}"]
        )
    return StepOutcome({}, f"no {args.type or 'matching'} frame in {args.within} s")


@step("actor", "send_frame", SendFrame)
async def send_frame(ctx: RunContext, actor: Actor | None, args: SendFrame) -> StepOutcome:
    """Send a raw client frame; with ``reply``, wait for the answer frame of that type."""
    assert actor is not None
    _needs_socket(actor)
    await actor.send_frame(args.frame)
    ctx.transcript.add("ws_send", actor=actor.name, frame=args.frame)
    if args.reply is None:
        return StepOutcome({}, compact(args.frame))
    reply = await _reply(actor, args)
    return StepOutcome({"frame": reply}, compact(reply))


async def _reply(actor: Actor, args: SendFrame) -> dict[str, Any]:
    frame = await actor.wait_frame(args.reply, None, args.timeout)
    if frame is None:
        raise StepFailed(
            f"no {args.reply} reply for {actor.name} within {args.timeout} s", _near_misses(actor, args.reply, None)
        )
    return frame
