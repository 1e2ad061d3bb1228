"""Which failed attempts count towards ``max_pairing_attempts``: blast failures only (services, virtual clock)."""

from __future__ import annotations

import asyncio

from halo_sim.backend.config import Settings
from halo_sim.backend.state import ReferenceBackend
from halo_sim.backend.tables import Mitra
from halo_sim.domain.pairing import Mode, SessionStatus
from halo_sim.domain.payment import PaymentStatus
from simkit.clock import VirtualClock
from simkit.scheduler import Scheduler


class Socket:
    async def send_text(self, data: str) -> None:
        return None


def world(n_mitras: int = 2) -> tuple[ReferenceBackend, str]:
    """A customer and ``n_mitras`` online mitras with their apps in the foreground."""
    ref = ReferenceBackend(Settings(env="test", fcm_base_url="http://127.0.0.1:9"), Scheduler(VirtualClock()))
    _, customer = ref.auth.login_anonymous()
    ref.auth.set_display_name(customer.id, "Ayu")
    for i in range(n_mitras):
        ref.store.insert("mitras", Mitra(id=f"mitra-{i}", phone=f"+62811000770{i}", display_name="Rani", password="pw"))
        asyncio.run(ref.presence.set_online(f"mitra-{i}", True))
        ref.hub.add(("mitra", f"mitra-{i}"), Socket())
    return ref, customer.id


def failed_frames(ref: ReferenceBackend) -> list[tuple[str, bool]]:
    return [
        (s["frame"]["mode"], s["frame"]["is_terminal"]) for s in ref.hub.sent if s["frame"]["type"] == "pairing_failed"
    ]


def test_a_declined_targeted_wait_does_not_use_up_one_of_the_blast_attempts() -> None:
    """Bestie says no, then "cari bestie lain": the customer still gets max_pairing_attempts blasts."""
    ref, customer_id = world()
    blasts = ref.settings.max_pairing_attempts

    async def scenario() -> list[PaymentStatus]:
        payment = await ref.payments.request_payment(customer_id, 15, targeted_mitra_id="mitra-0")
        await ref.payments.confirm_payment(payment.id, "test")
        await ref.pairing.reject("mitra-0", ref.pairing.attempts(payment.id)[-1].id)
        statuses = []
        for n in range(blasts):
            await ref.pairing.retry(payment.id, customer_id, Mode.BLAST if n == 0 else None)
            await ref.scheduler.advance(ref.settings.pairing_timeout_s)
            statuses.append(ref.payments.get(payment.id).status)
        return statuses

    statuses = asyncio.run(scenario())
    assert blasts == 3
    assert failed_frames(ref) == [("targeted", False), ("blast", False), ("blast", False), ("blast", True)]
    assert statuses == [PaymentStatus.CONFIRMED, PaymentStatus.CONFIRMED, PaymentStatus.FAILED_PAIRING]
    assert [s.status for s in ref.store.chat_sessions.all()] == [SessionStatus.FAILED] * 4
