"""WebSocket frames: wait for one, several, or a number of them, make sure none comes, or send one.

Waits consume only the frames they match (see :mod:`~halo_sim.scenario.actor`): a frame that
arrived first but is awaited later is still there for its wait.  ``expect_no_frame`` (and
``count: 0``) fails on any *unconsumed* matching frame, whether it arrived before the step or
during its ``within`` window: a frame no wait took is one the scenario has not accounted for.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import Field

from halo_sim.scenario.actor import Actor, Pattern
from halo_sim.scenario.context import RunContext, compact
from halo_sim.scenario.steps import Args, StepOutcome, step
from halo_sim.scenario.steps.counted import WITHIN_S, Counted
from halo_sim.scenario.timeline import Labelled, Sighting, listing
from simkit.errors import StepFailed


class FramePattern(Args):
    type: str | None = None
    match: dict[str, Any] | None = None

    def pattern(self) -> Pattern:
        return Pattern(self.type, self.match)


class ExpectFrame(FramePattern, Counted):
    """One pattern; by default its oldest frame, with ``count`` that many (or none)."""


class ExpectFrames(Args):
    frames: list[FramePattern] = Field(min_length=1)
    timeout: float = Field(3.0, gt=0)


class ExpectNoFrame(FramePattern):
    within: float = Field(WITHIN_S, ge=0)


class SendFrame(Args):
    frame: dict[str, Any]
    reply: str | None = None
    timeout: float = Field(3.0, gt=0)


def _needs_socket(actor: Actor) -> None:
    if actor.ws is None:
        raise StepFailed(f"{actor.name}'s app is not in the foreground (no socket); add {actor.name}.foreground first")


@step("actor", "expect_frame", ExpectFrame)
async def expect_frame(ctx: RunContext, actor: Actor | None, args: ExpectFrame) -> StepOutcome:
    """Wait for the oldest unconsumed frame of ``type`` containing ``match`` and consume it (only it).

    ``count: N`` waits for N such frames; ``count: 0`` means none is pending or arrives ``within`` s.
    Result: {frame} — with count: {frames}
    """
    assert actor is not None
    if args.count == 0:
        return await _none_within(ctx, actor, args.pattern(), args.window())
    _needs_socket(actor)
    frames = await actor.wait_count(args.pattern(), args.count or 1, args.wait_s())
    if not frames:
        raise _too_few(ctx, actor, args)
    if args.count is None:
        return StepOutcome({"frame": frames[0]}, compact(frames[0]))
    return StepOutcome({"frames": frames}, f"{len(frames)} frame(s): {compact([f.get('type') for f in frames])}")


def _too_few(ctx: RunContext, actor: Actor, args: ExpectFrame) -> StepFailed:
    kind, found = args.type or "matching", len(actor.pending(args.pattern()))
    head = f"{found} of {args.count} {kind} frames" if args.count is not None else f"no {kind} frame"
    return StepFailed(
        f"{head} for {actor.name} within {args.wait_s()} s", _near_misses(ctx, actor, [("", args.pattern().expected())])
    )


@step("actor", "expect_frames", ExpectFrames)
async def expect_frames(ctx: RunContext, actor: Actor | None, args: ExpectFrames) -> StepOutcome:
    """Wait for one distinct unconsumed frame per pattern, arriving in any order, and consume them.

    Result: {frames: [in the order of the patterns], arrived: [the same frames in arrival order]}
    """
    assert actor is not None
    _needs_socket(actor)
    patterns = [p.pattern() for p in args.frames]
    frames = await actor.wait_any_order(patterns, args.timeout)
    if frames is None:
        unmet = [i for i, p in enumerate(patterns) if not actor.pending(p)]
        raise StepFailed(
            _unmet_summary(actor, patterns, unmet, args.timeout), _near_misses(ctx, actor, _labelled(patterns, unmet))
        )
    arrived = [f for f in actor.frames if any(f is g for g in frames)]
    return StepOutcome({"frames": frames, "arrived": arrived}, compact([f.get("type") for f in arrived]))


def _unmet_summary(actor: Actor, patterns: list[Pattern], unmet: list[int], timeout: float) -> str:
    if not unmet:
        return f"too few frames for {actor.name} within {timeout} s: {len(patterns)} patterns compete for them"
    which = ", ".join(f"#{i} {compact(patterns[i].expected(), 80)}" for i in unmet)
    return f"{len(unmet)} of {len(patterns)} frames never came for {actor.name} within {timeout} s: {which}"


def _labelled(patterns: list[Pattern], unmet: list[int]) -> list[Labelled]:
    """The patterns a near miss is judged against: those nothing fits (all when each has a candidate)."""
    return [(f"#{i} ", patterns[i].expected()) for i in (unmet or range(len(patterns)))]


def _near_misses(ctx: RunContext, actor: Actor, patterns: list[Labelled]) -> list[str]:
    """Every frame the actor received, with its time, whether a wait took it, and why it is not the one."""
    zero = ctx.transcript.started
    seen = [
        Sighting(at - zero, index in actor.consumed, frame, frame)
        for index, (frame, at) in enumerate(zip(actor.frames, actor.arrived_at, strict=True))
    ]
    return listing(f"frames for {actor.name}", seen, patterns)


@step("actor", "expect_no_frame", ExpectNoFrame)
async def expect_no_frame(ctx: RunContext, actor: Actor | None, args: ExpectNoFrame) -> StepOutcome:
    """No unconsumed frame of ``type`` containing ``match`` is pending or arrives within ``within`` seconds.

    Result: {frames: []}
    """
    assert actor is not None
    return await _none_within(ctx, actor, args.pattern(), args.within)


async def _none_within(ctx: RunContext, actor: Actor, pattern: Pattern, within: float) -> StepOutcome:
    began = time.perf_counter()
    frame = await actor.first_arrival(pattern, within)
    if frame is not None:
        index = next(i for i, f in enumerate(actor.frames) if f is frame)
        arrived = actor.arrived_at[index]
        when = "before this step, and no wait consumed it" if arrived < began else "during the window"
        raise StepFailed(
            f"{actor.name} received a {pattern.type or 'matching'} frame it should not have",
            [f"  +{arrived - ctx.transcript.started:.3f} s ({when})  {compact(frame)}"],
        )
    return StepOutcome({"frames": []}, f"no {pattern.type or 'matching'} frame in {within} s")


@step("actor", "send_frame", SendFrame)
async def send_frame(ctx: RunContext, actor: Actor | None, args: SendFrame) -> StepOutcome:
    """Send a raw client frame; with ``reply``, wait for the answer frame of that type (consumed).

    Result: {frame: the reply} — without reply: {}
    """
    assert actor is not None
    _needs_socket(actor)
    await actor.send_frame(args.frame)
    ctx.transcript.add("ws_send", actor=actor.name, frame=args.frame)
    if args.reply is None:
        return StepOutcome({}, compact(args.frame))
    reply = await _reply(ctx, actor, args)
    return StepOutcome({"frame": reply}, compact(reply))


async def _reply(ctx: RunContext, actor: Actor, args: SendFrame) -> dict[str, Any]:
    frame = await actor.wait_frame(args.reply, None, args.timeout)
    if frame is None:
        raise StepFailed(
            f"no {args.reply} reply for {actor.name} within {args.timeout} s",
            _near_misses(ctx, actor, [("", Pattern(args.reply).expected())]),
        )
    return frame
