"""Running one scenario against one target.

The runner owns the order of things: reset the target, set the actors up
(login, device, online, foreground) as visible setup steps, run the steps,
then clean up (close sockets, delete the test phones) whatever happened.  Each
step is: render templates → validate arguments → perform → check ``expect`` →
``save`` variables.  A missing capability skips the scenario with the reason;
an unexpected exception is recorded as an error with its traceback, never lost.
"""

from __future__ import annotations

import contextlib
import random
import time
import traceback
import zlib
from typing import Any

import httpx
from pydantic import ValidationError

from halo_sim.scenario.actor import Actor
from halo_sim.scenario.context import RunContext, cast_faker, compact
from halo_sim.scenario.expect import diff, extract
from halo_sim.scenario.report import Reporter, ScenarioResult, SilentReporter, StepRecord
from halo_sim.scenario.resolve import bind_actor, dynamic_who, resolve
from halo_sim.scenario.schema import Scenario, Step
from halo_sim.scenario.settings import scenario_settings
from halo_sim.scenario.steps import StepOutcome
from halo_sim.scenario.template import render
from halo_sim.targets.base import Target
from simkit.errors import CapabilityMissing, ScenarioError, StepFailed
from simkit.tls import client_context

NESTING = ("parallel", "repeat")  # step types whose ``steps`` argument holds steps of their own


def default_seed(scenario: Scenario, target: Target | None = None) -> int:
    """The scenario's own seed, else a stable one from its id (so runs reproduce).

    On a live target the default is random instead: two testers (or two CI runs)
    on one staging backend must not create the same phones.  The seed is in the
    report, so ``--seed`` reproduces a failure exactly.
    """
    if scenario.seed is not None:
        return scenario.seed
    if target is not None and target.live:
        return random.SystemRandom().randrange(2**31)
    return zlib.crc32(scenario.id.encode())


async def run_scenario(
    scenario: Scenario, target: Target, reporter: Reporter | None = None, seed: int | None = None
) -> ScenarioResult:
    """Run ``scenario`` on ``target``; the result says passed, failed, skipped or error."""
    seed = default_seed(scenario, target) if seed is None else seed
    result = ScenarioResult(scenario.id, scenario.name, scenario.path, target.name, seed)
    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=10.0, verify=client_context()) as http:
        ctx = _context(scenario, target, http, seed)
        try:
            _cast(ctx)
            await target.before_scenario(http, seed)
            result.endpoints, result.virtual_start = _endpoints(target), await _virtual_now(ctx)
            async with scenario_settings(ctx, result):  # the scenario's backend settings, restored after
                await _run_phase(ctx, result, "setup", setup_steps(scenario), reporter)
                await _run_phase(ctx, result, "step", scenario.steps, reporter)
        except CapabilityMissing as exc:
            result.status, result.reason = "skipped", str(exc)
            await _down_instead(ctx, result)
        except _Stop:
            pass
        finally:
            await _cleanup(ctx, result)
            result.redact(ctx.secrets())
    result.seconds = round(time.perf_counter() - started, 4)
    return result


def _endpoints(target: Target) -> dict[str, str]:
    """Where the backend and the fakes answer: the HTML report tells the lanes of its diagram by them."""
    urls = {"backend": target.base_url, "xendit": target.xendit_url, "fcm": target.fcm_url}
    return {lane: url for lane, url in urls.items() if url}


async def _virtual_now(ctx: RunContext) -> float | None:
    """The virtual clock after the reset, read once and left out of the transcript (it is not a step's call).

    A virtual clock moves only when a step advances it, so this reading and the answers of
    ``test.advance_clock`` give the virtual time of every event of the run.
    """
    if not ctx.target.has("virtual_clock"):
        return None
    route = ctx.target.routes.get("test.advance_clock")
    if route is None:
        return None
    with contextlib.suppress(httpx.HTTPError, ValueError, TypeError, KeyError):  # no reading: wall times only
        answer = await ctx.http.get(ctx.target.base_url + route.path, headers=ctx.target.test_headers())
        return float(answer.json()["now"])
    return None


def down(target: Target, exc: BaseException) -> str:
    """A connection that failed, said as what it means: the target is down at this URL."""
    url = target.base_url
    if isinstance(exc, httpx.RequestError):
        with contextlib.suppress(RuntimeError):  # an exception raised outside a request has none
            url = str(exc.request.url.copy_with(path="/", query=None)).rstrip("/")
    elif isinstance(exc, ConnectionError):
        url = target.ws_url
    cause = "connection refused" if isinstance(exc, (httpx.ConnectError, ConnectionRefusedError)) else repr(exc)
    return f"target {target.name!r} is down or unreachable at {url} ({cause})"


async def _down_instead(ctx: RunContext, result: ScenarioResult) -> None:
    """A skip on a live target that does not answer at all is an error with that cause, not a missing feature."""
    if not ctx.target.live:
        return
    try:
        await ctx.http.get(ctx.target.base_url + "/health", timeout=3.0)
    except httpx.TransportError as exc:
        result.status, result.reason = "error", down(ctx.target, exc)


def _context(scenario: Scenario, target: Target, http: httpx.AsyncClient, seed: int) -> RunContext:
    return RunContext(scenario, target, http, seed, cast_faker(seed))


def _cast(ctx: RunContext) -> None:
    """Give each actor its phone, name and FCM token (seeded faker), or a test mitra of a live target."""
    pool = list(ctx.target.mitras) if not ctx.target.has("seed_mitra") else []
    for name, spec in ctx.scenario.actors.items():
        phone, password = spec.phone or f"+628{ctx.faker.numerify('##########')}", spec.password
        if spec.role == "mitra" and spec.login != "none" and not spec.phone and not ctx.target.has("seed_mitra"):
            if not pool:
                raise CapabilityMissing(
                    f"target {ctx.target.name!r} cannot create mitras (seed_mitra) and has "
                    f"too few test mitras for this scenario's mitra actors"
                )
            account = pool.pop(0)
            phone, password = account.phone, account.password
        display = spec.display_name or ctx.faker.first_name()
        token = (spec.device.fcm_token if spec.device and spec.device.fcm_token else None) or ctx.faker.sha1()
        ctx.actors[name] = Actor(name, spec, phone, display, token, password)


async def _tidy(ctx: RunContext, actor: Actor) -> None:
    """Leave a shared target as we found it: test phones deleted, test mitras offline."""
    if actor.role == "customer" and actor.spec.login == "verified" and ctx.target.has("test_endpoints"):
        await ctx.call("test.reset_phone", {"phone": actor.phone})
    if actor.role == "mitra" and actor.token and ctx.target.live:
        active = (await ctx.call("mitra.get_profile", {}, actor))["body"].get("active_session_id")
        if active:
            await ctx.call("mitra.end_session", {"session_id": active}, actor)
        await ctx.call("mitra.go_offline", {}, actor)


async def _clear_faults(ctx: RunContext) -> None:
    """Faults a scenario injected into a live target's fake Xendit end with it: the next run
    (another scenario, another tester) would otherwise get duplicated or dropped callbacks."""
    if not ctx.target.live or not any(s.action == "xendit.faults" for s in ctx.scenario.steps):
        return
    try:
        await ctx.http.delete(f"{ctx.target.xendit_url}/_fake/faults")
    except httpx.HTTPError as exc:
        ctx.transcript.add("note", text=f"clearing fake Xendit's faults failed: {exc!r}")


def setup_steps(scenario: Scenario) -> list[Step]:
    """The steps an actor's spec implies: login, device, online, foreground."""
    steps: list[Step] = []
    for name, spec in scenario.actors.items():
        if spec.login != "none":
            steps.append(Step(action=f"{name}.login"))
        if spec.device is not None:
            steps.append(
                Step(
                    action=f"{name}.register_device",
                    args={
                        "fcm_token": f"{{{{ {name}.fcm_token }}}}",
                        "platform": spec.device.platform,
                        "notifications_enabled": spec.device.notifications_enabled,
                    },
                )
            )
        if spec.online:
            steps.append(Step(action=f"{name}.go_online"))
        if spec.foreground:
            steps.append(Step(action=f"{name}.foreground"))
    return steps


class _Stop(Exception):
    """A step failed; the run stops (the record already says why)."""


async def _run_phase(
    ctx: RunContext, result: ScenarioResult, phase: Any, steps: list[Step], reporter: Reporter | None
) -> None:
    for index, step in enumerate(steps):
        began = time.perf_counter()
        record = StepRecord(index, phase, step.title(), step.line, "passed", started=ctx.transcript.since(began))
        try:
            outcome = await run_step(ctx, step)
            record.summary = outcome.summary
        except CapabilityMissing as exc:
            if step.required:  # the scenario says this check must run: a target without it fails
                record.status, record.summary = "failed", f"required step cannot run: {exc}"
            else:
                record.status, record.summary = "skipped", str(exc)
                raise
        except StepFailed as exc:
            record.status, record.summary, record.details = "failed", exc.args[0], exc.diff
        except ScenarioError as exc:
            record.status, record.summary = "failed", str(exc)
        except (httpx.TransportError, ConnectionError) as exc:  # the cause is the target, not this step
            record.status, record.summary = "error", down(ctx.target, exc)
        except Exception as exc:  # a crash mid-run must still leave a report
            record.status, record.summary = "error", f"{type(exc).__name__}: {exc}"
            record.details = traceback.format_exc().splitlines()
        finally:
            record.seconds = round(time.perf_counter() - began, 4)
            record.hide(ctx.secrets())
            result.steps.append(record)
            (reporter or SilentReporter()).step_done(result, record)
        if record.status in ("failed", "error"):
            result.status, result.reason = record.status, record.summary
            raise _Stop()


async def run_step(ctx: RunContext, step: Step) -> StepOutcome:
    """Perform one step and check its expectations; raises :class:`StepFailed` on a mismatch."""
    outcome = await perform(ctx, step)
    await ctx.refresh_now(step.expect)
    _check(step, outcome, render(step.expect, ctx.template_vars()))
    for name, path in step.save.items():
        ctx.variables[name] = _saved(outcome, name, path)
    return outcome


async def perform(ctx: RunContext, step: Step) -> StepOutcome:
    """Do what a step says, without judging the result (``parallel`` judges its branches together)."""
    bound = bind_actor(step, ctx.template_vars(), ctx.scenario, ctx.target.routes)
    resolved = resolve(bound, ctx.scenario, ctx.target.routes)
    ctx.require(resolved.capability)
    own, nested = _own_args(bound)
    await ctx.refresh_now(own)
    args = {**render(own, ctx.template_vars()), **nested}
    actor = ctx.actor(resolved.actor) if resolved.actor else None
    if resolved.plugin is not None:
        outcome = await resolved.plugin.run(ctx, actor, _typed(resolved.plugin.args, args, step))
    else:
        outcome = await _route(ctx, resolved.route_key or "", args, actor)
    if dynamic_who(step) is not None:  # say who the template named
        outcome.summary = f"as {bound.who}: {outcome.summary}"
    return outcome


def _own_args(step: Step) -> tuple[dict[str, Any], dict[str, Any]]:
    """A step's arguments apart from the ``steps`` it nests (``parallel``, ``repeat``): those render
    when each runs, so a repeated step sees ``{{ i }}`` and what the iteration before it saved."""
    if step.action not in NESTING:
        return step.args, {}
    return {k: v for k, v in step.args.items() if k != "steps"}, {k: v for k, v in step.args.items() if k == "steps"}


def _typed(model: Any, args: dict[str, Any], step: Step) -> Any:
    try:
        return model.model_validate(args)
    except ValidationError as exc:
        raise StepFailed(
            f"bad arguments for {step.action}", [f"  {e['loc']}: {e['msg']}" for e in exc.errors()]
        ) from None


async def _route(ctx: RunContext, key: str, args: dict[str, Any], actor: Actor | None) -> StepOutcome:
    result = await ctx.call(key, args, actor)
    return StepOutcome(result, f"{result['status']} {compact(result['body'], 200)}", http=True)


def _check(step: Step, outcome: StepOutcome, expect: dict[str, Any] | None) -> None:
    result = outcome.result
    if outcome.http and (expect is None or "status" not in expect) and result["status"] >= 400:
        raise StepFailed(f"{step.action} answered HTTP {result['status']}", [f"  body: {compact(result['body'])}"])
    if outcome.http and expect and "status" in expect:
        _check_status(step, expect["status"], result)
    problems = diff(expect, result) if expect else []
    if problems:
        raise StepFailed(
            f"{step.action}: expectation not met",
            [f"  ✗ {p}" for p in problems] + [f"  actual: {compact(_shown(result))}"],
        )


def _check_status(step: Step, want: Any, result: dict[str, Any]) -> None:
    """A wrong status is reported with the body received, not with every body key it lacks (it answers
    another shape: an error body has none of a success's keys)."""
    wrong = diff(want, result["status"], "status")
    if wrong:
        raise StepFailed(
            f"{step.action}: expectation not met",
            [f"  ✗ {p}" for p in wrong] + [f"  body received: {compact(result['body'])}"],
        )


def _shown(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k != "headers"}


def _saved(outcome: StepOutcome, name: str, path: str) -> Any:
    try:
        return extract(outcome.result, path)
    except ScenarioError as exc:
        raise StepFailed(f"save {name}: {exc}", [f"  result: {compact(_shown(outcome.result))}"]) from None


async def _cleanup(ctx: RunContext, result: ScenarioResult) -> None:
    for actor in ctx.actors.values():
        await actor.close_socket()
        result.frames[actor.name] = actor.frames
        result.frame_times[actor.name] = [ctx.transcript.since(t) for t in actor.arrived_at]
        result.tokens[actor.fcm_token] = actor.name
    for actor in ctx.actors.values():
        try:
            await _tidy(ctx, actor)
        except Exception as exc:  # cleanup trouble is reported, never hides the run's own result
            ctx.transcript.add("note", text=f"cleanup of {actor.name} ({actor.phone}) failed: {exc!r}")
    await _clear_faults(ctx)
    result.transcript = ctx.transcript.entries
