"""The Scheduler over a VirtualClock: deterministic, ordered timers; and its system-clock driver."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from simkit.clock import SystemClock, VirtualClock
from simkit.scheduler import Scheduler

START = 1_000.0


def virtual() -> Scheduler:
    return Scheduler(VirtualClock(start=START))


def appender(log: list[Any], item: Any) -> Callable[[], None]:
    """A timer callback that records ``item``."""
    return lambda: log.append(item)


def test_advance_fires_timers_in_time_order_regardless_of_scheduling_order() -> None:
    scheduler = virtual()
    fired: list[str] = []
    for name, delay in [("c", 30), ("a", 10), ("b", 20)]:
        scheduler.call_later(delay, appender(fired, name), name)
    assert asyncio.run(scheduler.advance(60)) == 3
    assert fired == ["a", "b", "c"]


def test_equal_due_times_fire_in_fifo_order() -> None:
    scheduler = virtual()
    fired: list[int] = []
    for i in range(6):
        scheduler.call_at(START + 5, appender(fired, i))
    asyncio.run(scheduler.advance(5))
    assert fired == list(range(6))


def test_clock_equals_each_timers_due_time_while_it_fires() -> None:
    scheduler = virtual()
    seen: list[tuple[str, float]] = []

    def stamp(name: str) -> Callable[[], None]:
        return lambda: seen.append((name, scheduler.clock.now()))

    for name, delay in [("t1", 1.5), ("t2", 40), ("t3", 299.25)]:
        scheduler.call_later(delay, stamp(name), name)
    asyncio.run(scheduler.advance(1000))
    assert seen == [("t1", START + 1.5), ("t2", START + 40), ("t3", START + 299.25)]
    assert scheduler.clock.now() == START + 1000


def test_advance_stops_short_of_timers_due_after_the_target() -> None:
    scheduler = virtual()
    fired: list[str] = []
    scheduler.call_later(10, lambda: fired.append("soon"))
    scheduler.call_later(100, lambda: fired.append("later"))
    assert asyncio.run(scheduler.advance(50)) == 1
    assert fired == ["soon"]
    assert scheduler.clock.now() == START + 50
    assert [t.when for t in scheduler.pending()] == [START + 100]


def test_timer_due_exactly_at_the_target_fires() -> None:
    scheduler = virtual()
    fired: list[str] = []
    scheduler.call_later(50, lambda: fired.append("edge"))
    asyncio.run(scheduler.advance(50))
    assert fired == ["edge"]


def test_nothing_fires_without_advance() -> None:
    scheduler = virtual()
    fired: list[str] = []
    scheduler.call_later(0.001, lambda: fired.append("x"))
    assert fired == []
    assert len(scheduler.pending()) == 1


def test_already_due_timer_fires_on_advance_zero() -> None:
    scheduler = virtual()
    fired: list[str] = []
    scheduler.call_at(START - 5, lambda: fired.append("overdue"))
    assert asyncio.run(scheduler.advance(0)) == 1
    assert fired == ["overdue"]
    assert scheduler.clock.now() == START


def test_cancelled_timer_does_not_fire_and_is_not_pending() -> None:
    scheduler = virtual()
    fired: list[str] = []
    keep = scheduler.call_later(10, lambda: fired.append("keep"), "keep")
    drop = scheduler.call_later(5, lambda: fired.append("drop"), "drop")
    drop.cancel()
    assert scheduler.pending() == [keep]
    assert scheduler.next_due() == START + 10
    assert asyncio.run(scheduler.advance(20)) == 1
    assert fired == ["keep"]


def test_failing_timer_is_recorded_and_later_timers_still_fire() -> None:
    scheduler = virtual()
    fired: list[str] = []

    def broken() -> None:
        raise RuntimeError("boom")

    scheduler.call_later(1, broken, "broken")
    scheduler.call_later(2, lambda: fired.append("after"), "after")
    assert asyncio.run(scheduler.advance(5)) == 2
    assert fired == ["after"]
    assert scheduler.errors == ["broken: RuntimeError('boom')"]


def test_failing_async_timer_is_recorded_too() -> None:
    scheduler = virtual()

    async def broken() -> None:
        await asyncio.sleep(0)
        raise ValueError("late boom")

    scheduler.call_later(1, broken)
    asyncio.run(scheduler.advance(1))
    assert scheduler.errors == ["broken: ValueError('late boom')"]


def test_async_callbacks_are_awaited_before_the_next_timer() -> None:
    scheduler = virtual()
    log: list[str] = []

    async def slow() -> None:
        log.append("slow-start")
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        log.append("slow-end")

    scheduler.call_later(1, slow)
    scheduler.call_later(1, lambda: log.append("next"))
    asyncio.run(scheduler.advance(1))
    assert log == ["slow-start", "slow-end", "next"]


def test_timer_scheduled_by_a_firing_timer_fires_in_the_same_advance_if_due() -> None:
    scheduler = virtual()
    seen: list[tuple[str, float]] = []

    def first() -> None:
        seen.append(("first", scheduler.clock.now()))
        scheduler.call_later(10, lambda: seen.append(("chained", scheduler.clock.now())))

    scheduler.call_later(10, first)
    asyncio.run(scheduler.advance(25))
    assert seen == [("first", START + 10), ("chained", START + 20)]


def test_timer_name_defaults_to_callback_name() -> None:
    scheduler = virtual()

    def pairing_timeout() -> None:
        return None

    assert scheduler.call_later(1, pairing_timeout).name == "pairing_timeout"
    assert scheduler.call_later(1, pairing_timeout, "explicit").name == "explicit"


def test_clear_drops_every_timer() -> None:
    scheduler = virtual()
    fired: list[str] = []
    scheduler.call_later(1, lambda: fired.append("x"))
    scheduler.clear()
    assert scheduler.next_due() is None
    asyncio.run(scheduler.advance(10))
    assert fired == []


def test_run_due_fires_only_what_is_due_now() -> None:
    scheduler = virtual()
    fired: list[str] = []
    scheduler.call_at(START, lambda: fired.append("now"))
    scheduler.call_at(START + 1, lambda: fired.append("later"))
    assert asyncio.run(scheduler.run_due()) == 1
    assert fired == ["now"]


def test_is_virtual_reflects_the_clock() -> None:
    assert virtual().is_virtual
    assert not Scheduler(SystemClock()).is_virtual


def test_advance_on_a_system_clock_raises_type_error() -> None:
    scheduler = Scheduler(SystemClock())
    with pytest.raises(TypeError, match="VirtualClock"):
        asyncio.run(scheduler.advance(1))


def test_start_is_a_no_op_on_a_virtual_clock() -> None:
    scheduler = virtual()
    fired: list[str] = []
    scheduler.call_at(START - 1, lambda: fired.append("overdue"))

    async def run() -> None:
        scheduler.start()
        await asyncio.sleep(0)
        await scheduler.stop()

    asyncio.run(run())
    assert fired == []
    assert scheduler._driver is None


def test_system_clock_driver_fires_a_due_timer_and_stops() -> None:
    scheduler = Scheduler(SystemClock(), poll_interval=0.01)

    async def run() -> None:
        done = asyncio.Event()
        scheduler.start()
        scheduler.start()  # idempotent: still one driver
        driver = scheduler._driver
        scheduler.call_later(0, done.set)
        await asyncio.wait_for(done.wait(), timeout=10)
        assert scheduler._driver is driver
        await scheduler.stop()

    asyncio.run(run())
    assert scheduler._driver is None
    assert scheduler.pending() == []


def test_clear_with_an_owner_cancels_only_that_owners_timers() -> None:
    """The backend resets itself on a scheduler the fakes share; their timers must survive."""
    scheduler = virtual()
    fired: list[str] = []
    scheduler.call_later(5, appender(fired, "backend"), "b", owner="backend")
    scheduler.call_later(5, appender(fired, "fake"), "f", owner="fake_xendit")
    scheduler.call_later(5, appender(fired, "anonymous"), "a")
    scheduler.clear(owner="backend")
    assert [t.name for t in scheduler.pending()] == ["f", "a"]
    asyncio.run(scheduler.advance(10))
    assert fired == ["fake", "anonymous"]


def test_cancelled_timers_do_not_pile_up_while_they_wait_to_be_due() -> None:
    """A days-long serve cancels most timers it arms (a paid invoice's 24 h expiry): the heap keeps
    the live ones and at most about as many cancelled ones, and the live ones still fire in order."""
    scheduler = virtual()
    fired: list[int] = []
    keep = [scheduler.call_later(10 + n, appender(fired, n), "kept") for n in range(3)]
    for _ in range(50_000):
        scheduler.call_later(86_400, appender(fired, -1), "expiry").cancel()
        assert len(scheduler._heap) < 2 * 1024 + len(keep)
    asyncio.run(scheduler.advance(100_000))
    assert fired == [0, 1, 2]
