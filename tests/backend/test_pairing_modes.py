"""Blast and targeted pairing, failures, retries and attempts (services only, no sockets, virtual clock)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from halo_sim.backend.config import Settings
from halo_sim.backend.state import ReferenceBackend
from halo_sim.backend.tables import ChatSession, Mitra
from halo_sim.domain.pairing import Mode, SessionStatus
from halo_sim.domain.payment import PaymentStatus
from simkit.clock import VirtualClock
from simkit.errors import Conflict, NotFound
from simkit.scheduler import Scheduler

T = TypeVar("T")


class FakeSocket:
    """An in-memory foreground app: offers go over the hub (and show up in ``hub.sent``) instead of nowhere."""

    def __init__(self) -> None:
        self.frames: list[Any] = []

    async def send_text(self, data: str) -> None:
        self.frames.append(json.loads(data))


@dataclass
class World:
    backend: ReferenceBackend
    customer_id: str
    mitra_ids: list[str]

    @property
    def now(self) -> float:
        return self.backend.deps.now()


def build_world(n_mitras: int = 3, online: int | None = None) -> World:
    """A named customer and ``n_mitras`` mitras, the first ``online`` of them (default all) online."""
    backend = ReferenceBackend(Settings(env="test", fcm_base_url="http://127.0.0.1:9"), Scheduler(VirtualClock()))
    _, customer = backend.auth.login_anonymous()
    backend.auth.set_display_name(customer.id, "Ayu")
    mitra_ids = []
    for i in range(n_mitras):
        mitra_id = f"mitra-{i}"
        backend.store.insert(
            "mitras", Mitra(id=mitra_id, phone=f"+6281100088{i:02d}", display_name=f"Bestie {i}", password="pw")
        )
        if online is None or i < online:
            asyncio.run(backend.presence.set_online(mitra_id, True))
        backend.hub.add(("mitra", mitra_id), FakeSocket())
        mitra_ids.append(mitra_id)
    return World(backend, customer.id, mitra_ids)


def run(coro_fn: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await coro_fn()

    return asyncio.run(main())


async def pay(world: World, targeted: str | None = None, customer_id: str | None = None) -> ChatSession:
    """Request and confirm a payment; the confirmed event starts the attempt."""
    backend = world.backend
    payment = await backend.payments.request_payment(customer_id or world.customer_id, 15, targeted_mitra_id=targeted)
    await backend.payments.confirm_payment(payment.id, "test")
    return backend.pairing.attempts(payment.id)[-1]


def frames(world: World, kind: str, to: str | None = None) -> list[dict[str, Any]]:
    return [s["frame"] for s in world.backend.hub.sent if s["frame"]["type"] == kind and (to is None or s["to"] == to)]


def offered_to(world: World, session_id: str) -> list[str]:
    return [
        s["to"]
        for s in world.backend.hub.sent
        if s["frame"]["type"] == "pairing_offer" and s["frame"]["session_id"] == session_id
    ]


# --- targeted --------------------------------------------------------------------------------------


def test_targeted_payment_is_offered_only_to_the_targeted_mitra() -> None:
    world = build_world(3)
    session = run(lambda: pay(world, targeted="mitra-1"))
    assert (session.mode, session.targeted_mitra_id) == ("targeted", "mitra-1")
    assert session.status is SessionStatus.PENDING_ACCEPTANCE
    assert session.offered_mitra_ids == ("mitra-1",)
    assert offered_to(world, session.id) == ["mitra:mitra-1"]
    offer = frames(world, "pairing_offer")[0]
    assert (offer["mode"], offer["expires_in_s"]) == ("targeted", world.backend.settings.targeted_timeout_s)
    searching = frames(world, "pairing_searching", f"customer:{world.customer_id}")
    assert [(f["mode"], f["expires_in_s"], f["attempt"]) for f in searching] == [("targeted", 20.0, 1)]


def test_targeted_mitra_offline_fails_at_once_with_returning_chat_timeout_cause_mitra_offline() -> None:
    world = build_world(3)
    asyncio.run(world.backend.presence.set_online("mitra-1", False))
    start = world.now
    session = run(lambda: pay(world, targeted="mitra-1"))
    assert world.now == start  # no time had to pass
    assert session.status is SessionStatus.FAILED
    assert session.failure_reason == "RETURNING_CHAT_TIMEOUT"
    assert session.offered_mitra_ids == ()
    assert frames(world, "pairing_offer") == []
    failed = frames(world, "pairing_failed", f"customer:{world.customer_id}")
    assert len(failed) == 1
    assert {k: failed[0][k] for k in ("session_id", "reason", "cause", "mode", "is_terminal", "attempt")} == {
        "session_id": session.id,
        "reason": "RETURNING_CHAT_TIMEOUT",
        "cause": "mitra_offline",
        "mode": "targeted",
        "is_terminal": False,
        "attempt": 1,
    }
    assert world.backend.payments.get(session.payment_request_id).status is PaymentStatus.CONFIRMED


def test_targeted_mitra_whose_heartbeat_is_stale_counts_as_offline() -> None:
    world = build_world(2)

    async def scenario() -> ChatSession:
        await world.backend.scheduler.advance(world.backend.settings.heartbeat_timeout_s + 1)
        return await pay(world, targeted="mitra-0")

    session = run(scenario)
    assert session.status is SessionStatus.FAILED
    assert frames(world, "pairing_failed")[0]["cause"] == "mitra_offline"


def test_targeted_mitra_busy_in_another_session_fails_at_once_with_cause_mitra_busy() -> None:
    world = build_world(1)
    _, other = world.backend.auth.login_anonymous()

    async def scenario() -> ChatSession:
        busy = await pay(world, customer_id=other.id)
        await world.backend.pairing.accept("mitra-0", busy.id)
        return await pay(world, targeted="mitra-0")

    session = run(scenario)
    assert session.status is SessionStatus.FAILED
    assert session.failure_reason == "RETURNING_CHAT_TIMEOUT"
    assert frames(world, "pairing_failed", f"customer:{world.customer_id}")[0]["cause"] == "mitra_busy"


def test_targeted_wait_has_not_timed_out_at_19_9_seconds() -> None:
    world = build_world(2)

    async def scenario() -> ChatSession:
        session = await pay(world, targeted="mitra-0")
        await world.backend.scheduler.advance(19.9)
        return session

    session = run(scenario)
    assert world.backend.settings.targeted_timeout_s == 20.0
    assert session.status is SessionStatus.PENDING_ACCEPTANCE
    assert frames(world, "pairing_failed") == []


def test_targeted_wait_times_out_at_exactly_targeted_timeout_s_with_returning_chat_timeout() -> None:
    world = build_world(2)
    backend = world.backend

    async def scenario() -> tuple[ChatSession, bool]:
        session = await pay(world, targeted="mitra-0")
        await backend.scheduler.advance(19.9)
        still_waiting = backend.pairing.get(session.id).status is SessionStatus.PENDING_ACCEPTANCE
        await backend.scheduler.advance(session.created_at + backend.settings.targeted_timeout_s - world.now)
        return backend.pairing.get(session.id), still_waiting

    session, still_waiting = run(scenario)
    assert still_waiting
    assert world.now == session.created_at + 20.0
    assert session.status is SessionStatus.FAILED
    assert session.failure_reason == "RETURNING_CHAT_TIMEOUT"
    failed = frames(world, "pairing_failed")[0]
    assert (failed["reason"], failed["cause"], failed["is_terminal"]) == ("RETURNING_CHAT_TIMEOUT", "timeout", False)
    assert frames(world, "offer_withdrawn", "mitra:mitra-0") == [
        {"type": "offer_withdrawn", "session_id": session.id, "reason": "pairing_failed"}
    ]
    assert backend.payments.get(session.payment_request_id).status is PaymentStatus.CONFIRMED


def test_targeted_reject_fails_with_returning_chat_timeout() -> None:
    world = build_world(2)

    async def scenario() -> ChatSession:
        session = await pay(world, targeted="mitra-1")
        await world.backend.pairing.reject("mitra-1", session.id)
        return world.backend.pairing.get(session.id)

    session = run(scenario)
    assert session.status is SessionStatus.FAILED
    assert session.failure_reason == "RETURNING_CHAT_TIMEOUT"
    failed = frames(world, "pairing_failed")[0]
    assert (failed["reason"], failed["cause"], failed["mode"]) == ("RETURNING_CHAT_TIMEOUT", "all_rejected", "targeted")


def test_expire_targeted_pairing_request_fails_the_wait_like_its_timeout() -> None:
    world = build_world(1)

    async def scenario() -> ChatSession:
        session = await pay(world, targeted="mitra-0")
        return await world.backend.pairing.expire_targeted_pairing_request(session.id)

    session = run(scenario)
    assert (session.status, session.failure_reason) == (SessionStatus.FAILED, "RETURNING_CHAT_TIMEOUT")


def test_targeted_failures_are_never_terminal_and_keep_the_payment_confirmed() -> None:
    world = build_world(1)
    asyncio.run(world.backend.presence.set_online("mitra-0", False))

    async def scenario() -> list[ChatSession]:
        first = await pay(world, targeted="mitra-0")
        for _ in range(4):
            await world.backend.pairing.retry(first.payment_request_id, world.customer_id)
        return world.backend.pairing.attempts(first.payment_request_id)

    attempts = run(scenario)
    assert [(a.mode, a.status, a.attempt) for a in attempts] == [
        ("targeted", SessionStatus.FAILED, n) for n in range(1, 6)
    ]
    assert [f["is_terminal"] for f in frames(world, "pairing_failed")] == [False] * 5
    assert world.backend.payments.get(attempts[0].payment_request_id).status is PaymentStatus.CONFIRMED


def test_a_retry_once_the_paid_validity_window_is_over_is_refused_and_the_payment_ends_failed_pairing() -> None:
    world = build_world(1)
    backend = world.backend

    async def scenario() -> tuple[str | None, str | None]:
        first = await pay(world)
        await backend.pairing.reject("mitra-0", first.id)
        await backend.scheduler.advance(backend.settings.paid_validity_s - 1)
        just_before = await refusal(backend.pairing.retry(first.payment_request_id, world.customer_id))
        await backend.pairing.force_timeout(backend.pairing.attempts(first.payment_request_id)[-1])
        await backend.scheduler.advance(1)
        return just_before, await refusal(backend.pairing.retry(first.payment_request_id, world.customer_id))

    just_before, at_the_end = run(scenario)
    [payment] = backend.store.payment_requests.all()
    assert (just_before, at_the_end) == (None, "PAYMENT_EXPIRED")
    assert payment.status is PaymentStatus.FAILED_PAIRING
    assert len(backend.pairing.attempts(payment.id)) == 2  # the refused retry started no attempt


# --- cari bestie lain --------------------------------------------------------------------------------


def test_retry_with_mode_blast_clears_targeted_mitra_and_blasts_the_others_on_the_same_payment() -> None:
    world = build_world(3)
    backend = world.backend

    async def scenario() -> tuple[ChatSession, ChatSession]:
        first = await pay(world, targeted="mitra-1")
        await backend.pairing.reject("mitra-1", first.id)
        again = await backend.pairing.retry(first.payment_request_id, world.customer_id, Mode.BLAST)
        return first, again

    first, again = run(scenario)
    payment = backend.payments.get(first.payment_request_id)
    assert payment.targeted_mitra_id is None
    assert payment.status is PaymentStatus.CONFIRMED
    assert again.id != first.id
    assert again.payment_request_id == first.payment_request_id
    assert (again.mode, again.targeted_mitra_id, again.attempt) == ("blast", None, 2)
    assert again.status is SessionStatus.PENDING_ACCEPTANCE
    assert again.offered_mitra_ids == ("mitra-0", "mitra-2")  # the bestie who just said no is not asked again
    assert [s.id for s in backend.store.chat_sessions.all()] == [first.id, again.id]


def test_retry_without_mode_after_a_targeted_failure_waits_for_the_same_mitra_again() -> None:
    world = build_world(3)
    backend = world.backend

    async def scenario() -> ChatSession:
        first = await pay(world, targeted="mitra-2")
        await backend.pairing.reject("mitra-2", first.id)
        return await backend.pairing.retry(first.payment_request_id, world.customer_id)

    again = run(scenario)
    assert (again.mode, again.targeted_mitra_id, again.attempt) == ("targeted", "mitra-2", 2)
    assert again.offered_mitra_ids == ("mitra-2",)


def test_retry_of_another_customers_payment_is_not_found() -> None:
    world = build_world(1)
    _, stranger = world.backend.auth.login_anonymous()

    async def scenario() -> ChatSession:
        session = await pay(world)
        with pytest.raises(NotFound):
            await world.backend.pairing.retry(session.payment_request_id, stranger.id)
        return session

    session = run(scenario)
    assert world.backend.pairing.attempts(session.payment_request_id) == [session]


# --- blast -------------------------------------------------------------------------------------------


def test_blast_is_offered_to_every_eligible_mitra_and_not_to_offline_ones() -> None:
    world = build_world(4, online=3)
    session = run(lambda: pay(world))
    assert session.mode == "blast"
    assert session.offered_mitra_ids == ("mitra-0", "mitra-1", "mitra-2")
    assert sorted(offered_to(world, session.id)) == ["mitra:mitra-0", "mitra:mitra-1", "mitra:mitra-2"]


def test_blast_is_still_pending_just_before_the_pairing_timeout() -> None:
    world = build_world(2)

    async def scenario() -> ChatSession:
        session = await pay(world)
        await world.backend.scheduler.advance(299)
        return session

    assert run(scenario).status is SessionStatus.PENDING_ACCEPTANCE


def test_blast_times_out_at_300_s_with_pairing_failed_and_is_not_terminal() -> None:
    world = build_world(2)
    backend = world.backend

    async def scenario() -> ChatSession:
        session = await pay(world)
        await backend.scheduler.advance(backend.settings.pairing_timeout_s)
        return backend.pairing.get(session.id)

    session = run(scenario)
    assert backend.settings.pairing_timeout_s == 300.0
    assert world.now == session.created_at + 300.0
    assert (session.status, session.failure_reason) == (SessionStatus.FAILED, "PAIRING_FAILED")
    failed = frames(world, "pairing_failed")
    assert len(failed) == 1
    assert {k: failed[0][k] for k in ("reason", "cause", "mode", "is_terminal", "attempt", "max_attempts")} == {
        "reason": "PAIRING_FAILED",
        "cause": "timeout",
        "mode": "blast",
        "is_terminal": False,
        "attempt": 1,
        "max_attempts": 3,
    }
    assert sorted(s["to"] for s in backend.hub.sent if s["frame"]["type"] == "offer_withdrawn") == [
        "mitra:mitra-0",
        "mitra:mitra-1",
    ]
    assert backend.payments.get(session.payment_request_id).status is PaymentStatus.CONFIRMED


def test_blast_with_nobody_online_stays_searching_until_the_timeout() -> None:
    world = build_world(2, online=0)
    backend = world.backend

    async def scenario() -> tuple[SessionStatus, ChatSession]:
        session = await pay(world)
        await backend.scheduler.advance(299)
        before = backend.pairing.get(session.id).status
        await backend.scheduler.advance(1)
        return before, backend.pairing.get(session.id)

    before, session = run(scenario)
    assert before is SessionStatus.SEARCHING
    assert session.status is SessionStatus.FAILED
    assert frames(world, "pairing_failed")[0]["cause"] == "timeout"


def test_after_max_pairing_attempts_failed_blasts_pairing_is_terminal_and_the_payment_failed_pairing() -> None:
    world = build_world(2)
    backend = world.backend

    async def scenario() -> tuple[list[ChatSession], list[PaymentStatus], Conflict]:
        first = await pay(world)
        payment_id = first.payment_request_id
        statuses = []
        for attempt in range(backend.settings.max_pairing_attempts):
            if attempt:
                await backend.pairing.retry(payment_id, world.customer_id)
            await backend.scheduler.advance(backend.settings.pairing_timeout_s)
            statuses.append(backend.payments.get(payment_id).status)
        with pytest.raises(Conflict) as caught:
            await backend.pairing.retry(payment_id, world.customer_id)
        return backend.pairing.attempts(payment_id), statuses, caught.value

    attempts, statuses, refused = run(scenario)
    assert backend.settings.max_pairing_attempts == 3
    assert [(a.attempt, a.status, a.failure_reason) for a in attempts] == [
        (n, SessionStatus.FAILED, "PAIRING_FAILED") for n in (1, 2, 3)
    ]
    assert [f["is_terminal"] for f in frames(world, "pairing_failed")] == [False, False, True]
    assert statuses == [PaymentStatus.CONFIRMED, PaymentStatus.CONFIRMED, PaymentStatus.FAILED_PAIRING]
    assert refused.code == "PAYMENT_NOT_CONFIRMED"
    assert backend.payments.pending_for_customer(world.customer_id) == []
    assert [e["event"] for e in backend.deps.bus.history].count("payment_request.failed_pairing") == 1


def test_all_rejected_blasts_count_toward_max_attempts_like_timeouts() -> None:
    world = build_world(2)
    backend = world.backend

    async def scenario() -> ChatSession:
        session = await pay(world)
        for n in range(backend.settings.max_pairing_attempts):
            if n:
                session = await backend.pairing.retry(session.payment_request_id, world.customer_id)
            for mitra_id in world.mitra_ids:
                await backend.pairing.reject(mitra_id, session.id)
        return session

    last = run(scenario)
    assert [f["is_terminal"] for f in frames(world, "pairing_failed")] == [False, False, True]
    assert backend.payments.get(last.payment_request_id).status is PaymentStatus.FAILED_PAIRING


def test_retry_while_an_attempt_is_in_flight_returns_that_attempt_without_a_second() -> None:
    world = build_world(2)
    backend = world.backend

    async def scenario() -> tuple[ChatSession, ChatSession, ChatSession]:
        first = await pay(world)
        same = await backend.pairing.retry(first.payment_request_id, world.customer_id)
        blast = await backend.pairing.retry(first.payment_request_id, world.customer_id, Mode.BLAST)
        return first, same, blast

    first, same, blast = run(scenario)
    assert first is same is blast
    assert len(backend.store.chat_sessions.all()) == 1
    assert len(frames(world, "pairing_searching")) == 1
    assert len(frames(world, "pairing_offer")) == 2
    assert [t.name for t in backend.scheduler.pending()] == ["pairing_timeout"]


def test_retry_with_mode_blast_while_a_targeted_wait_is_in_flight_keeps_the_wait() -> None:
    world = build_world(2)
    backend = world.backend

    async def scenario() -> tuple[ChatSession, ChatSession]:
        first = await pay(world, targeted="mitra-0")
        return first, await backend.pairing.retry(first.payment_request_id, world.customer_id, Mode.BLAST)

    first, again = run(scenario)
    assert again is first
    assert again.mode == "targeted"
    assert backend.payments.get(first.payment_request_id).targeted_mitra_id == "mitra-0"


def test_retry_after_a_match_returns_the_matched_session() -> None:
    world = build_world(1)
    backend = world.backend

    async def scenario() -> tuple[ChatSession, ChatSession]:
        first = await pay(world)
        await backend.pairing.accept("mitra-0", first.id)
        return first, await backend.pairing.retry(first.payment_request_id, world.customer_id)

    first, again = run(scenario)
    assert again == backend.pairing.get(first.id) and again.status is SessionStatus.ACTIVE
    assert len(backend.store.chat_sessions.all()) == 1


def test_mitra_coming_online_is_offered_a_searching_blast_but_not_a_targeted_wait_for_someone_else() -> None:
    world = build_world(2, online=1)  # mitra-0 online, mitra-1 offline
    backend = world.backend
    _, other = backend.auth.login_anonymous()

    async def scenario() -> tuple[ChatSession, ChatSession]:
        targeted = await pay(world, targeted="mitra-0")
        blast = await pay(world, customer_id=other.id)
        await backend.presence.set_online("mitra-1", True)
        await backend.pairing.mitra_available("mitra-1")
        return backend.pairing.get(targeted.id), backend.pairing.get(blast.id)

    targeted, blast = run(scenario)
    assert targeted.offered_mitra_ids == ("mitra-0",)
    assert blast.offered_mitra_ids == ("mitra-0", "mitra-1")
    assert offered_to(world, blast.id) == ["mitra:mitra-0", "mitra:mitra-1"]
    assert offered_to(world, targeted.id) == ["mitra:mitra-0"]


def test_mitra_coming_online_is_offered_a_blast_that_was_searching_with_nobody() -> None:
    world = build_world(1, online=0)
    backend = world.backend

    async def scenario() -> tuple[SessionStatus, ChatSession]:
        blast = await pay(world)
        before = blast.status
        await backend.presence.set_online("mitra-0", True)
        await backend.pairing.mitra_available("mitra-0")
        await backend.pairing.mitra_available("mitra-0")  # twice: offered once
        return before, backend.pairing.get(blast.id)

    before, blast = run(scenario)
    assert before is SessionStatus.SEARCHING
    assert blast.status is SessionStatus.PENDING_ACCEPTANCE
    assert blast.offered_mitra_ids == ("mitra-0",)
    assert offered_to(world, blast.id) == ["mitra:mitra-0"]


def test_mitra_available_does_nothing_for_a_mitra_that_is_not_online() -> None:
    world = build_world(1, online=0)
    backend = world.backend

    async def scenario() -> ChatSession:
        blast = await pay(world)
        await backend.pairing.mitra_available("mitra-0")
        return backend.pairing.get(blast.id)

    blast = run(scenario)
    assert blast.status is SessionStatus.SEARCHING and blast.offered_mitra_ids == ()


def test_mitra_available_does_not_reoffer_a_blast_the_mitra_declined() -> None:
    world = build_world(2)
    backend = world.backend

    async def scenario() -> ChatSession:
        blast = await pay(world)
        await backend.pairing.reject("mitra-0", blast.id)
        await backend.pairing.mitra_available("mitra-0")
        return backend.pairing.get(blast.id)

    blast = run(scenario)
    assert offered_to(world, blast.id) == ["mitra:mitra-0", "mitra:mitra-1"]
    assert blast.status is SessionStatus.PENDING_ACCEPTANCE


def test_attempt_numbers_increase_across_retries_of_one_payment() -> None:
    world = build_world(2)
    backend = world.backend

    async def scenario() -> list[ChatSession]:
        first = await pay(world, targeted="mitra-1")
        await backend.pairing.reject("mitra-1", first.id)
        await backend.pairing.retry(first.payment_request_id, world.customer_id, Mode.BLAST)
        await backend.scheduler.advance(backend.settings.pairing_timeout_s)
        for mitra_id in world.mitra_ids:  # still on shift: heartbeats fresh after the long wait
            await backend.presence.heartbeat(mitra_id)
        third = await backend.pairing.retry(first.payment_request_id, world.customer_id)
        await backend.pairing.accept("mitra-0", third.id)
        return backend.pairing.attempts(first.payment_request_id)

    attempts = run(scenario)
    assert [(a.attempt, a.mode, a.status) for a in attempts] == [
        (1, "targeted", SessionStatus.FAILED),
        (2, "blast", SessionStatus.FAILED),
        (3, "blast", SessionStatus.ACTIVE),
    ]
    assert [f["attempt"] for f in frames(world, "pairing_searching")] == [1, 2, 3]
    assert [f["attempt"] for f in frames(world, "pairing_failed")] == [1, 2]


def test_attempt_numbers_are_per_payment() -> None:
    world = build_world(1)

    async def scenario() -> tuple[ChatSession, ChatSession]:
        return await pay(world), await pay(world)

    first, second = run(scenario)
    assert (first.attempt, second.attempt) == (1, 1)


def test_a_mitra_in_an_active_session_cannot_win_a_second_offer() -> None:
    world = build_world(1)
    backend = world.backend
    _, other = backend.auth.login_anonymous()

    async def scenario() -> tuple[ChatSession, ChatSession, Conflict | None]:
        first = await pay(world)
        second = await pay(world, customer_id=other.id)
        assert first.offered_mitra_ids == second.offered_mitra_ids == ("mitra-0",)
        await backend.pairing.accept("mitra-0", first.id)
        try:
            await backend.pairing.accept("mitra-0", second.id)
        except Conflict as refused:
            return backend.pairing.get(first.id), backend.pairing.get(second.id), refused
        return backend.pairing.get(first.id), backend.pairing.get(second.id), None

    first, second, refused = run(scenario)
    assert refused is not None and refused.code == "OFFER_WITHDRAWN"  # winning withdrew its other offers
    assert first.status is SessionStatus.ACTIVE
    assert second.status is not SessionStatus.ACTIVE
    assert len(backend.store.chat_sessions.find(mitra_id="mitra-0", status=SessionStatus.ACTIVE)) == 1


# --- withdrawn offers ----------------------------------------------------------------------------


async def refusal(aw: Awaitable[Any]) -> str | None:
    """The Conflict code ``aw`` is refused with, or None when it went through."""
    try:
        await aw
    except Conflict as refused:
        return refused.code
    return None


def test_a_mitra_going_offline_loses_its_offer_until_it_is_available_again() -> None:
    world = build_world(2)
    backend = world.backend

    async def scenario() -> tuple[str | None, str | None]:
        blast = await pay(world)
        await backend.presence.set_online("mitra-0", False)
        while_offline = await refusal(backend.pairing.accept("mitra-0", blast.id))
        await backend.presence.set_online("mitra-0", True)  # mitra.available re-offers it
        return while_offline, await refusal(backend.pairing.accept("mitra-0", blast.id))

    while_offline, once_back = run(scenario)
    blast = backend.store.chat_sessions.all()[0]
    assert (while_offline, once_back) == ("OFFER_WITHDRAWN", None)
    assert frames(world, "offer_withdrawn", "mitra:mitra-0") == [
        {"type": "offer_withdrawn", "session_id": blast.id, "reason": "mitra_offline"}
    ]
    assert offered_to(world, blast.id) == ["mitra:mitra-0", "mitra:mitra-1", "mitra:mitra-0"]
    assert (blast.status, blast.mitra_id, blast.withdrawn_mitra_ids) == (SessionStatus.ACTIVE, "mitra-0", ())


def test_a_blast_the_mitra_declined_is_not_offered_again_when_it_comes_back_online() -> None:
    world = build_world(2)
    backend = world.backend

    async def scenario() -> ChatSession:
        blast = await pay(world)
        await backend.pairing.reject("mitra-0", blast.id)
        await backend.presence.set_online("mitra-0", False)
        await backend.presence.set_online("mitra-0", True)
        return backend.pairing.get(blast.id)

    blast = run(scenario)
    assert offered_to(world, blast.id) == ["mitra:mitra-0", "mitra:mitra-1"]
    assert frames(world, "offer_withdrawn") == []  # a declined offer is no live offer to withdraw


def test_winning_withdraws_the_mitras_other_offers_and_its_session_end_offers_them_again() -> None:
    world = build_world(1)
    backend = world.backend
    _, other = backend.auth.login_anonymous()

    async def scenario() -> tuple[ChatSession, str | None]:
        first = await pay(world)
        second = await pay(world, customer_id=other.id)
        await backend.pairing.accept("mitra-0", first.id)
        await backend.sessions.end(first.id, "ended_by_customer")
        return second, await refusal(backend.pairing.accept("mitra-0", second.id))

    second, refused = run(scenario)
    assert frames(world, "offer_withdrawn", "mitra:mitra-0") == [
        {"type": "offer_withdrawn", "session_id": second.id, "reason": "mitra_busy"}
    ]
    assert offered_to(world, second.id) == ["mitra:mitra-0", "mitra:mitra-0"]
    assert refused is None and backend.pairing.get(second.id).mitra_id == "mitra-0"


def test_a_reject_is_refused_as_taken_closed_or_not_offered() -> None:
    world = build_world(2)
    backend = world.backend
    backend.store.mitras.insert(Mitra(id="late", phone="+6289900001", display_name="Late", password="pw"))
    _, other = backend.auth.login_anonymous()

    async def scenario() -> list[str | None]:
        taken = await pay(world)
        await backend.pairing.accept("mitra-0", taken.id)
        failed = await pay(world, customer_id=other.id)
        await backend.scheduler.advance(backend.settings.pairing_timeout_s)
        return [
            await refusal(backend.pairing.reject("mitra-1", taken.id)),
            await refusal(backend.pairing.reject("mitra-1", failed.id)),
            await refusal(backend.pairing.reject("late", taken.id)),
        ]

    assert run(scenario) == ["OFFER_TAKEN", "CLOSED", "NOT_OFFERED"]


def test_a_failed_attempt_withdraws_every_live_offer_decliners_included_but_not_twice() -> None:
    world = build_world(3)
    backend = world.backend

    async def scenario() -> ChatSession:
        blast = await pay(world)
        await backend.pairing.reject("mitra-0", blast.id)
        await backend.presence.set_online("mitra-1", False)
        await backend.scheduler.advance(backend.settings.pairing_timeout_s)
        return blast

    blast = run(scenario)
    withdrawn = [(s["to"], s["frame"]["reason"]) for s in backend.hub.sent if s["frame"]["type"] == "offer_withdrawn"]
    assert withdrawn == [
        ("mitra:mitra-1", "mitra_offline"),
        ("mitra:mitra-0", "pairing_failed"),
        ("mitra:mitra-2", "pairing_failed"),
    ]
    assert backend.pairing.get(blast.id).status is SessionStatus.FAILED


def test_a_heartbeat_announces_the_mitra_available_only_when_it_brings_it_back_from_a_lapse() -> None:
    world = build_world(1)
    backend = world.backend

    def announced() -> int:
        return [e["event"] for e in backend.deps.bus.history].count("mitra.available")

    async def scenario() -> list[int]:
        counts = [announced()]
        await backend.presence.heartbeat("mitra-0")  # fresh already
        counts.append(announced())
        await backend.scheduler.advance(backend.settings.heartbeat_timeout_s + 1)
        await backend.presence.heartbeat("mitra-0")  # back from the lapse
        counts.append(announced())
        await backend.presence.set_online("mitra-0", False)
        await backend.scheduler.advance(backend.settings.heartbeat_timeout_s + 1)
        await backend.presence.heartbeat("mitra-0")  # toggled off: a heartbeat does not bring it back
        counts.append(announced())
        return counts

    assert run(scenario) == [1, 1, 2, 2]
