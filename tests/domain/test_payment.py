"""The payment_request state machine, enumerated from its declared table."""

from __future__ import annotations

import itertools

import pytest

from halo_sim.domain.payment import PAYMENT, TERMINAL, PaymentEvent, PaymentStatus, usable_for_pairing
from simkit.errors import IllegalTransition

DECLARED = sorted(PAYMENT.transitions.items())
UNDECLARED = [pair for pair in itertools.product(PaymentStatus, PaymentEvent) if pair not in PAYMENT.transitions]

EXPECTED_TABLE = {
    (PaymentStatus.PENDING, PaymentEvent.CONFIRM): PaymentStatus.CONFIRMED,
    (PaymentStatus.PENDING, PaymentEvent.EXPIRE): PaymentStatus.EXPIRED,
    (PaymentStatus.EXPIRED, PaymentEvent.CONFIRM): PaymentStatus.CONFIRMED,
    (PaymentStatus.CONFIRMED, PaymentEvent.CONSUME): PaymentStatus.CONSUMED,
    (PaymentStatus.CONFIRMED, PaymentEvent.FAIL_PAIRING): PaymentStatus.FAILED_PAIRING,
}


def test_payment_table_is_the_documented_one() -> None:
    assert dict(PAYMENT.transitions) == EXPECTED_TABLE


@pytest.mark.parametrize(("move", "target"), DECLARED, ids=[f"{s}-{e}" for (s, e), _ in DECLARED])
def test_declared_payment_transition_gives_declared_target(
    move: tuple[PaymentStatus, PaymentEvent], target: PaymentStatus
) -> None:
    state, event = move
    assert PAYMENT.allows(state, event)
    assert PAYMENT.next(state, event) is target


@pytest.mark.parametrize(("state", "event"), UNDECLARED, ids=[f"{s}-{e}" for s, e in UNDECLARED])
def test_undeclared_payment_move_raises_illegal_transition(state: PaymentStatus, event: PaymentEvent) -> None:
    assert not PAYMENT.allows(state, event)
    with pytest.raises(IllegalTransition) as caught:
        PAYMENT.next(state, event)
    assert caught.value.details == {"state": state.value, "event": event.value}


def test_payment_cartesian_product_is_fully_partitioned() -> None:
    assert len(DECLARED) + len(UNDECLARED) == len(PaymentStatus) * len(PaymentEvent)


@pytest.mark.parametrize("state", sorted(TERMINAL))
def test_terminal_payment_states_have_no_way_out(state: PaymentStatus) -> None:
    assert PAYMENT.events_from(state) == set()


def test_non_terminal_payment_states_are_pending_and_confirmed() -> None:
    assert set(PaymentStatus) - TERMINAL == {PaymentStatus.PENDING, PaymentStatus.CONFIRMED, PaymentStatus.EXPIRED}


def test_payment_observer_sees_the_transition() -> None:
    seen: list[tuple[str, str, str, str]] = []
    PAYMENT.observers.append(lambda *args: seen.append(args))
    try:
        PAYMENT.next(PaymentStatus.PENDING, PaymentEvent.CONFIRM)
    finally:
        PAYMENT.observers.pop()
    assert seen == [("payment_request", "pending", "confirm", "confirmed")]


# --- the paid-validity window -----------------------------------------------------------------


def test_a_confirmed_payment_is_usable_for_pairing_only_before_its_validity_ends() -> None:
    paid_at, validity = 1000.0, 60.0
    usable = [usable_for_pairing(PaymentStatus.CONFIRMED, paid_at, now, validity) for now in (1000.0, 1059.9, 1060.0)]
    assert usable == [True, True, False]


@pytest.mark.parametrize("state", sorted(set(PaymentStatus) - {PaymentStatus.CONFIRMED}))
def test_only_a_confirmed_payment_is_usable_for_pairing(state: PaymentStatus) -> None:
    assert not usable_for_pairing(state, 1000.0, 1000.0, 60.0)


def test_a_confirmed_payment_without_a_confirmation_time_has_no_window_to_run_out() -> None:
    assert usable_for_pairing(PaymentStatus.CONFIRMED, None, 10**9, 60.0)
