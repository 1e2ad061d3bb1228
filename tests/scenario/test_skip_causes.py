"""A scenario that cannot run says the real cause: the target is down, or the test token is wrong."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from halo_sim.scenario.loader import load_scenario
from halo_sim.scenario.runner import run_scenario
from halo_sim.stack import Stack, StackOptions
from halo_sim.targets.base import Target
from simkit.clock import VirtualClock


def _closed_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_a_down_target_is_the_cause_not_missing_mitras(scenarios_dir: Path) -> None:
    url = _closed_url()
    target = Target(name="staging", base_url=url, ws_url="ws" + url[4:], capabilities=frozenset(), live=True)
    result = asyncio.run(run_scenario(load_scenario(scenarios_dir / "01_smoke.yaml"), target))
    assert result.status == "error"
    assert result.reason == f"target 'staging' is down or unreachable at {url} (connection refused)"


def test_a_step_that_cannot_connect_names_the_url_without_a_traceback(data_dir: Path) -> None:
    url = _closed_url()
    target = Target(name="staging", base_url=url, ws_url="ws" + url[4:], capabilities=frozenset(), live=True)
    result = asyncio.run(run_scenario(load_scenario(data_dir / "passing_short.yaml"), target))
    step = result.failed_step
    assert step is not None and step.status == "error" and step.details == []
    assert step.summary == f"target 'staging' is down or unreachable at {url} (connection refused)"


@pytest.fixture(scope="module")
def guarded() -> Iterator[Stack]:
    stack = Stack(VirtualClock(), StackOptions(test_token="right-token"))
    yield stack
    stack.stop()


@pytest.mark.parametrize(("token", "state"), [(None, "is missing"), ("wrong", "was refused")])
def test_a_test_hook_answering_401_skips_naming_the_token(
    guarded: Stack, data_dir: Path, token: str | None, state: str
) -> None:
    url = guarded.backend_server.url
    target = Target(
        name="staging",
        base_url=url,
        ws_url="ws" + url[4:],
        capabilities=frozenset({"test_endpoints", "otp_readable"}),
        test_token=token,
        live=True,
    )
    result = asyncio.run(run_scenario(load_scenario(data_dir / "passing_short.yaml"), target))
    assert result.status == "skipped"
    assert "answered 401 on /internal/_test/otp" in result.reason and f"the test token {state}" in result.reason
