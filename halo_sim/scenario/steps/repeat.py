"""``repeat``: the same steps N times, optionally ``every`` S seconds of the target's virtual clock.

Nine heartbeats 30 s apart, five wrong OTP codes: written once instead of
copied.  Each iteration runs its steps in order, each judged like a step of its
own (``expect``, ``save``), with the iteration's index as ``{{ i }}`` (0, 1, …)::

    - repeat:
        times: 9
        every: 30            # virtual seconds between iterations
        steps:
          - mitra.heartbeat:
            expect: {body: {is_online: true}}

``every`` advances the target's virtual clock (``test.advance_clock``) between
iterations — never before the first nor after the last, so nine iterations
span 240 s.  It never sleeps wall-clock time: a target without a virtual clock
skips the scenario with the reason (timers that need real minutes are not
testable there).  Without ``every`` the iterations follow each other at once.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from halo_sim.scenario.actor import Actor
from halo_sim.scenario.context import RunContext
from halo_sim.scenario.schema import Step
from halo_sim.scenario.steps import Args, StepOutcome, step
from simkit.errors import CapabilityMissing, ScenarioError, StepFailed

INDEX = "i"  # the template variable holding the iteration's index
Result = dict[str, Any]


class RepeatArgs(Args):
    times: int = Field(ge=1, le=10_000)
    every: float | None = Field(default=None, gt=0)
    steps: list[Step] = Field(min_length=1)


@step("repeat", "", RepeatArgs)
async def repeat(ctx: RunContext, actor: Actor | None, args: RepeatArgs) -> StepOutcome:
    """Run ``steps`` ``times`` times, advancing the virtual clock by ``every`` seconds between iterations.

    ``results`` has one list per iteration (its steps' results in order), ``count`` the
    iterations run, ``last`` the result of the last step of the last iteration.

    Result: {results, count, last}
    """
    if args.every is not None:
        ctx.require("virtual_clock")
    outer = ctx.variables.get(INDEX, _UNSET)
    results: list[list[Result]] = []
    try:
        for index in range(args.times):
            if index and args.every is not None:
                await _advance(ctx, args.every)
            ctx.variables[INDEX] = index
            results.append(await _iteration(ctx, args.steps, index))
    finally:
        _restore(ctx, outer)
    clock = f", clock +{args.every * (args.times - 1):g} s" if args.every else ""
    summary = f"{args.times} × {len(args.steps)} step(s){clock}"
    return StepOutcome({"results": results, "count": len(results), "last": results[-1][-1]}, summary)


_UNSET = object()


def _restore(ctx: RunContext, outer: Any) -> None:
    """A nested ``repeat`` gives the outer one its ``{{ i }}`` back."""
    if outer is _UNSET:
        ctx.variables.pop(INDEX, None)
    else:
        ctx.variables[INDEX] = outer


async def _iteration(ctx: RunContext, steps: list[Step], index: int) -> list[Result]:
    from halo_sim.scenario.runner import run_step  # the runner imports the plugins: import it late

    ctx.transcript.add("note", text=f"repeat: iteration i={index}")
    results = []
    for number, inner in enumerate(steps):
        where = f"iteration i={index}, step {number + 1} ({inner.title()})"
        try:
            results.append((await run_step(ctx, inner)).result)
        except CapabilityMissing:
            raise
        except StepFailed as exc:
            raise StepFailed(f"{where}: {exc.args[0]}", exc.diff) from None
        except ScenarioError as exc:
            raise ScenarioError(f"{where}: {exc}") from None
    return results


async def _advance(ctx: RunContext, seconds: float) -> None:
    result = await ctx.call("test.advance_clock", {"seconds": seconds})
    if result["status"] != 200:
        raise StepFailed(f"advancing the clock by {seconds:g} s answered HTTP {result['status']}")
