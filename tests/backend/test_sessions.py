"""The clock of an active chat session: ticks, the warning, the end, early goodbyes and resume (virtual clock)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from halo_sim.backend.config import Settings
from halo_sim.backend.services.chat import SESSION_ENDED
from halo_sim.backend.services.deps import TIMER_OWNER, Principal
from halo_sim.backend.state import ReferenceBackend
from halo_sim.backend.tables import ChatSession, Mitra
from halo_sim.domain.pairing import SessionStatus
from simkit.clock import VirtualClock
from simkit.errors import Conflict
from simkit.scheduler import Scheduler

T = TypeVar("T")
SESSION_FRAMES = ("session_tick", "session_warning", "session_ended")


@dataclass
class World:
    backend: ReferenceBackend
    customer_id: str
    mitra_id: str
    session_id: str

    @property
    def session(self) -> ChatSession:
        """The session as stored now (rows are frozen snapshots: a kept one would go stale)."""
        return self.backend.pairing.get(self.session_id)

    @property
    def customer(self) -> Principal:
        return Principal("customer", self.customer_id)

    @property
    def mitra(self) -> Principal:
        return Principal("mitra", self.mitra_id)

    @property
    def now(self) -> float:
        return self.backend.deps.now()

    def frames(self, kind: str, to: Principal | None = None) -> list[dict[str, Any]]:
        return [
            s["frame"]
            for s in self.backend.hub.sent
            if s["frame"]["type"] == kind and (to is None or s["to"] == f"{to.role}:{to.id}")
        ]

    def session_frames(self) -> list[tuple[str, str]]:
        """(recipient, frame type) of every clock frame, in order."""
        return [(s["to"], s["frame"]["type"]) for s in self.backend.hub.sent if s["frame"]["type"] in SESSION_FRAMES]


def run(coro_fn: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await coro_fn()

    return asyncio.run(main())


def active_world(duration_minutes: int = 15, settings: Settings | None = None) -> World:
    """One customer and one online mitra, matched: the session is active from the clock's now."""
    settings = settings or Settings(env="test", fcm_base_url="http://127.0.0.1:9")
    backend = ReferenceBackend(settings, Scheduler(VirtualClock()))
    _, customer = backend.auth.login_anonymous()
    backend.auth.set_display_name(customer.id, "Ayu")
    backend.store.mitras.insert(Mitra(id="mitra-0", phone="+6281100099001", display_name="Rani", password="pw"))
    asyncio.run(backend.presence.set_online("mitra-0", True))

    async def match() -> ChatSession:
        payment = await backend.payments.request_payment(customer.id, duration_minutes)
        await backend.payments.confirm_payment(payment.id, "test")
        session = backend.pairing.current_session(payment.id)
        assert session is not None
        return await backend.pairing.accept("mitra-0", session.id)

    session = run(match)
    return World(backend, customer.id, "mitra-0", session.id)


def test_accept_makes_the_session_active_for_its_duration() -> None:
    world = active_world(30)
    session = world.session
    assert session.status is SessionStatus.ACTIVE
    assert session.started_at == world.now
    assert session.ends_at == world.now + 30 * 60
    assert sorted(t.name for t in world.backend.scheduler.pending()) == [
        "pairing_timeout",
        "session_end",
        "session_tick",
    ]


def test_one_second_after_accept_both_get_a_session_tick_with_duration_minus_one_second_left() -> None:
    world = active_world(15)
    run(lambda: world.backend.scheduler.advance(1))
    expected = {"type": "session_tick", "session_id": world.session.id, "remaining_seconds": 15 * 60 - 1}
    assert world.frames("session_tick", world.customer) == [expected]
    assert world.frames("session_tick", world.mitra) == [expected]


def test_ticks_count_down_once_a_second() -> None:
    world = active_world(15)
    run(lambda: world.backend.scheduler.advance(5))
    assert [f["remaining_seconds"] for f in world.frames("session_tick", world.customer)] == [899, 898, 897, 896, 895]
    assert [f["remaining_seconds"] for f in world.frames("session_tick", world.mitra)] == [899, 898, 897, 896, 895]


def test_no_tick_before_the_first_second_has_passed() -> None:
    world = active_world(15)
    run(lambda: world.backend.scheduler.advance(0.5))
    assert world.frames("session_tick") == []


def test_session_warning_comes_exactly_when_session_warning_s_are_left() -> None:
    world = active_world(15)
    backend = world.backend
    warning_s = backend.settings.session_warning_s
    ends_at = world.session.ends_at
    assert ends_at is not None and warning_s == 60

    async def scenario() -> tuple[list[dict[str, Any]], float]:
        await backend.scheduler.advance(ends_at - warning_s - 1 - world.now)
        before = world.frames("session_warning")
        await backend.scheduler.advance(1)
        return before, world.now

    before, at = run(scenario)
    assert before == []
    assert at == ends_at - warning_s
    expected = {"type": "session_warning", "session_id": world.session.id, "remaining_seconds": warning_s}
    assert world.frames("session_warning", world.customer) == [expected]
    assert world.frames("session_warning", world.mitra) == [expected]
    # the warning follows that second's tick
    last = [(s["to"], s["frame"]["type"], s["frame"]["remaining_seconds"]) for s in list(backend.hub.sent)[-4:]]
    assert last == [
        (f"customer:{world.customer_id}", "session_tick", 60),
        (f"mitra:{world.mitra_id}", "session_tick", 60),
        (f"customer:{world.customer_id}", "session_warning", 60),
        (f"mitra:{world.mitra_id}", "session_warning", 60),
    ]


def test_session_warning_is_sent_once_per_participant_over_the_whole_session() -> None:
    world = active_world(15)
    run(lambda: world.backend.scheduler.advance(15 * 60 + 30))
    assert len(world.frames("session_warning", world.customer)) == 1
    assert len(world.frames("session_warning", world.mitra)) == 1


def test_session_ends_with_time_over_at_ends_at_and_no_tick_follows() -> None:
    world = active_world(15)
    backend = world.backend
    ends_at = world.session.ends_at
    assert ends_at is not None

    async def scenario() -> tuple[SessionStatus, int]:
        await backend.scheduler.advance(ends_at - 1 - world.now)
        before = world.session.status
        await backend.scheduler.advance(1)
        return before, len(backend.hub.sent)

    before, sent_at_end = run(scenario)
    assert before is SessionStatus.ACTIVE
    session = world.session
    assert session.status is SessionStatus.ENDED
    assert (session.ended_at, session.end_reason) == (ends_at, "time_over")
    ended = {"type": "session_ended", "session_id": session.id, "reason": "time_over"}
    assert world.frames("session_ended", world.customer) == [ended]
    assert world.frames("session_ended", world.mitra) == [ended]
    kinds = world.session_frames()
    assert kinds[-2:] == [
        (f"customer:{world.customer_id}", "session_ended"),
        (f"mitra:{world.mitra_id}", "session_ended"),
    ]
    assert all(kind == "session_tick" for _, kind in kinds[:-2] if kind != "session_warning")
    ticks = world.frames("session_tick", world.customer)
    assert [f["remaining_seconds"] for f in ticks] == list(range(899, 0, -1))
    assert "session_tick" not in [t.name for t in backend.scheduler.pending()]

    run(lambda: backend.scheduler.advance(120))
    assert len(backend.hub.sent) == sent_at_end
    assert backend.scheduler.errors == []


def test_end_by_the_mitra_ends_the_session_as_ended_by_mitra_and_stops_the_clock() -> None:
    world = active_world(15)
    backend = world.backend

    async def scenario() -> ChatSession:
        await backend.scheduler.advance(10)
        ended = await backend.sessions.end_by(world.session, world.mitra)
        await backend.scheduler.advance(15 * 60)
        return ended

    ended = run(scenario)
    assert ended == world.session
    assert (ended.status, ended.end_reason) == (SessionStatus.ENDED, "ended_by_mitra")
    assert ended.ended_at == ended.started_at + 10  # type: ignore[operator]
    frame = {"type": "session_ended", "session_id": ended.id, "reason": "ended_by_mitra"}
    assert world.frames("session_ended", world.customer) == [frame]
    assert world.frames("session_ended", world.mitra) == [frame]
    assert len(world.frames("session_tick", world.customer)) == 10
    assert backend.scheduler.errors == []


def test_end_by_the_customer_ends_the_session_as_ended_by_customer() -> None:
    world = active_world(15)
    ended = run(lambda: world.backend.sessions.end_by(world.session, world.customer))
    assert (ended.status, ended.end_reason) == (SessionStatus.ENDED, "ended_by_customer")
    assert [f["reason"] for f in world.frames("session_ended")] == ["ended_by_customer", "ended_by_customer"]


@pytest.mark.parametrize("second", ["customer", "mitra"])
def test_a_second_end_by_is_conflict_session_ended(second: str) -> None:
    world = active_world(15)
    backend = world.backend

    async def scenario() -> Conflict:
        await backend.sessions.end_by(world.session, world.customer)
        with pytest.raises(Conflict) as caught:
            await backend.sessions.end_by(world.session, getattr(world, second))
        return caught.value

    refused = run(scenario)
    assert (refused.code, refused.message, refused.status_code) == ("SESSION_ENDED", "Sesi sudah berakhir", 409)
    assert world.session.end_reason == "ended_by_customer"
    assert len(world.frames("session_ended")) == 2


def test_end_by_after_time_over_is_conflict_session_ended() -> None:
    world = active_world(15)
    backend = world.backend

    async def scenario() -> str:
        await backend.scheduler.advance(15 * 60)
        with pytest.raises(Conflict) as caught:
            await backend.sessions.end_by(world.session, world.mitra)
        return caught.value.code

    assert run(scenario) == "SESSION_ENDED"
    assert world.session.end_reason == "time_over"


def test_end_of_an_already_ended_session_changes_nothing() -> None:
    world = active_world(15)
    backend = world.backend

    async def scenario() -> ChatSession:
        await backend.sessions.end(world.session.id, "time_over")
        return await backend.sessions.end(world.session.id, "ended_by_mitra")

    again = run(scenario)
    assert again.end_reason == "time_over"
    assert len(world.frames("session_ended")) == 2


def test_mitra_busy_during_the_session_is_eligible_again_after_end_by() -> None:
    world = active_world(15)
    backend = world.backend
    assert world.mitra_id not in backend.presence.eligible()
    run(lambda: backend.sessions.end_by(world.session, world.customer))
    assert backend.presence.eligible() == [world.mitra_id]


def test_mitra_is_eligible_again_after_time_over_once_its_heartbeat_is_fresh() -> None:
    world = active_world(15)
    backend = world.backend
    run(lambda: backend.scheduler.advance(15 * 60))
    assert world.session.status is SessionStatus.ENDED
    assert backend.presence.eligible() == []  # no heartbeat for 15 minutes
    asyncio.run(backend.presence.heartbeat(world.mitra_id))
    assert backend.presence.eligible() == [world.mitra_id]


@pytest.mark.parametrize("sender", ["customer", "mitra"])
def test_chat_send_after_end_is_conflict_sesi_sudah_berakhir(sender: str) -> None:
    world = active_world(15)
    backend = world.backend

    async def scenario() -> Conflict:
        await backend.chat.send(world.session.id, getattr(world, sender), "halo")
        await backend.sessions.end_by(world.session, world.customer)
        with pytest.raises(Conflict) as caught:
            await backend.chat.send(world.session.id, getattr(world, sender), "masih di sana?")
        return caught.value

    refused = run(scenario)
    assert (refused.code, refused.message) == ("SESSION_ENDED", SESSION_ENDED)
    assert SESSION_ENDED == "Sesi sudah berakhir"
    assert [m.text for m in backend.store.chat_messages.all()] == ["halo"]


def test_chat_send_after_time_over_is_conflict_sesi_sudah_berakhir() -> None:
    world = active_world(15)
    backend = world.backend

    async def scenario() -> str:
        await backend.scheduler.advance(15 * 60 + 1)
        with pytest.raises(Conflict) as caught:
            await backend.chat.send(world.session.id, world.customer, "halo")
        return caught.value.message

    assert run(scenario) == "Sesi sudah berakhir"


def test_resume_after_losing_the_backend_timers_rearms_ticks_and_the_end() -> None:
    world = active_world(15)
    backend = world.backend
    ends_at = world.session.ends_at
    assert ends_at is not None

    async def scenario() -> tuple[int, int]:
        await backend.scheduler.advance(100)
        backend.scheduler.clear(owner=TIMER_OWNER)  # what a restore leaves: rows, but no timers
        assert backend.scheduler.pending() == []
        ticks_before = len(world.frames("session_tick", world.customer))
        await backend.scheduler.advance(5)
        silent = len(world.frames("session_tick", world.customer)) - ticks_before
        backend.sessions.resume()
        await backend.scheduler.advance(ends_at - world.now)
        return ticks_before, silent

    ticks_before, silent = run(scenario)
    assert ticks_before == 100
    assert silent == 0  # nothing ticks until resume() re-arms the clock
    ticks = [f["remaining_seconds"] for f in world.frames("session_tick", world.customer)]
    assert ticks[:ticks_before] == list(range(899, 799, -1))
    assert ticks[ticks_before:] == list(range(794, 0, -1))  # resumed 105 s in: the next tick says 794 s left
    assert world.session.status is SessionStatus.ENDED
    assert (world.session.ended_at, world.session.end_reason) == (ends_at, "time_over")
    assert len(world.frames("session_warning", world.mitra)) == 1
    assert backend.scheduler.errors == []


def test_resume_leaves_ended_sessions_alone() -> None:
    world = active_world(15)
    backend = world.backend
    run(lambda: backend.sessions.end_by(world.session, world.mitra))
    backend.scheduler.clear(owner=TIMER_OWNER)
    backend.sessions.resume()
    assert backend.scheduler.pending() == []


def test_resume_timers_also_rearms_the_pairing_timeout_of_a_session_still_searching() -> None:
    backend = ReferenceBackend(Settings(env="test", fcm_base_url="http://127.0.0.1:9"), Scheduler(VirtualClock()))
    _, customer = backend.auth.login_anonymous()

    async def scenario() -> ChatSession:
        payment = await backend.payments.request_payment(customer.id, 15)
        await backend.payments.confirm_payment(payment.id, "test")
        backend.scheduler.clear(owner=TIMER_OWNER)
        backend.pairing.resume_timers()
        session = backend.pairing.current_session(payment.id)
        assert session is not None
        await backend.scheduler.advance(backend.settings.pairing_timeout_s)
        return backend.pairing.get(session.id)

    session = run(scenario)
    assert (session.status, session.failure_reason) == (SessionStatus.FAILED, "PAIRING_FAILED")


def searching_world(mitra_online: bool) -> tuple[ReferenceBackend, Principal, ChatSession]:
    """A confirmed payment whose attempt nobody accepted yet: searching (no mitra) or pending_acceptance."""
    backend = ReferenceBackend(Settings(env="test", fcm_base_url="http://127.0.0.1:9"), Scheduler(VirtualClock()))
    _, customer = backend.auth.login_anonymous()
    backend.store.mitras.insert(Mitra(id="mitra-0", phone="+6281100099001", display_name="Rani", password="pw"))
    asyncio.run(backend.presence.set_online("mitra-0", mitra_online))

    async def start() -> ChatSession:
        payment = await backend.payments.request_payment(customer.id, 15)
        await backend.payments.confirm_payment(payment.id, "test")
        session = backend.pairing.current_session(payment.id)
        assert session is not None
        return session

    return backend, Principal("customer", customer.id), run(start)


@pytest.mark.parametrize(("mitra_online", "status"), [(False, "searching"), (True, "pending_acceptance")])
def test_chat_send_before_a_mitra_accepts_is_conflict_session_not_started(mitra_online: bool, status: str) -> None:
    backend, customer, session = searching_world(mitra_online)
    assert session.status == status

    async def scenario() -> Conflict:
        with pytest.raises(Conflict) as caught:
            await backend.chat.send(session.id, customer, "ada orang?")
        return caught.value

    refused = run(scenario)
    assert (refused.code, refused.message, refused.status_code) == ("SESSION_NOT_STARTED", "Sesi belum dimulai", 409)
    assert backend.store.chat_messages.all() == []


def test_end_by_before_a_mitra_accepts_is_conflict_session_not_started_and_pairing_goes_on() -> None:
    backend, customer, session = searching_world(False)

    async def scenario() -> str:
        with pytest.raises(Conflict) as caught:
            await backend.sessions.end_by(session, customer)
        return caught.value.code

    assert run(scenario) == "SESSION_NOT_STARTED"
    assert backend.store.chat_sessions.require(session.id, "chat_session").status is SessionStatus.SEARCHING
