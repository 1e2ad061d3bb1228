"""``<actor>.login``: the onboarding each role goes through, as one step.

Customers verify by OTP (the code read back through the test surface) or log
in anonymously and pick a display name; mitras are created by the admin
(``seed-mitra``, where the target can) and log in with a password.  Each part
is a route-table action, so a live target's paths apply here too.
"""

from __future__ import annotations

from halo_sim.scenario.actor import Actor
from halo_sim.scenario.context import Result, RunContext, compact
from halo_sim.scenario.steps import Args, StepOutcome, step
from simkit.errors import StepFailed


def _ok(action: str, result: Result) -> Result:
    if result["status"] >= 400:
        raise StepFailed(f"{action} answered {result['status']}", [f"  {compact(result['body'])}"])
    return result


async def _verified(ctx: RunContext, actor: Actor) -> Result:
    _ok("request_otp", await ctx.call("customer.request_otp", {"phone": actor.phone}))
    code = _ok("test.otp", await ctx.call("test.otp", {"phone": actor.phone}))["body"]["code"]
    result = _ok("verify_otp", await ctx.call("customer.verify_otp", {"phone": actor.phone, "code": code}))
    actor.token, actor.id = result["body"]["token"], result["body"]["customer"]["id"]
    return result


async def _anonymous(ctx: RunContext, actor: Actor) -> Result:
    result = _ok("login_anonymous", await ctx.call("customer.login_anonymous", {}))
    actor.token, actor.id = result["body"]["token"], result["body"]["customer"]["id"]
    _ok("set_display_name", await ctx.call("customer.set_display_name", {"display_name": actor.display_name}, actor))
    return result


async def _mitra(ctx: RunContext, actor: Actor) -> Result:
    if ctx.target.has("seed_mitra"):
        _ok(
            "seed_mitra",
            await ctx.call(
                "test.seed_mitra",
                {"phone": actor.phone, "display_name": actor.display_name, "password": actor.password},
            ),
        )
    result = _ok("mitra.login", await ctx.call("mitra.login", {"phone": actor.phone, "password": actor.password}))
    actor.token, actor.id = result["body"]["token"], result["body"]["mitra"]["id"]
    actor.display_name = result["body"]["mitra"]["display_name"]  # a live target's test mitra has its own name
    return result


FLOWS = {"verified": _verified, "anonymous": _anonymous, "password": _mitra}


@step("actor", "login")
async def login(ctx: RunContext, actor: Actor | None, args: Args) -> StepOutcome:
    """Log the actor in the way its spec says (``login: verified|anonymous|password``).

    Result: `{status, body, headers}` of the login answer (the actor's `token` and `id` are kept).
    """
    assert actor is not None
    flow = FLOWS.get(str(actor.spec.login))
    if flow is None:
        raise StepFailed(f"{actor.name} has login: none; nothing to do")
    result = await flow(ctx, actor)
    return StepOutcome(result, f"{actor.name} logged in as {actor.role} {actor.id}", http=True)
