"""``parallel``: several steps at the same instant — the accept race, double taps.

The branches run concurrently over the wire and are judged together: the
step's result lists each branch's result in order and counts the HTTP statuses,
so a race whose winner is unknown is still checkable::

    - parallel:
        steps:
          - mitra_a.accept_offer: {session_id: "{{ session_id }}"}
          - mitra_b.accept_offer: {session_id: "{{ session_id }}"}
      expect: {status_counts: {"200": 1, "409": 1}}
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from pydantic import Field

from halo_sim.scenario.actor import Actor
from halo_sim.scenario.context import RunContext
from halo_sim.scenario.schema import Step
from halo_sim.scenario.steps import Args, StepOutcome, step


class ParallelArgs(Args):
    steps: list[Step] = Field(min_length=2)


@step("parallel", "", ParallelArgs)
async def parallel(ctx: RunContext, actor: Actor | None, args: ParallelArgs) -> StepOutcome:
    """Run every branch at once; the result has ``results`` (in order) and ``status_counts``."""
    from halo_sim.scenario.runner import perform  # the runner imports the plugins: import it late

    outcomes = await asyncio.gather(*(perform(ctx, branch) for branch in args.steps))
    results: list[dict[str, Any]] = [o.result for o in outcomes]
    counts = Counter(str(r["status"]) for r in results if "status" in r)
    summary = ", ".join(f"{n}× {status}" for status, n in sorted(counts.items())) or f"{len(results)} branches"
    return StepOutcome({"results": results, "status_counts": dict(counts)}, summary)
