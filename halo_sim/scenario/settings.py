"""A scenario's top-level ``settings:``: the backend tuned for one run, and put back after it.

Before the setup steps the values the target uses now are read (``GET
/internal/_test/settings``) and the scenario's are applied (``PUT``); after the
last step — passed, failed, skipped or crashed — the values read are put back, so
a shared target (``halo-sim serve``) leaves the run as it came.  A scenario whose steps change
settings themselves (``test.update_settings``) gets every setting put back the same way.  A target without
the ``settings`` capability skips the scenario with the reason, as does one that
refuses a setting (an older backend without it): the scenario's rules cannot hold there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from halo_sim.scenario.context import RunContext, compact
from halo_sim.scenario.report import ScenarioResult
from simkit.errors import CapabilityMissing

PATH = "/internal/_test/settings"
UPDATE_STEP = "test.update_settings"  # a step changing settings mid-run: every setting is put back after it


@asynccontextmanager
async def scenario_settings(ctx: RunContext, result: ScenarioResult) -> AsyncIterator[None]:
    """Apply the scenario's settings for the body of the ``async with``; restore them however it ends."""
    wanted = ctx.scenario.settings.changes() if ctx.scenario.settings else {}
    changed_later = any(step.action == UPDATE_STEP for step in ctx.scenario.steps)
    if not wanted and not changed_later:
        yield
        return
    ctx.require("settings")
    before = await _exchange(ctx, "GET", None)
    if wanted:
        await _exchange(ctx, "PUT", wanted)
        ctx.transcript.add("note", text=f"settings applied: {compact(wanted, 400)}")
    try:
        yield
    finally:
        await _restore(ctx, result, before if changed_later else {name: before[name] for name in wanted})


async def _exchange(ctx: RunContext, method: str, body: dict[str, Any] | None) -> dict[str, Any]:
    """One call to the settings route; a refusal means the scenario cannot run here (a skip, with why)."""
    answer = await ctx.request(method, ctx.target.base_url + PATH, body, headers=ctx.target.test_headers())
    if answer["status"] != 200 or not isinstance(answer["body"], dict):
        raise CapabilityMissing(
            f"target {ctx.target.name!r} refused {method} {PATH}: {answer['status']} {compact(answer['body'], 200)}"
        )
    return answer["body"]


async def _restore(ctx: RunContext, result: ScenarioResult, before: dict[str, Any]) -> None:
    """Put the values back; a failure is reported (an error when the run had passed), never hidden."""
    try:
        await _exchange(ctx, "PUT", before)
    except (CapabilityMissing, httpx.HTTPError) as exc:
        ctx.transcript.add("note", text=f"restoring the settings failed: {exc}")
        if result.status == "passed":
            result.status, result.reason = "error", f"restoring the backend settings failed: {exc}"
