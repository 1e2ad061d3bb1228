"""Presence: online flag plus a heartbeat within the timeout; busy mitras get no blast."""

from __future__ import annotations

import pytest

from halo_sim.domain.presence import PresenceFacts, eligible_for_blast, is_online

TIMEOUT = 90.0
NOW = 10_000.0


def facts(mitra_id: str = "m", online: bool = True, last: float | None = NOW, busy: bool = False) -> PresenceFacts:
    return PresenceFacts(mitra_id, online, last, busy)


def test_flag_off_is_offline_even_with_fresh_heartbeat() -> None:
    assert not is_online(facts(online=False, last=NOW), NOW, TIMEOUT)


def test_flag_on_without_any_heartbeat_is_offline() -> None:
    assert not is_online(facts(last=None), NOW, TIMEOUT)


def test_fresh_heartbeat_is_online() -> None:
    assert is_online(facts(last=NOW - 1.0), NOW, TIMEOUT)


def test_heartbeat_exactly_at_the_timeout_boundary_still_counts() -> None:
    # "drops out *after* heartbeat_timeout seconds": the boundary itself is inclusive.
    assert is_online(facts(last=NOW - TIMEOUT), NOW, TIMEOUT)


def test_heartbeat_just_past_the_timeout_is_offline() -> None:
    assert not is_online(facts(last=NOW - TIMEOUT - 0.5), NOW, TIMEOUT)


def test_heartbeat_long_past_the_timeout_is_offline() -> None:
    assert not is_online(facts(last=NOW - 10 * TIMEOUT), NOW, TIMEOUT)


def test_busy_does_not_affect_is_online() -> None:
    assert is_online(facts(busy=True), NOW, TIMEOUT)


def test_eligible_for_blast_keeps_online_free_mitras_in_order() -> None:
    mitras = [
        facts("fresh-1"),
        facts("busy", busy=True),
        facts("flag-off", online=False),
        facts("never-beat", last=None),
        facts("stale", last=NOW - TIMEOUT - 1),
        facts("boundary", last=NOW - TIMEOUT),
        facts("fresh-2", last=NOW - 5),
    ]
    assert eligible_for_blast(mitras, NOW, TIMEOUT) == ["fresh-1", "boundary", "fresh-2"]


def test_eligible_for_blast_of_nobody_is_empty() -> None:
    assert eligible_for_blast([], NOW, TIMEOUT) == []


@pytest.mark.parametrize("busy", [True, False])
def test_busy_mitra_is_excluded_from_blast(busy: bool) -> None:
    assert eligible_for_blast([facts("m", busy=busy)], NOW, TIMEOUT) == ([] if busy else ["m"])
