"""Declared state machines.

Payment requests and chat sessions change state only through a transition
declared here; anything else raises :class:`~simkit.errors.IllegalTransition`.
Declaring the table (rather than scattering ``if status == ...`` checks) is what
lets tests enumerate every legal and illegal move, and lets a coverage run
report which transitions a suite exercised.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, TypeVar

from simkit.errors import IllegalTransition

S = TypeVar("S", bound=StrEnum)
E = TypeVar("E", bound=StrEnum)

TransitionObserver = Callable[[str, str, str, str], None]


@dataclass
class StateMachine(Generic[S, E]):
    """A named table of ``(state, event) -> next state``."""

    name: str
    transitions: Mapping[tuple[S, E], S]
    observers: list[TransitionObserver] = field(default_factory=list)

    def next(self, state: S, event: E) -> S:
        """The state after ``event`` in ``state``; illegal moves are refused."""
        try:
            target = self.transitions[(state, event)]
        except KeyError:
            raise IllegalTransition(
                f"{self.name}: cannot {event.value} when {state.value}",
                state=state.value,
                event=event.value,
            ) from None
        for observe in self.observers:
            observe(self.name, state.value, event.value, target.value)
        return target

    def allows(self, state: S, event: E) -> bool:
        """Whether ``event`` is legal in ``state``."""
        return (state, event) in self.transitions

    def events_from(self, state: S) -> set[E]:
        """Every event legal in ``state``."""
        return {event for (source, event) in self.transitions if source == state}
