"""The end of a chat session (services, virtual clock): no message at ``ends_at``, and the mitra is free again."""

from __future__ import annotations

import asyncio

import pytest

from halo_sim.backend.config import Settings
from halo_sim.backend.services.deps import Principal
from halo_sim.backend.state import ReferenceBackend
from halo_sim.backend.tables import ChatSession, Mitra
from halo_sim.domain.pairing import SessionStatus
from simkit.clock import VirtualClock
from simkit.errors import Conflict
from simkit.scheduler import Scheduler

MITRA = "mitra-0"


class Socket:
    async def send_text(self, data: str) -> None:
        return None


def backend() -> ReferenceBackend:
    ref = ReferenceBackend(Settings(env="test", fcm_base_url="http://127.0.0.1:9"), Scheduler(VirtualClock()))
    ref.store.insert("mitras", Mitra(id=MITRA, phone="+6281100077100", display_name="Rani", password="pw"))
    asyncio.run(ref.presence.set_online(MITRA, True))
    ref.hub.add(("mitra", MITRA), Socket())
    return ref


async def searching(ref: ReferenceBackend, name: str) -> ChatSession:
    """A customer pays; the confirmation starts a blast."""
    _, customer = ref.auth.login_anonymous()
    ref.auth.set_display_name(customer.id, name)
    payment = await ref.payments.request_payment(customer.id, 15)
    await ref.payments.confirm_payment(payment.id, "test")
    return ref.pairing.attempts(payment.id)[-1]


async def active(ref: ReferenceBackend) -> ChatSession:
    session = await searching(ref, "Ayu")
    return await ref.pairing.accept(MITRA, session.id)


def test_a_message_at_ends_at_is_refused_even_before_the_end_timer_fired() -> None:
    """With the system clock the end timer fires a poll later; the session is over at ends_at all the same."""
    ref = backend()

    async def scenario() -> Conflict:
        session = await active(ref)
        customer = Principal("customer", session.customer_id)
        await ref.chat.send(session.id, customer, "masih di sini?")
        ref.scheduler.clock.advance(session.duration_minutes * 60)  # time moves, the timer has not run yet
        assert ref.pairing.get(session.id).status is SessionStatus.ACTIVE
        with pytest.raises(Conflict) as caught:
            await ref.chat.send(session.id, customer, "halo?")
        return caught.value

    assert asyncio.run(scenario()).code == "SESSION_ENDED"
    assert len(ref.store.chat_messages.all()) == 1


def test_ending_a_session_frees_the_mitra_for_a_blast_that_searched_meanwhile() -> None:
    ref = backend()

    async def scenario() -> tuple[ChatSession, ChatSession]:
        first = await active(ref)
        waiting = await searching(ref, "Dewi")
        assert waiting.offered_mitra_ids == ()  # the only mitra is busy
        await ref.sessions.end_by(first, Principal("customer", first.customer_id))
        return ref.pairing.get(first.id), ref.pairing.get(waiting.id)

    first, waiting = asyncio.run(scenario())
    assert first.status is SessionStatus.ENDED
    assert {"event": "chat_session.ended", "session_id": first.id, "mitra_id": MITRA} in ref.deps.bus.history
    assert waiting.offered_mitra_ids == (MITRA,)
    assert waiting.status is SessionStatus.PENDING_ACCEPTANCE
