"""The raw ``http`` step: anything the route table does not name."""

from __future__ import annotations

from typing import Any, Literal

from halo_sim.scenario.actor import Actor
from halo_sim.scenario.context import RunContext, compact
from halo_sim.scenario.steps import Args, StepOutcome, step
from simkit.errors import ScenarioError


class HttpArgs(Args):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    path: str
    json_body: Any = None
    query: dict[str, Any] | None = None
    headers: dict[str, str] = {}
    as_actor: str | None = None
    test_token: bool = False


@step("http", "", HttpArgs)
async def http(ctx: RunContext, actor: Actor | None, args: HttpArgs) -> StepOutcome:
    """A request to the target's base URL, optionally as an actor or with the test token."""
    headers = dict(args.headers)
    if args.as_actor:
        who = ctx.actors.get(args.as_actor)
        if who is None or who.token is None:
            raise ScenarioError(f"http as_actor {args.as_actor!r}: no such logged-in actor")
        headers["Authorization"] = f"Bearer {who.token}"
    if args.test_token:
        headers.update(ctx.target.test_headers())
    url = ctx.target.base_url + args.path
    result = await ctx.request(args.method, url, args.json_body, args.query, headers, args.as_actor)
    return StepOutcome(
        result, f"{args.method} {args.path} → {result['status']} {compact(result['body'], 160)}", http=True
    )
