"""Server-driven pairing: the subscriber of ``payment_request.confirmed`` and the blast.

A confirmed payment becomes a chat_session in ``searching``; every eligible
mitra gets a ``pairing_offer`` (over its socket, or FCM when its app is in the
background); the first accept wins and the others get ``offer_taken``.  The
legacy client-driven ``POST /chat/request`` lands in the same :meth:`start`,
which is idempotent, so a payment never gets two blasts.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from halo_sim.backend.services.deps import Deps, Principal
from halo_sim.backend.services.notify import Notifier, PushText
from halo_sim.backend.services.payments import CONFIRMED, PaymentService
from halo_sim.backend.services.presence import PresenceService
from halo_sim.backend.tables import ChatSession, Customer, Mitra
from halo_sim.domain.pairing import IN_FLIGHT, SESSION, AcceptOutcome, SessionEvent, SessionStatus, all_rejected, judge_accept
from halo_sim.domain.payment import PaymentEvent, PaymentStatus
from halo_sim.errors import Conflict, NotFound


class PairingService:
    """Blasts confirmed payments to mitras and settles the accept race."""

    def __init__(self, deps: Deps, payments: PaymentService, presence: PresenceService, notifier: Notifier) -> None:
        self.deps = deps
        self.payments = payments
        self.presence = presence
        self.notifier = notifier
        deps.bus.subscribe(CONFIRMED, self._on_confirmed)

    async def _on_confirmed(self, event: dict[str, Any]) -> None:
        await self.start(event["payment_request_id"])

    def current_session(self, payment_id: str) -> ChatSession | None:
        """The session of a payment that is searching, active or ended (not failed)."""
        live = [s for s in self.deps.store.find("chat_sessions", payment_request_id=payment_id)
                if s.status is not SessionStatus.FAILED]
        return live[-1] if live else None

    async def start(self, payment_id: str) -> ChatSession:
        """Start (or return the already started) pairing of a confirmed payment."""
        existing = self.current_session(payment_id)
        if existing is not None:
            return existing
        payment = self.payments.get(payment_id)
        if payment.status is not PaymentStatus.CONFIRMED:
            raise Conflict(f"payment_request {payment_id} is {payment.status.value}, not confirmed",
                           code="PAYMENT_NOT_CONFIRMED")
        session = self.deps.store.insert("chat_sessions", ChatSession(
            id=self.deps.ids.uuid(), customer_id=payment.customer_id, payment_request_id=payment.id,
            status=SessionStatus.SEARCHING, duration_minutes=payment.duration_minutes, created_at=self.deps.now(),
        ))
        self.deps.later(self.deps.settings.pairing_timeout_s,
                        lambda: self.fail(session.id, SessionEvent.TIMEOUT), "pairing_timeout")
        await self._blast(session)
        return session

    async def _blast(self, session: ChatSession) -> None:
        offered = [m for m in self.presence.eligible() if m not in session.offered_mitra_ids]
        if offered:
            session.status = SESSION.next(session.status, SessionEvent.OFFER)
            session.offered_mitra_ids.extend(offered)
        customer = self._customer(session)
        await self.deps.hub.send(("customer", session.customer_id), {
            "type": "pairing_searching", "session_id": session.id,
            "payment_request_id": session.payment_request_id, "status": session.status.value,
        })
        offer = {"type": "pairing_offer", "session_id": session.id, "mode": "blast",
                 "customer_name": customer.display_name or "Customer",
                 "duration_minutes": session.duration_minutes}
        for mitra_id in offered:
            await self.notifier.deliver(Principal("mitra", mitra_id), offer,
                                        PushText("Ada yang mau curhat", "Buka Halo untuk menerima"))

    async def accept(self, mitra_id: str, session_id: str) -> ChatSession:
        """One mitra's accept; the first wins, decided before anything is awaited."""
        session = self.get(session_id)
        outcome = judge_accept(session.status, session.offered_mitra_ids, session.rejected_mitra_ids, mitra_id)
        if outcome is not AcceptOutcome.WON:
            raise Conflict(_ACCEPT_REFUSALS[outcome], code=outcome.value.upper())
        now = self.deps.now()
        session.status = SESSION.next(session.status, SessionEvent.ACCEPT)
        session.mitra_id, session.started_at = mitra_id, now
        session.ends_at = now + session.duration_minutes * 60
        self.deps.later(session.ends_at - now, lambda: self.end(session.id), "session_end")
        await self.payments.transition(session.payment_request_id, PaymentEvent.CONSUME)
        await self._announce_match(session)
        return session

    async def _announce_match(self, session: ChatSession) -> None:
        mitra: Mitra = self.deps.store.require("mitras", session.mitra_id or "")
        customer = self._customer(session)
        await self.deps.hub.send(("customer", session.customer_id), {
            "type": "pairing_matched", "session_id": session.id, "duration_minutes": session.duration_minutes,
            "mitra": {"id": mitra.id, "display_name": mitra.display_name}, "ends_at": session.ends_at,
        })
        await self.deps.hub.send(("mitra", mitra.id), {
            "type": "offer_accepted", "session_id": session.id,
            "customer": {"id": customer.id, "display_name": customer.display_name},
        })
        for other in session.offered_mitra_ids:
            if other != mitra.id:
                await self.deps.hub.send(("mitra", other), {"type": "offer_taken", "session_id": session.id})

    async def reject(self, mitra_id: str, session_id: str) -> ChatSession:
        """One mitra declines; when all offered mitras declined the attempt fails."""
        session = self.get(session_id)
        if mitra_id not in session.offered_mitra_ids:
            raise Conflict("this offer was not made to you", code="NOT_OFFERED")
        if mitra_id not in session.rejected_mitra_ids:
            session.rejected_mitra_ids.append(mitra_id)
        if session.status in IN_FLIGHT and all_rejected(session.offered_mitra_ids, session.rejected_mitra_ids):
            await self.fail(session.id, SessionEvent.ALL_REJECTED)
        return session

    async def fail(self, session_id: str, why: SessionEvent) -> None:
        """A pairing attempt ended without a match; the payment stays confirmed for a retry."""
        session = self.get(session_id)
        if session.status not in IN_FLIGHT:
            return
        session.status = SESSION.next(session.status, why)
        session.failure_reason = "PAIRING_FAILED"
        await self.deps.hub.send(("customer", session.customer_id), {
            "type": "pairing_failed", "session_id": session.id, "reason": why.value,
            "payment_request_id": session.payment_request_id, "is_terminal": False,
        })
        for mitra_id in session.offered_mitra_ids:
            await self.deps.hub.send(("mitra", mitra_id), {"type": "offer_withdrawn", "session_id": session.id})

    def resume_timers(self) -> None:
        """After a restore: re-arm session ends and pairing timeouts (timers are not saved)."""
        now = self.deps.now()
        for session in self.deps.store.find("chat_sessions", status=SessionStatus.ACTIVE):
            self.deps.later(max(0.0, (session.ends_at or now) - now), partial(self.end, session.id), "session_end")
        for session in self.deps.store.rows("chat_sessions", lambda s: s.status in IN_FLIGHT):
            self.deps.later(self.deps.settings.pairing_timeout_s,
                            partial(self.fail, session.id, SessionEvent.TIMEOUT), "pairing_timeout")

    async def end(self, session_id: str) -> None:
        """The paid time is over: ``active → ended``, both apps told; the mitra is free again."""
        session = self.get(session_id)
        if session.status is not SessionStatus.ACTIVE:
            return
        session.status = SESSION.next(session.status, SessionEvent.END)
        session.ended_at = self.deps.now()
        frame = {"type": "session_ended", "session_id": session.id, "reason": "time_over"}
        await self.deps.hub.send(("customer", session.customer_id), frame)
        await self.deps.hub.send(("mitra", session.mitra_id or ""), frame)

    def get(self, session_id: str) -> ChatSession:
        """The session or a 404."""
        return self.deps.store.require("chat_sessions", session_id, "chat_session")  # type: ignore[no-any-return]

    def visible_to(self, session_id: str, user: Principal) -> ChatSession:
        """Customers see their sessions; mitras the ones they are in or were offered."""
        session = self.get(session_id)
        allowed = (session.customer_id == user.id if user.role == "customer"
                   else user.id == session.mitra_id or user.id in session.offered_mitra_ids)
        if not allowed:
            raise NotFound(f"chat_session {session_id} not found")
        return session

    def latest_pending_offer(self, mitra_id: str | None = None) -> ChatSession:
        """The newest session waiting for an accept (optionally offered to ``mitra_id``)."""
        rows = [s for s in self.deps.store.find("chat_sessions", status=SessionStatus.PENDING_ACCEPTANCE)
                if mitra_id is None or mitra_id in s.offered_mitra_ids]
        if not rows:
            raise NotFound("no chat_session is pending acceptance", code="NO_PENDING_OFFER")
        return rows[-1]  # type: ignore[no-any-return]

    def _customer(self, session: ChatSession) -> Customer:
        return self.deps.store.require("customers", session.customer_id)  # type: ignore[no-any-return]


_ACCEPT_REFUSALS = {
    AcceptOutcome.TAKEN: "another mitra already accepted this request",
    AcceptOutcome.NOT_OFFERED: "this offer was not made to you (or you declined it)",
    AcceptOutcome.CLOSED: "this request is no longer searching",
}
