"""The blast and its accept race, driven through the services (no sockets, virtual clock)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from halo_sim.backend.config import Settings
from halo_sim.backend.state import ReferenceBackend
from halo_sim.backend.tables import ChatSession, Mitra
from halo_sim.domain.pairing import SessionStatus
from halo_sim.domain.payment import PaymentStatus
from simkit.clock import VirtualClock
from simkit.errors import Conflict
from simkit.scheduler import Scheduler

N_MITRAS = 10


@dataclass
class World:
    backend: ReferenceBackend
    customer_id: str
    mitra_ids: list[str]
    payment_id: str


def make_backend() -> ReferenceBackend:
    return ReferenceBackend(Settings(env="test", fcm_base_url="http://127.0.0.1:9"), Scheduler(VirtualClock()))


def build_world(n: int = N_MITRAS) -> World:
    """A customer with a pending payment and ``n`` mitras online (logged in, no sockets, no devices)."""
    backend = make_backend()
    _, customer = backend.auth.login_anonymous()
    backend.auth.set_display_name(customer.id, "Ayu")
    mitra_ids = []
    for i in range(n):
        phone = f"+62811000{i:04d}"
        backend.store.insert(
            "mitras", Mitra(id=f"mitra-{i:02d}", phone=phone, display_name=f"Bestie {i}", password="pw")
        )
        _, mitra = backend.auth.mitra_login(phone, "pw")
        asyncio.run(backend.presence.set_online(mitra.id, True))
        mitra_ids.append(mitra.id)
    payment = asyncio.run(backend.payments.request_payment(customer.id, 15))
    return World(backend, customer.id, mitra_ids, payment.id)


def sessions(backend: ReferenceBackend) -> list[ChatSession]:
    return backend.store.chat_sessions.all()


def searching_frames(backend: ReferenceBackend) -> list[dict[str, object]]:
    return [s for s in backend.hub.sent if s["frame"]["type"] == "pairing_searching"]


async def confirm(world: World) -> ChatSession:
    await world.backend.payments.confirm_payment(world.payment_id, "test")
    session = world.backend.pairing.current_session(world.payment_id)
    assert session is not None
    return session


def test_confirming_a_payment_blasts_to_every_online_mitra() -> None:
    world = build_world()
    session = asyncio.run(confirm(world))
    assert session.status is SessionStatus.PENDING_ACCEPTANCE
    assert session.offered_mitra_ids == tuple(world.mitra_ids)
    assert world.backend.payments.get(world.payment_id).status is PaymentStatus.CONFIRMED
    assert [t.name for t in world.backend.scheduler.pending()] == ["pairing_timeout"]


def test_ten_concurrent_accepts_have_exactly_one_winner() -> None:
    world = build_world()

    async def race() -> tuple[ChatSession, list[object]]:
        session = await confirm(world)
        results = await asyncio.gather(
            *(world.backend.pairing.accept(m, session.id) for m in world.mitra_ids), return_exceptions=True
        )
        return world.backend.pairing.get(session.id), list(results)

    session, results = asyncio.run(race())
    winners = [(m, r) for m, r in zip(world.mitra_ids, results) if isinstance(r, ChatSession)]
    losers = [r for r in results if not isinstance(r, ChatSession)]
    assert len(winners) == 1
    winner_id, won = winners[0]
    assert won == session
    assert len(losers) == N_MITRAS - 1
    assert all(isinstance(r, Conflict) and r.code == "OFFER_TAKEN" for r in losers)
    assert session.status is SessionStatus.ACTIVE
    assert session.mitra_id == winner_id
    assert session.started_at == world.backend.deps.now()
    assert session.ends_at == session.started_at + 15 * 60
    assert world.backend.payments.get(world.payment_id).status is PaymentStatus.CONSUMED
    assert len(sessions(world.backend)) == 1


def test_winner_is_announced_and_losers_told_offer_taken() -> None:
    world = build_world(3)

    async def run() -> ChatSession:
        session = await confirm(world)
        return await world.backend.pairing.accept(world.mitra_ids[1], session.id)

    session = asyncio.run(run())
    sent = [(s["to"], s["frame"]["type"]) for s in world.backend.hub.sent]
    assert (f"customer:{world.customer_id}", "pairing_matched") in sent
    assert (f"mitra:{world.mitra_ids[1]}", "offer_accepted") in sent
    assert {to for to, kind in sent if kind == "offer_taken"} == {
        f"mitra:{world.mitra_ids[0]}",
        f"mitra:{world.mitra_ids[2]}",
    }
    assert session.mitra_id == world.mitra_ids[1]


def test_accept_by_a_mitra_not_offered_is_not_offered() -> None:
    world = build_world(2)
    world.backend.store.mitras.insert(Mitra(id="late", phone="+62899", display_name="Late", password="pw"))

    async def run() -> Conflict:
        session = await confirm(world)
        with pytest.raises(Conflict) as caught:
            await world.backend.pairing.accept("late", session.id)
        return caught.value

    error = asyncio.run(run())
    assert error.code == "NOT_OFFERED"
    session = world.backend.pairing.current_session(world.payment_id)
    assert session is not None and session.status is SessionStatus.PENDING_ACCEPTANCE


def test_offline_and_busy_mitras_are_not_offered() -> None:
    world = build_world(3)
    backend = world.backend
    asyncio.run(backend.presence.set_online(world.mitra_ids[0], False))
    # mitra 1 is busy in another customer's active session
    _, other = backend.auth.login_anonymous()
    other_payment = asyncio.run(backend.payments.request_payment(other.id, 15))

    async def run() -> ChatSession:
        first = await backend.payments.confirm_payment(other_payment.id, "test")
        busy_session = backend.pairing.current_session(first.id)
        assert busy_session is not None
        await backend.pairing.accept(world.mitra_ids[1], busy_session.id)
        return await confirm(world)

    session = asyncio.run(run())
    assert session.offered_mitra_ids == (world.mitra_ids[2],)


def test_accept_by_a_mitra_who_rejected_is_not_offered() -> None:
    world = build_world(2)

    async def run() -> Conflict:
        session = await confirm(world)
        await world.backend.pairing.reject(world.mitra_ids[0], session.id)
        with pytest.raises(Conflict) as caught:
            await world.backend.pairing.accept(world.mitra_ids[0], session.id)
        return caught.value

    assert asyncio.run(run()).code == "NOT_OFFERED"


def test_reject_by_a_mitra_not_offered_is_refused() -> None:
    world = build_world(1)
    world.backend.store.mitras.insert(Mitra(id="late", phone="+62899", display_name="Late", password="pw"))

    async def run() -> Conflict:
        session = await confirm(world)
        with pytest.raises(Conflict) as caught:
            await world.backend.pairing.reject("late", session.id)
        return caught.value

    assert asyncio.run(run()).code == "NOT_OFFERED"


def test_reject_by_all_fails_the_session_and_keeps_the_payment_confirmed_for_a_retry() -> None:
    world = build_world()
    backend = world.backend

    async def run() -> tuple[ChatSession, ChatSession]:
        first = await confirm(world)
        for m in world.mitra_ids:
            await backend.pairing.reject(m, first.id)
        retry = await backend.pairing.start(world.payment_id)
        return backend.pairing.get(first.id), retry

    first, retry = asyncio.run(run())
    assert first.status is SessionStatus.FAILED
    assert first.failure_reason == "PAIRING_FAILED"
    assert backend.payments.get(world.payment_id).status is PaymentStatus.CONFIRMED
    assert backend.payments.pending_for_customer(world.customer_id) == [backend.payments.get(world.payment_id)]
    assert retry.id != first.id
    assert retry.status is SessionStatus.PENDING_ACCEPTANCE
    assert retry.offered_mitra_ids == tuple(world.mitra_ids)
    assert retry.rejected_mitra_ids == ()
    assert [s.id for s in sessions(backend)] == [first.id, retry.id]
    failed = [s["frame"] for s in backend.hub.sent if s["frame"]["type"] == "pairing_failed"]
    assert len(failed) == 1
    assert {k: failed[0][k] for k in ("session_id", "reason", "cause", "payment_request_id", "is_terminal")} == {
        "session_id": first.id,
        "reason": "PAIRING_FAILED",
        "cause": "all_rejected",
        "payment_request_id": world.payment_id,
        "is_terminal": False,
    }


def test_reject_by_some_keeps_the_session_pending() -> None:
    world = build_world(3)

    async def run() -> ChatSession:
        session = await confirm(world)
        await world.backend.pairing.reject(world.mitra_ids[0], session.id)
        await world.backend.pairing.reject(world.mitra_ids[0], session.id)  # twice counts once
        return world.backend.pairing.get(session.id)

    session = asyncio.run(run())
    assert session.status is SessionStatus.PENDING_ACCEPTANCE
    assert session.rejected_mitra_ids == (world.mitra_ids[0],)


def test_start_twice_on_a_confirmed_payment_is_idempotent_without_a_second_blast() -> None:
    world = build_world()
    backend = world.backend

    async def run() -> tuple[ChatSession, ChatSession, ChatSession]:
        first = await confirm(world)
        again = await backend.pairing.start(world.payment_id)
        third = await backend.pairing.start(world.payment_id)
        return first, again, third

    first, again, third = asyncio.run(run())
    assert first is again is third
    assert len(sessions(backend)) == 1
    assert len(searching_frames(backend)) == 1
    assert len(backend.scheduler.pending()) == 1


def test_start_on_a_pending_payment_is_refused() -> None:
    world = build_world(1)

    async def run() -> Conflict:
        with pytest.raises(Conflict) as caught:
            await world.backend.pairing.start(world.payment_id)
        return caught.value

    assert asyncio.run(run()).code == "PAYMENT_NOT_CONFIRMED"
    assert sessions(world.backend) == []


def test_confirming_twice_is_idempotent_and_starts_one_blast() -> None:
    world = build_world(1)

    async def run() -> None:
        await confirm(world)
        await world.backend.payments.confirm_payment(world.payment_id, "duplicate webhook")

    asyncio.run(run())
    confirmations = [e for e in world.backend.deps.bus.history if e["event"] == "payment_request.confirmed"]
    assert len(confirmations) == 1
    assert len(sessions(world.backend)) == 1


def test_pairing_timeout_fails_an_unanswered_session() -> None:
    world = build_world(2)
    backend = world.backend

    async def run() -> tuple[ChatSession, int]:
        session = await confirm(world)
        fired = await backend.scheduler.advance(backend.settings.pairing_timeout_s)
        return backend.pairing.get(session.id), fired

    session, fired = asyncio.run(run())
    assert fired == 1
    assert session.status is SessionStatus.FAILED
    assert backend.payments.get(world.payment_id).status is PaymentStatus.CONFIRMED
    assert backend.scheduler.errors == []


def test_accept_after_the_pairing_timeout_is_closed() -> None:
    world = build_world(2)
    backend = world.backend

    async def run() -> Conflict:
        session = await confirm(world)
        await backend.scheduler.advance(backend.settings.pairing_timeout_s + 1)
        with pytest.raises(Conflict) as caught:
            await backend.pairing.accept(world.mitra_ids[0], session.id)
        return caught.value

    assert asyncio.run(run()).code == "CLOSED"


def test_pairing_timeout_after_a_match_leaves_the_session_active() -> None:
    world = build_world(2)
    backend = world.backend

    async def run() -> ChatSession:
        session = await confirm(world)
        await backend.pairing.accept(world.mitra_ids[0], session.id)
        await backend.scheduler.advance(backend.settings.pairing_timeout_s + 1)
        return backend.pairing.get(session.id)

    session = asyncio.run(run())
    assert session.status is SessionStatus.ACTIVE
    assert backend.scheduler.errors == []


def test_with_no_mitra_online_the_session_stays_searching() -> None:
    world = build_world(0)
    session = asyncio.run(confirm(world))
    assert session.status is SessionStatus.SEARCHING
    assert session.offered_mitra_ids == ()


def test_session_is_ended_once_its_time_is_over() -> None:
    world = build_world(1)
    backend = world.backend

    async def run() -> ChatSession:
        session = await confirm(world)
        await backend.pairing.accept(world.mitra_ids[0], session.id)
        await backend.scheduler.advance(session.duration_minutes * 60 + 1)
        return backend.pairing.get(session.id)

    assert asyncio.run(run()).status is SessionStatus.ENDED


def test_mitra_is_offered_again_once_its_session_time_is_over() -> None:
    world = build_world(1)
    backend = world.backend
    mitra_id = world.mitra_ids[0]

    async def run() -> ChatSession:
        session = await confirm(world)
        await backend.pairing.accept(mitra_id, session.id)
        await backend.scheduler.advance(session.duration_minutes * 60 + 1)
        await backend.presence.heartbeat(mitra_id)  # still on shift, heartbeat fresh
        next_payment = await backend.payments.request_payment(world.customer_id, 15)
        await backend.payments.confirm_payment(next_payment.id, "test")
        next_session = backend.pairing.current_session(next_payment.id)
        assert next_session is not None
        return next_session

    assert asyncio.run(run()).offered_mitra_ids == (mitra_id,)


def test_a_mitra_that_lost_the_race_cannot_read_write_or_end_the_winners_chat() -> None:
    from halo_sim.backend.services.deps import Principal
    from simkit.errors import NotFound

    world = build_world(2)
    backend = world.backend
    winner, loser = (Principal("mitra", m) for m in world.mitra_ids)

    async def run() -> list[str]:
        session = await confirm(world)
        await backend.pairing.accept(winner.id, session.id)
        refused = []
        for attempt in (
            lambda: backend.chat.send(session.id, loser, "halo"),
            lambda: backend.sessions.end_by(backend.pairing.participant_of(session.id, loser), loser),
        ):
            try:
                await attempt()
            except NotFound as exc:
                refused.append(exc.code)
        try:
            backend.chat.messages(session.id, loser)
        except NotFound as exc:
            refused.append(exc.code)
        assert backend.pairing.visible_to(session.id, loser).id == session.id  # it may still see the offer
        return refused

    assert asyncio.run(run()) == ["NOT_FOUND"] * 3


def test_timers_of_sessions_deleted_by_reset_phone_fire_quietly() -> None:
    world = build_world(1)
    backend = world.backend

    async def run() -> None:
        session = await confirm(world)
        await backend.pairing.accept(world.mitra_ids[0], session.id)
        backend.store.chat_sessions.delete(session.id)
        await backend.scheduler.advance(3600)

    asyncio.run(run())
    assert backend.scheduler.errors == []
