"""What a run records for its HTML report: step starts, frame arrivals, who called, where, the virtual clock."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from halo_sim.scenario.loader import load_scenario
from halo_sim.scenario.report import ScenarioResult
from halo_sim.scenario.runner import run_scenario
from halo_sim.targets.base import Target
from halo_sim.targets.embedded import EmbeddedTarget, start_embedded


@pytest.fixture(scope="module")
def target() -> Iterator[EmbeddedTarget]:
    embedded = start_embedded()
    yield embedded
    embedded.close()


def _run(path: Path, target: Target) -> ScenarioResult:
    return asyncio.run(run_scenario(load_scenario(path), target))


def test_steps_start_in_order_and_frames_carry_their_arrival(scenarios_dir: Path, target: EmbeddedTarget) -> None:
    result = _run(scenarios_dir / "06_session_timer_end.yaml", target)
    starts = [s.started for s in result.steps]
    assert starts == sorted(starts) and starts[0] > 0
    for actor, frames in result.frames.items():
        times = result.frame_times[actor]
        assert len(times) == len(frames) and times == sorted(times)
    assert result.tokens and set(result.tokens.values()) == set(result.frames)


def test_http_entries_say_who_called_and_when_the_call_began(scenarios_dir: Path, target: EmbeddedTarget) -> None:
    result = _run(scenarios_dir / "06_session_timer_end.yaml", target)
    calls = [e for e in result.transcript if e["kind"] == "http"]
    assert all(e["sent"] <= e["t"] for e in calls)
    hooks = {e["actor"] for e in calls if "/_test/" in e["url"]}
    apps = {e["actor"] for e in calls if "/api/chat/" in e["url"]}
    assert hooks == {None} and apps == {"customer", "mitra"}


def test_the_endpoints_and_the_virtual_clock_after_the_reset_are_recorded(
    scenarios_dir: Path, target: EmbeddedTarget
) -> None:
    result = _run(scenarios_dir / "06_session_timer_end.yaml", target)
    assert result.endpoints == {"backend": target.base_url, "xendit": target.xendit_url, "fcm": target.fcm_url}
    assert result.virtual_start == 1_767_225_600.0  # the embedded clock's start: the reset rewinds it
    reads = [e for e in result.transcript if e["kind"] == "http" and e["method"] == "GET" and "/clock" in e["url"]]
    assert reads == []  # the reading is not a step's call: the transcript (and `halo-sim diff`) never see it
