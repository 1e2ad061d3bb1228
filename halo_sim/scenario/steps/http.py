"""The raw ``http`` step: anything the route table does not name, on the backend or on a fake.

``service`` picks whose API is addressed: the Halo backend (the default), fake
Xendit (its Invoice API and its ``/_fake`` control plane) or fake FCM (its v1
send API and its ``/_fake`` control plane).  The fakes' URLs come from the
target; a target without a fake's URL lacks that fake's capability, and the
step skips with the reason instead of guessing an address.
"""

from __future__ import annotations

import base64
from typing import Any, Literal

from halo_sim.scenario.actor import Actor
from halo_sim.scenario.context import RunContext, compact
from halo_sim.scenario.steps import Args, StepOutcome, step
from halo_sim.targets.base import Target
from simkit.errors import CapabilityMissing, ScenarioError

Service = Literal["backend", "xendit", "fcm"]
# The capability that says a fake is there (and that the target knows its URL).
FAKE_CAPABILITY: dict[Service, str] = {"xendit": "xendit_fake", "fcm": "fcm_inbox"}


class HttpArgs(Args):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    path: str
    service: Service = "backend"
    json_body: Any = None
    query: dict[str, Any] | None = None
    headers: dict[str, str] = {}
    as_actor: str | None = None
    test_token: bool = False
    xendit_key: bool = False


def base_url(ctx: RunContext, service: Service) -> str:
    """Where ``service`` answers on this target; a missing fake is a missing capability (a skip)."""
    if service == "backend":
        return ctx.target.base_url
    ctx.require(FAKE_CAPABILITY[service])
    url = ctx.target.xendit_url if service == "xendit" else ctx.target.fcm_url
    if not url:
        raise CapabilityMissing(f"target {ctx.target.name!r} has no {service}_url ({FAKE_CAPABILITY[service]})")
    return url.rstrip("/")


def xendit_basic(target: Target) -> dict[str, str]:
    """HTTP Basic with the target's Xendit secret key (username, empty password), as Xendit's API takes it."""
    if not target.xendit_secret_key:
        raise CapabilityMissing(f"target {target.name!r} has no Xendit secret key (xendit_secret_key_env)")
    encoded = base64.b64encode(f"{target.xendit_secret_key}:".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


@step("http", "", HttpArgs)
async def http(ctx: RunContext, actor: Actor | None, args: HttpArgs) -> StepOutcome:
    """One request to the backend, or to a fake with ``service``; as an actor, with the test token or Xendit key.

    Result: `{status, body, headers}` of the answer (`body` parsed as JSON when it is JSON, else the text).
    """
    headers = dict(args.headers)
    if args.as_actor:
        who = ctx.actors.get(args.as_actor)
        if who is None or who.token is None:
            raise ScenarioError(f"http as_actor {args.as_actor!r}: no such logged-in actor")
        headers["Authorization"] = f"Bearer {who.token}"
    if args.test_token:
        headers.update(ctx.target.test_headers())
    if args.xendit_key:
        headers.update(xendit_basic(ctx.target))
    url = base_url(ctx, args.service) + args.path
    result = await ctx.request(args.method, url, args.json_body, args.query, headers, args.as_actor)
    where = "" if args.service == "backend" else f"{args.service} "
    return StepOutcome(
        result, f"{args.method} {where}{args.path} → {result['status']} {compact(result['body'], 160)}", http=True
    )
