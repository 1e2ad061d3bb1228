"""The end-of-run checks find each broken promise in a state dump (and nothing in a sound one)."""

from __future__ import annotations

from typing import Any

from halo_sim.load.invariants import violations


def _state(**tables: list[dict[str, Any]]) -> dict[str, Any]:
    empty: dict[str, list[dict[str, Any]]] = {"customer_transactions": [], "chat_sessions": [], "chat_messages": []}
    return {"now": 1000.0, "tables": {**empty, **tables}}


def _session(sid: str, mitra: str, start: float, end: float | None, payment: str = "p") -> dict[str, Any]:
    return {"id": sid, "mitra_id": mitra, "payment_request_id": payment, "started_at": start, "ended_at": end}


def test_a_sound_run_has_no_violation() -> None:
    state = _state(
        customer_transactions=[{"payment_request_id": "p1", "kind": "payment"}],
        chat_sessions=[_session("s1", "m", 10, 20, "p1"), _session("s2", "m", 20, None, "p2")],
        chat_messages=[{"id": "a"}, {"id": "b"}],
    )
    assert violations(state, {"a", "b"}) == []


def test_a_payment_booked_twice_is_reported() -> None:
    booked = [{"payment_request_id": "p1", "kind": "payment"}] * 2
    assert violations(_state(customer_transactions=booked), set()) == ["payment p1 confirmed 2 times"]


def test_a_payment_that_started_two_chats_is_reported() -> None:
    sessions = [_session("s1", "m1", 10, 20, "p1"), _session("s2", "m2", 30, 40, "p1")]
    assert violations(_state(chat_sessions=sessions), set()) == ["payment p1 started 2 chats"]


def test_a_mitra_in_two_sessions_at_once_is_reported() -> None:
    sessions = [_session("s1", "m", 10, 30, "p1"), _session("s2", "m", 20, None, "p2")]
    assert violations(_state(chat_sessions=sessions), set()) == ["mitra m in sessions s1 and s2 at once"]


def test_an_acknowledged_message_missing_from_the_store_is_reported() -> None:
    found = violations(_state(chat_messages=[{"id": "a"}]), {"a", "gone"})
    assert found == ["1 acknowledged message(s) not stored, e.g. ['gone']"]
