"""``ReferenceBackend.reset()``: back to the freshly-seeded state, clock included, on a shared scheduler."""

from __future__ import annotations

import asyncio

from halo_sim.backend.config import Settings
from halo_sim.backend.state import ReferenceBackend
from simkit.clock import VirtualClock
from simkit.scheduler import Scheduler

START = 1_000_000.0


def backend() -> ReferenceBackend:
    return ReferenceBackend(Settings(env="test", fcm_base_url="http://127.0.0.1:9"), Scheduler(VirtualClock(START)))


def test_reset_rewinds_the_virtual_clock_to_its_start() -> None:
    """Every scenario sees the same timestamps, whatever the previous one did to the clock."""
    ref = backend()
    asyncio.run(ref.scheduler.advance(3600))
    assert ref.deps.now() == START + 3600
    ref.reset()
    assert ref.deps.now() == START
    assert ref.dump()["now"] == START


def test_rows_created_after_a_reset_carry_the_start_time() -> None:
    ref = backend()
    asyncio.run(ref.scheduler.advance(500))
    ref.reset()
    _, customer = ref.auth.login_anonymous()
    assert customer.created_at == START


def test_reset_drops_the_backends_timers_but_not_those_of_the_fakes_sharing_the_scheduler() -> None:
    ref = backend()
    ref.scheduler.call_later(10, lambda: None, "invoice_expiry", owner="fake_xendit")
    ref.reset()
    names = [t.name for t in ref.scheduler.pending()]
    assert names.count("invoice_expiry") == 1
    assert names.count("reconciliation") == 1  # the old sweep is gone, the new one armed once
