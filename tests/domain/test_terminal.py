"""is_terminal: when a failed pairing attempt ends pairing for its payment; FAILURE_REASONS per mode."""

from __future__ import annotations

import itertools

import pytest

from halo_sim.domain.pairing import FAILURE_REASONS, Mode, is_terminal

MAX_ATTEMPTS = 3
# failed attempts relative to the maximum: well below, one below, at, above
FAILED_COUNTS = {"none": 0, "below": MAX_ATTEMPTS - 1, "at": MAX_ATTEMPTS, "above": MAX_ATTEMPTS + 1}


def expected_terminal(mode: Mode, failed: int, usable: bool) -> bool:
    if not usable:
        return True
    return mode is Mode.BLAST and failed >= MAX_ATTEMPTS


@pytest.mark.parametrize(
    ("mode", "count", "usable"),
    list(itertools.product(Mode, FAILED_COUNTS, [True, False])),
    ids=lambda v: v.value if isinstance(v, Mode) else (("usable" if v else "unusable") if isinstance(v, bool) else v),
)
def test_is_terminal_for_every_mode_attempt_count_and_payment_usability(mode: Mode, count: str, usable: bool) -> None:
    failed = FAILED_COUNTS[count]
    assert is_terminal(mode, failed, MAX_ATTEMPTS, usable) is expected_terminal(mode, failed, usable)


@pytest.mark.parametrize("failed", [0, 1, 2])
def test_blast_failure_below_max_attempts_with_a_usable_payment_is_retryable(failed: int) -> None:
    assert is_terminal(Mode.BLAST, failed, MAX_ATTEMPTS, payment_usable=True) is False


@pytest.mark.parametrize("failed", [3, 4, 10])
def test_blast_failure_at_or_above_max_attempts_is_terminal(failed: int) -> None:
    assert is_terminal(Mode.BLAST, failed, MAX_ATTEMPTS, payment_usable=True) is True


@pytest.mark.parametrize("failed", [0, 1, 2, 3, 4, 100])
def test_targeted_failure_is_never_terminal_by_itself_while_the_payment_is_usable(failed: int) -> None:
    assert is_terminal(Mode.TARGETED, failed, MAX_ATTEMPTS, payment_usable=True) is False


@pytest.mark.parametrize("mode", list(Mode))
@pytest.mark.parametrize("failed", [0, 1, 3, 4])
def test_an_unusable_payment_always_ends_pairing(mode: Mode, failed: int) -> None:
    assert is_terminal(mode, failed, MAX_ATTEMPTS, payment_usable=False) is True


def test_max_attempts_of_one_makes_the_first_blast_failure_terminal() -> None:
    assert is_terminal(Mode.BLAST, 1, 1, payment_usable=True) is True
    assert is_terminal(Mode.BLAST, 0, 1, payment_usable=True) is False


def test_blast_failure_reason_is_pairing_failed() -> None:
    assert FAILURE_REASONS[Mode.BLAST] == "PAIRING_FAILED"


def test_targeted_failure_reason_is_returning_chat_timeout() -> None:
    assert FAILURE_REASONS[Mode.TARGETED] == "RETURNING_CHAT_TIMEOUT"


def test_every_mode_has_exactly_one_failure_reason() -> None:
    assert set(FAILURE_REASONS) == set(Mode)
    assert len(set(FAILURE_REASONS.values())) == len(Mode)


def test_modes_are_the_wire_strings_blast_and_targeted() -> None:
    assert [m.value for m in Mode] == ["blast", "targeted"]
    assert Mode("blast") is Mode.BLAST and Mode("targeted") is Mode.TARGETED
