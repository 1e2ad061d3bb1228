"""The generic StateMachine: lookup, refusal, observers, introspection."""

from __future__ import annotations

from enum import StrEnum

import pytest

from halo_sim.domain.machine import StateMachine
from simkit.errors import Conflict, IllegalTransition


class Light(StrEnum):
    OFF = "off"
    ON = "on"


class Flip(StrEnum):
    PRESS = "press"
    CUT = "cut"


def make_machine() -> StateMachine[Light, Flip]:
    return StateMachine(
        "light", {(Light.OFF, Flip.PRESS): Light.ON, (Light.ON, Flip.PRESS): Light.OFF, (Light.ON, Flip.CUT): Light.OFF}
    )


def test_next_returns_declared_target() -> None:
    machine = make_machine()
    assert machine.next(Light.OFF, Flip.PRESS) is Light.ON
    assert machine.next(Light.ON, Flip.PRESS) is Light.OFF


def test_undeclared_move_raises_illegal_transition_naming_state_and_event() -> None:
    with pytest.raises(IllegalTransition) as caught:
        make_machine().next(Light.OFF, Flip.CUT)
    error = caught.value
    assert error.details == {"state": "off", "event": "cut"}
    assert error.message == "light: cannot cut when off"
    assert error.code == "ILLEGAL_TRANSITION"
    assert error.status_code == 409


def test_illegal_transition_is_a_conflict() -> None:
    assert issubclass(IllegalTransition, Conflict)


def test_observers_get_machine_name_source_event_and_target_in_order() -> None:
    seen: list[tuple[str, ...]] = []
    machine = make_machine()
    machine.observers.append(lambda *args: seen.append(("first", *args)))
    machine.observers.append(lambda *args: seen.append(("second", *args)))
    machine.next(Light.OFF, Flip.PRESS)
    assert seen == [("first", "light", "off", "press", "on"), ("second", "light", "off", "press", "on")]


def test_observers_are_not_called_for_a_refused_move() -> None:
    seen: list[tuple[str, ...]] = []
    machine = make_machine()
    machine.observers.append(lambda *args: seen.append(args))
    with pytest.raises(IllegalTransition):
        machine.next(Light.OFF, Flip.CUT)
    assert seen == []


def test_allows_matches_the_table() -> None:
    machine = make_machine()
    assert machine.allows(Light.ON, Flip.CUT)
    assert not machine.allows(Light.OFF, Flip.CUT)


def test_events_from_lists_every_legal_event_of_a_state() -> None:
    machine = make_machine()
    assert machine.events_from(Light.ON) == {Flip.PRESS, Flip.CUT}
    assert machine.events_from(Light.OFF) == {Flip.PRESS}


def test_observer_list_is_per_instance() -> None:
    first, second = make_machine(), make_machine()
    first.observers.append(lambda *args: None)
    assert second.observers == []
