"""Clocks: the virtual one only moves forward when told; the system one follows time.time() scaled."""

from __future__ import annotations

import pytest

from simkit.clock import SystemClock, VirtualClock, isoformat


def test_virtual_clock_default_start_is_2026_01_01_utc() -> None:
    assert isoformat(VirtualClock().now()) == "2026-01-01T00:00:00.000Z"


def test_virtual_clock_does_not_move_by_itself() -> None:
    clock = VirtualClock(start=100.0)
    assert clock.now() == clock.now() == 100.0


def test_virtual_clock_advance_moves_forward_and_returns_new_now() -> None:
    clock = VirtualClock(start=100.0)
    assert clock.advance(2.5) == 102.5
    assert clock.now() == 102.5


def test_virtual_clock_advance_by_zero_is_allowed() -> None:
    clock = VirtualClock(start=100.0)
    assert clock.advance(0) == 100.0


def test_virtual_clock_refuses_negative_advance_and_keeps_time() -> None:
    clock = VirtualClock(start=100.0)
    clock.advance(5)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)
    assert clock.now() == 105.0


def test_virtual_clock_rewind_goes_back_to_start() -> None:
    clock = VirtualClock(start=100.0)
    clock.advance(3600)
    clock.rewind()
    assert clock.now() == 100.0


class FakeTime:
    """A controllable stand-in for time.time()."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.mark.parametrize("speed", [1.0, 10.0, 0.5])
def test_system_clock_runs_speed_times_real_time(monkeypatch: pytest.MonkeyPatch, speed: float) -> None:
    fake = FakeTime(1_000.0)
    monkeypatch.setattr("simkit.clock.time.time", fake)
    clock = SystemClock(speed)
    assert clock.now() == 1_000.0
    fake.t = 1_004.0
    assert clock.now() == 1_000.0 + 4.0 * speed


def test_system_clock_starts_at_wall_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("simkit.clock.time.time", FakeTime(1_767_225_600.0))
    assert SystemClock(60).now() == 1_767_225_600.0


@pytest.mark.parametrize("speed", [1.0, 100.0])
def test_system_clock_is_monotone_while_wall_time_advances(monkeypatch: pytest.MonkeyPatch, speed: float) -> None:
    fake = FakeTime(5_000.0)
    monkeypatch.setattr("simkit.clock.time.time", fake)
    clock = SystemClock(speed)
    readings = []
    for step in (0.0, 0.001, 0.001, 0.5, 0.0, 3.0):
        fake.t += step
        readings.append(clock.now())
    assert readings == sorted(readings)


def test_system_clock_real_readings_never_decrease() -> None:
    clock = SystemClock(1000.0)
    readings = [clock.now() for _ in range(2000)]
    assert readings == sorted(readings)


@pytest.mark.parametrize(
    ("epoch", "text"),
    [(0.0, "1970-01-01T00:00:00.000Z"), (1_767_225_600.1234, "2026-01-01T00:00:00.123Z")],
)
def test_isoformat_is_utc_milliseconds_with_z(epoch: float, text: str) -> None:
    assert isoformat(epoch) == text
