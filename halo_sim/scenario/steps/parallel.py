"""``parallel``: several steps at the same instant — the accept race, double taps.

The branches run concurrently over the wire and are judged together: the
step's result lists each branch's result in order and counts the HTTP statuses,
so a race whose winner is unknown is still checkable.  It also names the
winner — the first branch (in order) whose result contains ``winner`` (default:
a 2xx status) — so the scenario can continue as whoever won::

    - parallel:
        steps:
          - mitra_a.accept_offer: {session_id: "{{ session_id }}"}
          - mitra_b.accept_offer: {session_id: "{{ session_id }}"}
      expect: {status_counts: {"200": 1, "409": 1}}
      save: {winner: winner_actor, loser: loser_actors.0}
    - "{{ winner }}.send_message": {session_id: "{{ session_id }}", text: halo}
    - "{{ loser }}.expect_frame": {type: offer_taken}
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from pydantic import Field

from halo_sim.scenario.actor import Actor
from halo_sim.scenario.context import RunContext
from halo_sim.scenario.expect import matches
from halo_sim.scenario.schema import Step
from halo_sim.scenario.steps import Args, StepOutcome, step

Result = dict[str, Any]


class ParallelArgs(Args):
    steps: list[Step] = Field(min_length=2)
    winner: dict[str, Any] | None = None  # what the winning branch's result contains (default: a 2xx status)


@step("parallel", "", ParallelArgs)
async def parallel(ctx: RunContext, actor: Actor | None, args: ParallelArgs) -> StepOutcome:
    """Run every branch at once; judge them together and name the first branch that won.

    ``winner`` is that branch's index (None when none won), ``won`` its result, ``winner_actor``
    the actor it ran as; ``lost`` and ``loser_actors`` are the other branches' (actor-less ones
    have no actor).

    Result: {results, status_counts, winner, won, winner_actor, lost, loser_actors}
    """
    from halo_sim.scenario.resolve import bind_actor  # resolve and the runner import the plugins: import late
    from halo_sim.scenario.runner import perform

    branches = [bind_actor(b, ctx.template_vars(), ctx.scenario, ctx.target.routes) for b in args.steps]
    outcomes = await asyncio.gather(*(perform(ctx, branch) for branch in branches))
    results: list[Result] = [o.result for o in outcomes]
    counts = Counter(str(r["status"]) for r in results if "status" in r)
    won = next((i for i, r in enumerate(results) if _won(r, args.winner)), None)
    summary = ", ".join(f"{n}× {status}" for status, n in sorted(counts.items())) or f"{len(results)} branches"
    actors = [b.who if b.who in ctx.actors else None for b in branches]
    summary += f"; won by {actors[won] or f'branch {won}'}" if won is not None else "; no branch won"
    return StepOutcome({"results": results, "status_counts": dict(counts), **_verdict(won, results, actors)}, summary)


def _won(result: Result, winner: dict[str, Any] | None) -> bool:
    if winner is not None:
        return matches(winner, result)
    status = result.get("status")
    return isinstance(status, int) and 200 <= status < 300


def _verdict(won: int | None, results: list[Result], actors: list[str | None]) -> Result:
    """Who won the race and who lost it, for ``save`` and ``expect``."""
    others = [i for i in range(len(results)) if i != won]
    return {
        "winner": won,
        "won": results[won] if won is not None else None,
        "winner_actor": actors[won] if won is not None else None,
        "lost": [results[i] for i in others],
        "loser_actors": [actors[i] for i in others if actors[i] is not None],
    }
