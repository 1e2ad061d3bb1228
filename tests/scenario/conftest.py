"""Fixtures of the scenario-engine tests: one embedded target, and running a scenario written inline."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from halo_sim.scenario.loader import load_scenario
from halo_sim.scenario.report import Reporter, ScenarioResult
from halo_sim.scenario.runner import run_scenario
from halo_sim.targets.base import Target
from halo_sim.targets.embedded import EmbeddedTarget, start_embedded

RunYaml = Callable[..., ScenarioResult]


@pytest.fixture(scope="session")
def embedded() -> Iterator[EmbeddedTarget]:
    """The reference backend and fakes on loopback, shared by the engine tests (reset per scenario)."""
    target = start_embedded()
    yield target
    target.close()


@pytest.fixture
def run_yaml(tmp_path: Path, embedded: EmbeddedTarget) -> RunYaml:
    """Run scenario text (validated by the loader first) on the embedded target, or on ``target``."""

    def run(text: str, target: Target | None = None, reporter: Reporter | None = None) -> ScenarioResult:
        path = tmp_path / "inline.yaml"
        path.write_text(text, encoding="utf-8")
        return asyncio.run(run_scenario(load_scenario(path), target or embedded, reporter))

    return run


def bare(embedded: Target, *capabilities: str) -> Target:
    """The embedded target as one offering only ``capabilities`` (what a live backend might)."""
    return Target(
        name="bare",
        base_url=embedded.base_url,
        ws_url=embedded.ws_url,
        capabilities=frozenset(capabilities),
        xendit_url=embedded.xendit_url,
        fcm_url=embedded.fcm_url,
        xendit_callback_token=embedded.xendit_callback_token,
    )
