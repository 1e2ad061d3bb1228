"""Server-driven pairing: the subscriber of ``payment_request.confirmed``, blasts and targeted waits.

A confirmed payment becomes a chat_session in ``searching``.  A **blast** offers
it to every eligible mitra at once (over its socket, or FCM when its app is in
the background); a mitra coming online later is offered the blasts still
searching.  A **targeted** attempt (the payment names a previous bestie) offers it
to that mitra alone, with a short countdown.  The first accept wins; the others
get ``offer_taken``.  A failed attempt (timeout, everyone declined, bestie
offline) leaves the payment ``confirmed`` so the customer can retry on it —
"cari bestie lain" turns it into a blast — until the attempts run out, when the
payment becomes ``failed_pairing``.  The legacy ``POST /chat/request`` lands in
the same :meth:`start`, which is idempotent: a payment never has two attempts
in flight.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from halo_sim.backend.services.deps import Deps, Principal
from halo_sim.backend.services.notify import Notifier, PushText
from halo_sim.backend.services.payments import CONFIRMED, PaymentService
from halo_sim.backend.services.presence import PresenceService
from halo_sim.backend.services.sessions import SESSION_ENDED, SessionTimer
from halo_sim.backend.tables import ChatSession, Customer, Mitra, PaymentRequest
from halo_sim.domain.pairing import (
    FAILURE_REASONS,
    IN_FLIGHT,
    SESSION,
    AcceptOutcome,
    Mode,
    SessionEvent,
    SessionStatus,
    all_rejected,
    is_terminal,
    judge_accept,
)
from halo_sim.domain.payment import PaymentEvent, PaymentStatus
from simkit.errors import Conflict, NotFound

OFFER_PUSH = PushText("Ada yang mau curhat", "Buka Halo untuk menerima")


class PairingService:
    """Offers confirmed payments to mitras and settles the accept race."""

    def __init__(
        self, deps: Deps, payments: PaymentService, presence: PresenceService, notifier: Notifier, timer: SessionTimer
    ) -> None:
        self.deps = deps
        self.payments = payments
        self.presence = presence
        self.notifier = notifier
        self.timer = timer
        deps.bus.subscribe(CONFIRMED, self._on_confirmed)
        deps.bus.subscribe(SESSION_ENDED, self._on_session_ended)

    async def _on_confirmed(self, event: dict[str, Any]) -> None:
        await self.start(event["payment_request_id"])

    async def _on_session_ended(self, event: dict[str, Any]) -> None:
        if event.get("mitra_id"):
            await self.mitra_available(event["mitra_id"])  # free again: offer what still searches

    def current_session(self, payment_id: str) -> ChatSession | None:
        """The session of a payment that is searching, active or ended (not failed)."""
        live = [
            s
            for s in self.deps.store.find("chat_sessions", payment_request_id=payment_id)
            if s.status is not SessionStatus.FAILED
        ]
        return live[-1] if live else None

    def attempts(self, payment_id: str) -> list[ChatSession]:
        """Every session (attempt) of a payment, oldest first."""
        return self.deps.store.find("chat_sessions", payment_request_id=payment_id)

    async def start(self, payment_id: str) -> ChatSession:
        """Start (or return the already started) pairing attempt of a confirmed payment."""
        existing = self.current_session(payment_id)
        if existing is not None:
            return existing
        payment = self.payments.get(payment_id)
        if payment.status is not PaymentStatus.CONFIRMED:
            raise Conflict(
                f"payment_request {payment_id} is {payment.status.value}, not confirmed", code="PAYMENT_NOT_CONFIRMED"
            )
        session = self.deps.store.insert("chat_sessions", self._new_session(payment))
        timeout = (
            self.deps.settings.targeted_timeout_s
            if session.mode == Mode.TARGETED
            else self.deps.settings.pairing_timeout_s
        )
        self.deps.later(timeout, partial(self._time_out, session.id), "pairing_timeout")
        await self._offer(session)
        return session

    def _new_session(self, payment: PaymentRequest) -> ChatSession:
        mode = Mode.TARGETED if payment.targeted_mitra_id else Mode.BLAST
        return ChatSession(
            id=self.deps.ids.uuid(),
            customer_id=payment.customer_id,
            payment_request_id=payment.id,
            status=SessionStatus.SEARCHING,
            duration_minutes=payment.duration_minutes,
            created_at=self.deps.now(),
            mode=mode.value,
            targeted_mitra_id=payment.targeted_mitra_id,
            attempt=len(self.attempts(payment.id)) + 1,
        )

    async def _offer(self, session: ChatSession) -> None:
        if session.mode == Mode.TARGETED:
            targets = [session.targeted_mitra_id] if session.targeted_mitra_id in self.presence.eligible() else []
        else:
            declined = {
                m
                for s in self.attempts(session.payment_request_id)  # the bestie who said no
                if s.mode == Mode.TARGETED
                for m in s.rejected_mitra_ids
            }
            targets = [m for m in self.presence.eligible() if m not in declined]
        await self.deps.hub.send(
            ("customer", session.customer_id),
            {
                "type": "pairing_searching",
                "session_id": session.id,
                "mode": session.mode,
                "payment_request_id": session.payment_request_id,
                "status": session.status.value,
                "expires_in_s": self._timeout_of(session),
                "attempt": session.attempt,
            },
        )
        if session.mode == Mode.TARGETED and not targets:
            await self.fail(session.id, SessionEvent.TIMEOUT, cause="mitra_offline")
            return
        await self._offer_to(session, [t for t in targets if t is not None])

    async def _offer_to(self, session: ChatSession, mitra_ids: list[str]) -> None:
        fresh = [m for m in mitra_ids if m not in session.offered_mitra_ids]
        if not fresh:
            return
        session.status = SESSION.next(session.status, SessionEvent.OFFER)
        session.offered_mitra_ids.extend(fresh)
        customer = self._customer(session)
        payment = self.payments.get(session.payment_request_id)
        offer = {
            "type": "pairing_offer",
            "session_id": session.id,
            "mode": session.mode,
            "customer_name": customer.display_name or "Customer",
            "duration_minutes": session.duration_minutes,
            "topic_sensitivity": payment.topic_sensitivity,
            "expires_in_s": self._timeout_of(session),
        }
        for mitra_id in fresh:
            await self.notifier.deliver(Principal("mitra", mitra_id), offer, OFFER_PUSH)

    def _timeout_of(self, session: ChatSession) -> float:
        settings = self.deps.settings
        return settings.targeted_timeout_s if session.mode == Mode.TARGETED else settings.pairing_timeout_s

    async def mitra_available(self, mitra_id: str) -> None:
        """A mitra came online (or became free): offer it the blasts still searching."""
        if mitra_id not in self.presence.eligible():
            return
        for session in self.deps.store.rows("chat_sessions", lambda s: s.status in IN_FLIGHT and s.mode == Mode.BLAST):
            await self._offer_to(session, [mitra_id])

    async def retry(self, payment_id: str, customer_id: str, mode: Mode | None = None) -> ChatSession:
        """ "Coba cari lagi" on the same payment; ``mode=blast`` is "cari bestie lain" after a targeted wait."""
        payment = self.payments.get_for_customer(payment_id, customer_id)
        current = self.current_session(payment_id)
        if current is not None and current.status in IN_FLIGHT:
            return current
        if mode is Mode.BLAST and payment.targeted_mitra_id:
            payment.targeted_mitra_id = None
        return await self.start(payment_id)

    async def accept(self, mitra_id: str, session_id: str) -> ChatSession:
        """One mitra's accept; the first wins, decided before anything is awaited."""
        session = self.get(session_id)
        busy = bool(self.deps.store.find("chat_sessions", mitra_id=mitra_id, status=SessionStatus.ACTIVE))
        outcome = judge_accept(session.status, session.offered_mitra_ids, session.rejected_mitra_ids, mitra_id, busy)
        if outcome is not AcceptOutcome.WON:
            raise Conflict(_ACCEPT_REFUSALS[outcome], code=outcome.value.upper())
        now = self.deps.now()
        session.status = SESSION.next(session.status, SessionEvent.ACCEPT)
        session.mitra_id, session.started_at = mitra_id, now
        session.ends_at = now + session.duration_minutes * 60
        self.timer.arm(session)
        await self.payments.transition(session.payment_request_id, PaymentEvent.CONSUME)
        await self._announce_match(session)
        return session

    async def _announce_match(self, session: ChatSession) -> None:
        mitra: Mitra = self.deps.store.require("mitras", session.mitra_id or "")
        customer = self._customer(session)
        await self.deps.hub.send(
            ("customer", session.customer_id),
            {
                "type": "pairing_matched",
                "session_id": session.id,
                "duration_minutes": session.duration_minutes,
                "mitra": {"id": mitra.id, "display_name": mitra.display_name},
                "ends_at": session.ends_at,
                "mode": session.mode,
            },
        )
        await self.deps.hub.send(
            ("mitra", mitra.id),
            {
                "type": "offer_accepted",
                "session_id": session.id,
                "customer": {"id": customer.id, "display_name": customer.display_name},
            },
        )
        for other in session.offered_mitra_ids:
            if other != mitra.id:
                await self.deps.hub.send(("mitra", other), {"type": "offer_taken", "session_id": session.id})

    async def reject(self, mitra_id: str, session_id: str) -> ChatSession:
        """One mitra declines; when every offered mitra declined, the attempt fails."""
        session = self.get(session_id)
        if mitra_id not in session.offered_mitra_ids:
            raise Conflict("this offer was not made to you", code="NOT_OFFERED")
        if mitra_id not in session.rejected_mitra_ids:
            session.rejected_mitra_ids.append(mitra_id)
        if session.status in IN_FLIGHT and all_rejected(session.offered_mitra_ids, session.rejected_mitra_ids):
            await self.fail(session.id, SessionEvent.ALL_REJECTED)
        return session

    async def fail(self, session_id: str, why: SessionEvent, cause: str | None = None) -> ChatSession:
        """An attempt ended without a match: retryable (payment stays confirmed) or terminal."""
        session: ChatSession | None = self.deps.store.get("chat_sessions", session_id)
        if session is None:
            raise NotFound(f"chat_session {session_id} not found")
        if session.status not in IN_FLIGHT:
            return session
        session.status = SESSION.next(session.status, why)
        mode = Mode(session.mode)
        session.failure_reason = FAILURE_REASONS[mode]
        terminal = await self._settle_payment(session, mode)
        await self.deps.hub.send(
            ("customer", session.customer_id),
            {
                "type": "pairing_failed",
                "session_id": session.id,
                "payment_request_id": session.payment_request_id,
                "reason": session.failure_reason,
                "cause": cause or why.value,
                "mode": session.mode,
                "is_terminal": terminal,
                "attempt": session.attempt,
                "max_attempts": self.deps.settings.max_pairing_attempts,
            },
        )
        for mitra_id in session.offered_mitra_ids:
            await self.deps.hub.send(("mitra", mitra_id), {"type": "offer_withdrawn", "session_id": session.id})
        return session

    async def _settle_payment(self, session: ChatSession, mode: Mode) -> bool:
        payment = self.payments.get(session.payment_request_id)
        failed = sum(1 for s in self.attempts(payment.id) if s.status is SessionStatus.FAILED and s.mode == Mode.BLAST)
        usable = payment.status is PaymentStatus.CONFIRMED
        terminal = is_terminal(mode, failed, self.deps.settings.max_pairing_attempts, usable)
        if terminal and usable:
            await self.payments.transition(payment.id, PaymentEvent.FAIL_PAIRING)
        return terminal

    async def _time_out(self, session_id: str) -> None:
        """The timer's path: a session deleted meanwhile (reset-phone) has nothing left to time out."""
        if self.deps.store.get("chat_sessions", session_id) is not None:
            await self.fail(session_id, SessionEvent.TIMEOUT)

    async def expire_targeted_pairing_request(self, session_id: str) -> ChatSession:
        """The targeted wait is over (the real backend's exported ``expireTargetedPairingRequest``)."""
        return await self.fail(session_id, SessionEvent.TIMEOUT)

    def resume_timers(self) -> None:
        """After a restore: re-arm session clocks and pairing timeouts (timers are not saved)."""
        self.timer.resume()
        for session in self.deps.store.rows("chat_sessions", lambda s: s.status in IN_FLIGHT):
            self.deps.later(self._timeout_of(session), partial(self._time_out, session.id), "pairing_timeout")

    def get(self, session_id: str) -> ChatSession:
        """The session or a 404."""
        return self.deps.store.require("chat_sessions", session_id, "chat_session")  # type: ignore[no-any-return]

    def visible_to(self, session_id: str, user: Principal) -> ChatSession:
        """Customers see their sessions; mitras the ones they are in or were offered."""
        session = self.get(session_id)
        allowed = (
            session.customer_id == user.id
            if user.role == "customer"
            else user.id == session.mitra_id or user.id in session.offered_mitra_ids
        )
        if not allowed:
            raise NotFound(f"chat_session {session_id} not found")
        return session

    def participant_of(self, session_id: str, user: Principal) -> ChatSession:
        """Only the customer and the mitra in the session may read, write or end its chat."""
        session = self.visible_to(session_id, user)
        if user.id not in (session.customer_id, session.mitra_id):
            raise NotFound(f"chat_session {session_id} not found")
        return session

    def latest_pending_offer(self, mitra_id: str | None = None) -> ChatSession:
        """The newest session waiting for an accept (optionally offered to ``mitra_id``)."""
        rows = [
            s
            for s in self.deps.store.find("chat_sessions", status=SessionStatus.PENDING_ACCEPTANCE)
            if mitra_id is None or (mitra_id in s.offered_mitra_ids and mitra_id not in s.rejected_mitra_ids)
        ]
        if not rows:
            raise NotFound("no chat_session is pending acceptance", code="NO_PENDING_OFFER")
        return rows[-1]  # type: ignore[no-any-return]

    def in_flight_of_payment(self, payment_id: str) -> ChatSession:
        """The payment's attempt still searching or pending acceptance."""
        current = self.current_session(payment_id)
        if current is None or current.status not in IN_FLIGHT:
            raise NotFound(
                "this payment has no pairing in flight (searching or pending_acceptance)", code="NO_PAIRING_IN_FLIGHT"
            )
        return current

    def latest_in_flight(self, customer_id: str) -> ChatSession:
        """The customer's newest attempt still searching or pending acceptance."""
        rows = self.deps.store.rows("chat_sessions", lambda s: s.customer_id == customer_id and s.status in IN_FLIGHT)
        if not rows:
            raise NotFound(
                "no pairing in flight (searching or pending_acceptance) for this customer", code="NO_PAIRING_IN_FLIGHT"
            )
        return rows[-1]  # type: ignore[no-any-return]

    def _customer(self, session: ChatSession) -> Customer:
        return self.deps.store.require("customers", session.customer_id)  # type: ignore[no-any-return]


_ACCEPT_REFUSALS = {
    AcceptOutcome.TAKEN: "another mitra already accepted this request",
    AcceptOutcome.NOT_OFFERED: "this offer was not made to you (or you declined it)",
    AcceptOutcome.CLOSED: "this request is no longer searching",
    AcceptOutcome.BUSY: "you are already in a session; finish it first",
}
