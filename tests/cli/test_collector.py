"""Garbage collection paused for a command's start-up, and resumed only by the CLI that paused it."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from halo_sim.cli import collector


@pytest.fixture
def restored() -> Iterator[None]:
    yield
    gc.unfreeze()
    gc.enable()


def test_started_after_pause_freezes_start_up_and_collects_again(restored: None) -> None:
    collector.pause()
    assert not gc.isenabled()
    collector.started()
    assert gc.isenabled() and gc.get_freeze_count() > 0


def test_started_without_pause_leaves_the_host_processs_collector_alone(restored: None) -> None:
    frozen = gc.get_freeze_count()
    collector.started()
    assert gc.isenabled() and gc.get_freeze_count() == frozen
