"""The chat_session state machine and the accept race's pure decision."""

from __future__ import annotations

import itertools

import pytest

from halo_sim.domain.pairing import (
    IN_FLIGHT,
    SESSION,
    AcceptOutcome,
    SessionEvent,
    SessionStatus,
    all_rejected,
    judge_accept,
)
from simkit.errors import IllegalTransition

DECLARED = sorted(SESSION.transitions.items())
UNDECLARED = [pair for pair in itertools.product(SessionStatus, SessionEvent) if pair not in SESSION.transitions]

EXPECTED_TABLE = {
    (SessionStatus.SEARCHING, SessionEvent.OFFER): SessionStatus.PENDING_ACCEPTANCE,
    (SessionStatus.PENDING_ACCEPTANCE, SessionEvent.OFFER): SessionStatus.PENDING_ACCEPTANCE,
    (SessionStatus.PENDING_ACCEPTANCE, SessionEvent.ACCEPT): SessionStatus.ACTIVE,
    (SessionStatus.SEARCHING, SessionEvent.TIMEOUT): SessionStatus.FAILED,
    (SessionStatus.PENDING_ACCEPTANCE, SessionEvent.TIMEOUT): SessionStatus.FAILED,
    (SessionStatus.PENDING_ACCEPTANCE, SessionEvent.ALL_REJECTED): SessionStatus.FAILED,
    (SessionStatus.ACTIVE, SessionEvent.END): SessionStatus.ENDED,
}


def test_session_table_is_the_documented_one() -> None:
    assert dict(SESSION.transitions) == EXPECTED_TABLE


@pytest.mark.parametrize(("move", "target"), DECLARED, ids=[f"{s}-{e}" for (s, e), _ in DECLARED])
def test_declared_session_transition_gives_declared_target(
    move: tuple[SessionStatus, SessionEvent], target: SessionStatus
) -> None:
    state, event = move
    assert SESSION.allows(state, event)
    assert SESSION.next(state, event) is target


@pytest.mark.parametrize(("state", "event"), UNDECLARED, ids=[f"{s}-{e}" for s, e in UNDECLARED])
def test_undeclared_session_move_raises_illegal_transition(state: SessionStatus, event: SessionEvent) -> None:
    assert not SESSION.allows(state, event)
    with pytest.raises(IllegalTransition) as caught:
        SESSION.next(state, event)
    assert caught.value.details == {"state": state.value, "event": event.value}


def test_session_cartesian_product_is_fully_partitioned() -> None:
    assert len(DECLARED) + len(UNDECLARED) == len(SessionStatus) * len(SessionEvent)


@pytest.mark.parametrize("state", [SessionStatus.ENDED, SessionStatus.FAILED])
def test_ended_and_failed_sessions_have_no_way_out(state: SessionStatus) -> None:
    assert SESSION.events_from(state) == set()


def test_in_flight_is_searching_and_pending_acceptance() -> None:
    assert IN_FLIGHT == {SessionStatus.SEARCHING, SessionStatus.PENDING_ACCEPTANCE}


def test_session_observer_sees_the_transition() -> None:
    seen: list[tuple[str, str, str, str]] = []
    SESSION.observers.append(lambda *args: seen.append(args))
    try:
        SESSION.next(SessionStatus.PENDING_ACCEPTANCE, SessionEvent.ACCEPT)
    finally:
        SESSION.observers.pop()
    assert seen == [("chat_session", "pending_acceptance", "accept", "active")]


# --- judge_accept: every (offered?, rejected?, status) combination ----------------------------

EXPECTED_WHEN_OFFERED = {
    SessionStatus.SEARCHING: AcceptOutcome.CLOSED,
    SessionStatus.PENDING_ACCEPTANCE: AcceptOutcome.WON,
    SessionStatus.ACTIVE: AcceptOutcome.TAKEN,
    SessionStatus.ENDED: AcceptOutcome.TAKEN,
    SessionStatus.FAILED: AcceptOutcome.CLOSED,
}

COMBINATIONS = [
    (status, offered, rejected) for status in SessionStatus for offered in (True, False) for rejected in (True, False)
]


def expected_outcome(status: SessionStatus, offered: bool, rejected: bool) -> AcceptOutcome:
    if not offered or rejected:
        return AcceptOutcome.NOT_OFFERED
    return EXPECTED_WHEN_OFFERED[status]


@pytest.mark.parametrize(
    ("status", "offered", "rejected"), COMBINATIONS, ids=[f"{s}-offered={o}-rejected={r}" for s, o, r in COMBINATIONS]
)
def test_judge_accept_for_every_combination(status: SessionStatus, offered: bool, rejected: bool) -> None:
    offered_ids = ["m-other", *(["m-me"] if offered else [])]
    rejected_ids = ["m-me"] if rejected else []
    outcome = judge_accept(status, offered_ids, rejected_ids, "m-me")
    assert outcome is expected_outcome(status, offered, rejected)


def test_judge_accept_ignores_other_mitras_rejections() -> None:
    outcome = judge_accept(SessionStatus.PENDING_ACCEPTANCE, ["a", "b"], ["b"], "a")
    assert outcome is AcceptOutcome.WON


def test_a_busy_mitra_cannot_win_an_offer_it_still_holds() -> None:
    """Between winning one session and losing its other offers, the mitra is busy: refused, not a second win."""
    outcomes = [judge_accept(SessionStatus.PENDING_ACCEPTANCE, ["m"], [], "m", mitra_busy=b) for b in (True, False)]
    assert outcomes == [AcceptOutcome.BUSY, AcceptOutcome.WON]


def test_accept_outcome_codes_uppercase_to_the_api_error_codes() -> None:
    assert {o.value.upper() for o in AcceptOutcome} == {
        "WON",
        "OFFER_TAKEN",
        "NOT_OFFERED",
        "CLOSED",
        "MITRA_BUSY",
        "OFFER_WITHDRAWN",
    }


# --- all_rejected ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offered", "rejected", "expected"),
    [
        ([], [], False),
        ([], ["a"], False),
        (["a"], [], False),
        (["a", "b"], ["a"], False),
        (["a", "b"], ["b", "a"], True),
        (["a"], ["a"], True),
        (["a"], ["a", "stranger"], True),
        (["a", "a"], ["a"], True),
    ],
    ids=[
        "nothing-offered",
        "nothing-offered-stray-reject",
        "none-rejected",
        "some-rejected",
        "all-rejected-any-order",
        "single-rejected",
        "extra-rejecter",
        "duplicate-offer",
    ],
)
def test_all_rejected(offered: list[str], rejected: list[str], expected: bool) -> None:
    assert all_rejected(offered, rejected) is expected
