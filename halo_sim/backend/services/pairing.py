"""Server-driven pairing: the subscriber of ``payment_request.confirmed``, blasts and targeted waits.

A confirmed payment becomes a chat_session in ``searching``.  A **blast** offers
it to every eligible mitra at once (over its socket, or FCM when its app is in
the background); a mitra that becomes available later (online, back from a
heartbeat lapse, freed from a session) is offered every blast still searching
that it holds no live offer for — including ones withdrawn from it when it went
offline or became busy.  A **targeted** attempt (the payment names a previous
bestie) offers it to that mitra alone, with a short countdown.  The first accept
wins; the others get ``offer_taken``.  A failed attempt (timeout, everyone
declined, bestie offline) leaves the payment ``confirmed`` so the customer can
retry on it — "cari bestie lain" turns it into a blast — until the attempts run
out or the payment's validity ends, when the payment becomes ``failed_pairing``.
The legacy ``POST /chat/request`` lands in the same :meth:`start`, which is
idempotent: a payment never has two attempts in flight.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from halo_sim.backend.hub import Encoded
from halo_sim.backend.services.deps import Deps, Principal
from halo_sim.backend.services.notify import Notifier, PushText
from halo_sim.backend.services.payments import CONFIRMED, PaymentService
from halo_sim.backend.services.presence import MITRA_AVAILABLE, MITRA_OFFLINE, PresenceService
from halo_sim.backend.services.sessions import SESSION_ENDED, SessionTimer
from halo_sim.backend.tables import ChatSession, Customer, Mitra, PaymentRequest
from halo_sim.contract.frames import (
    OfferAccepted,
    OfferTaken,
    OfferWithdrawn,
    PairingMatched,
    PairingOffer,
    PairingSearching,
    Party,
    WithdrawReason,
    build,
)
from halo_sim.domain.pairing import (
    FAILURE_REASONS,
    IN_FLIGHT,
    SESSION,
    AcceptOutcome,
    Mode,
    SessionEvent,
    SessionStatus,
    all_rejected,
    has_live_offer,
    is_terminal,
    judge_accept,
    judge_reject,
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
        deps.bus.subscribe(SESSION_ENDED, self._on_mitra_free)
        deps.bus.subscribe(MITRA_AVAILABLE, self._on_mitra_free)
        deps.bus.subscribe(MITRA_OFFLINE, self._on_mitra_offline)

    async def _on_confirmed(self, event: dict[str, Any]) -> None:
        await self.start(event["payment_request_id"])

    async def _on_mitra_free(self, event: dict[str, Any]) -> None:
        if event.get("mitra_id"):
            await self.mitra_available(event["mitra_id"])

    async def _on_mitra_offline(self, event: dict[str, Any]) -> None:
        await self.withdraw_offers(event["mitra_id"], "mitra_offline")

    # --- looking up attempts -------------------------------------------------------

    def current_session(self, payment_id: str) -> ChatSession | None:
        """The session of a payment that is searching, active or ended (not failed)."""
        live = [s for s in self.attempts(payment_id) if s.status is not SessionStatus.FAILED]
        return live[-1] if live else None

    def attempts(self, payment_id: str) -> list[ChatSession]:
        """Every session (attempt) of a payment, oldest first."""
        return self.deps.store.chat_sessions.find(payment_request_id=payment_id)

    def in_flight(self) -> list[ChatSession]:
        """Every attempt still searching or pending acceptance, oldest first."""
        return self.deps.store.chat_sessions.find_in("status", IN_FLIGHT)

    # --- starting and offering -----------------------------------------------------

    async def start(self, payment_id: str) -> ChatSession:
        """Start (or return the already started) pairing attempt of a confirmed payment."""
        existing = self.current_session(payment_id)
        if existing is not None:
            return existing
        payment = await self._usable_payment(payment_id)
        session = self.deps.store.chat_sessions.insert(self._new_session(payment))
        self.deps.later(self._timeout_of(session), partial(self._time_out, session.id), "pairing_timeout")
        await self._offer(session)
        return self.get(session.id)

    async def _usable_payment(self, payment_id: str) -> PaymentRequest:
        payment = self.payments.get(payment_id)
        if payment.status is not PaymentStatus.CONFIRMED:
            raise Conflict(
                f"payment_request {payment_id} is {payment.status.value}, not confirmed", code="PAYMENT_NOT_CONFIRMED"
            )
        if not self.payments.usable(payment):
            await self.payments.transition(payment.id, PaymentEvent.FAIL_PAIRING)
            raise Conflict(
                f"payment_request {payment_id} was paid too long ago to start pairing; it is now failed_pairing",
                code="PAYMENT_EXPIRED",
            )
        return payment

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
        targets = self._targets(session)
        searching = PairingSearching(
            session_id=session.id,
            mode=Mode(session.mode),
            payment_request_id=session.payment_request_id,
            status="searching",
            expires_in_s=self._timeout_of(session),
            attempt=session.attempt,
        )
        await self.deps.hub.send(("customer", session.customer_id), build(searching))
        if session.mode == Mode.TARGETED and not targets:  # offline or chatting with someone else: fail at once
            cause = self.presence.why_unavailable(session.targeted_mitra_id or "") or "mitra_offline"
            await self.fail(session.id, SessionEvent.TIMEOUT, cause=cause)
            return
        await self._offer_to(session.id, targets)

    def _targets(self, session: ChatSession) -> list[str]:
        if session.mode == Mode.TARGETED:
            bestie = session.targeted_mitra_id
            return [bestie] if bestie is not None and self.presence.is_eligible(bestie) else []
        declined = self._declined_besties(session.payment_request_id)
        return [m for m in self.presence.eligible() if m not in declined]

    def _declined_besties(self, payment_id: str) -> set[str]:
        """The bestie who said no to this payment's targeted wait is not asked again in its blasts."""
        return {m for s in self.attempts(payment_id) if s.mode == Mode.TARGETED for m in s.rejected_mitra_ids}

    async def _offer_to(self, session_id: str, mitra_ids: list[str]) -> None:
        session = self.get(session_id)  # re-read: earlier awaits may have moved it on
        if session.status not in IN_FLIGHT:
            return
        fresh = [m for m in mitra_ids if not self._holds_offer(session, m) and m not in session.rejected_mitra_ids]
        if not fresh:
            return
        session = self.deps.store.chat_sessions.update(
            session.id,
            status=SESSION.next(session.status, SessionEvent.OFFER),
            offered_mitra_ids=(*session.offered_mitra_ids, *(m for m in fresh if m not in session.offered_mitra_ids)),
            withdrawn_mitra_ids=tuple(m for m in session.withdrawn_mitra_ids if m not in fresh),
        )
        offer = Encoded(self._offer_frame(session))  # serialised once for every mitra
        await asyncio.gather(*(self.notifier.deliver(Principal("mitra", m), offer, OFFER_PUSH) for m in fresh))

    def _offer_frame(self, session: ChatSession) -> dict[str, Any]:
        customer = self._customer(session)
        payment = self.payments.get(session.payment_request_id)
        offer = PairingOffer(
            session_id=session.id,
            mode=Mode(session.mode),
            customer_name=customer.display_name or "Customer",
            duration_minutes=session.duration_minutes,
            topic_sensitivity=payment.topic_sensitivity,
            expires_in_s=self._timeout_of(session),
        )
        return build(offer)

    @staticmethod
    def _holds_offer(session: ChatSession, mitra_id: str) -> bool:
        return has_live_offer(
            session.offered_mitra_ids, session.rejected_mitra_ids, session.withdrawn_mitra_ids, mitra_id
        )

    def _timeout_of(self, session: ChatSession) -> float:
        settings = self.deps.settings
        return settings.targeted_timeout_s if session.mode == Mode.TARGETED else settings.pairing_timeout_s

    async def mitra_available(self, mitra_id: str) -> None:
        """A mitra came online, came back from a lapse or became free: offer it every blast still searching."""
        if not self.presence.is_eligible(mitra_id):
            return
        for session in self.in_flight():
            if session.mode == Mode.BLAST and mitra_id not in self._declined_besties(session.payment_request_id):
                await self._offer_to(session.id, [mitra_id])

    async def withdraw_offers(self, mitra_id: str, reason: WithdrawReason, keep: str | None = None) -> list[str]:
        """Withdraw the mitra's live offers (offline, or busy in session ``keep``); it cannot accept them now."""
        withdrawn = []
        for session in self.in_flight():
            if session.id != keep and self._holds_offer(session, mitra_id):
                self.deps.store.chat_sessions.update(
                    session.id, withdrawn_mitra_ids=(*session.withdrawn_mitra_ids, mitra_id)
                )
                withdrawn.append(session.id)
        for session_id in withdrawn:
            await self.deps.hub.send(("mitra", mitra_id), build(OfferWithdrawn(session_id=session_id, reason=reason)))
        return withdrawn

    # --- the customer's requests ------------------------------------------------------

    async def request_chat(self, payment_id: str, customer_id: str) -> ChatSession:
        """The legacy client-driven ``POST /chat/request``: the same idempotent start, for the payer only."""
        self.payments.get_for_customer(payment_id, customer_id)
        return await self.start(payment_id)

    async def retry(self, payment_id: str, customer_id: str, mode: Mode | None = None) -> ChatSession:
        """ "Coba cari lagi" on the same payment; ``mode=blast`` is "cari bestie lain" after a targeted wait."""
        payment = self.payments.get_for_customer(payment_id, customer_id)
        current = self.current_session(payment_id)
        if current is not None and current.status in IN_FLIGHT:
            return current
        if mode is Mode.BLAST and payment.targeted_mitra_id:
            self.payments.untarget(payment_id)
        return await self.start(payment_id)

    # --- the mitra's answer ------------------------------------------------------------

    async def accept(self, mitra_id: str, session_id: str) -> ChatSession:
        """One mitra's accept; the first wins, decided before anything is awaited."""
        session = self.get(session_id)
        busy = self.presence.facts(self.deps.store.mitras.require(mitra_id, "mitra")).busy
        outcome = judge_accept(
            session.status,
            session.offered_mitra_ids,
            session.rejected_mitra_ids,
            mitra_id,
            busy,
            withdrawn=session.withdrawn_mitra_ids,
        )
        if outcome is not AcceptOutcome.WON:
            raise Conflict(_REFUSALS[outcome], code=outcome.value.upper())
        now = self.deps.now()
        session = self.deps.store.chat_sessions.update(
            session.id,
            status=SESSION.next(session.status, SessionEvent.ACCEPT),
            mitra_id=mitra_id,
            started_at=now,
            ends_at=now + session.duration_minutes * 60,
        )
        self.timer.arm(session)
        await self.payments.transition(session.payment_request_id, PaymentEvent.CONSUME)
        await self._announce_match(session)
        await self.withdraw_offers(mitra_id, "mitra_busy", keep=session.id)
        return session

    async def _announce_match(self, session: ChatSession) -> None:
        mitra: Mitra = self.deps.store.mitras.require(session.mitra_id or "", "mitra")
        customer = self._customer(session)
        matched = PairingMatched(
            session_id=session.id,
            duration_minutes=session.duration_minutes,
            mitra=Party(id=mitra.id, display_name=mitra.display_name),
            ends_at=session.ends_at,
            mode=Mode(session.mode),
        )
        accepted = OfferAccepted(
            session_id=session.id, customer=Party(id=customer.id, display_name=customer.display_name)
        )
        await self.deps.hub.send(("customer", session.customer_id), build(matched))
        await self.deps.hub.send(("mitra", mitra.id), build(accepted))
        taken = Encoded(build(OfferTaken(session_id=session.id)))
        losers = [m for m in session.offered_mitra_ids if m != mitra.id and self._holds_offer(session, m)]
        await asyncio.gather(*(self.deps.hub.send(("mitra", m), taken) for m in losers))

    async def reject(self, mitra_id: str, session_id: str) -> ChatSession:
        """One mitra declines; when every offered mitra declined, the attempt fails."""
        session = self.get(session_id)
        outcome = judge_reject(session.status, session.offered_mitra_ids, mitra_id)
        if outcome is not AcceptOutcome.WON:
            raise Conflict(_REFUSALS[outcome], code=outcome.value.upper())
        if mitra_id not in session.rejected_mitra_ids:
            session = self.deps.store.chat_sessions.update(
                session.id, rejected_mitra_ids=(*session.rejected_mitra_ids, mitra_id)
            )
        if all_rejected(session.offered_mitra_ids, session.rejected_mitra_ids):
            return await self.fail(session.id, SessionEvent.ALL_REJECTED)
        return session

    # --- failure ------------------------------------------------------------------------

    async def fail(self, session_id: str, why: SessionEvent, cause: str | None = None) -> ChatSession:
        """An attempt ended without a match: retryable (payment stays confirmed) or terminal."""
        session = self.get(session_id)
        if session.status not in IN_FLIGHT:
            return session
        mode = Mode(session.mode)
        told = [m for m in session.offered_mitra_ids if m not in session.withdrawn_mitra_ids]  # decliners too
        session = self.deps.store.chat_sessions.update(
            session.id, status=SESSION.next(session.status, why), failure_reason=FAILURE_REASONS[mode]
        )
        terminal = await self._settle_payment(session, mode)
        await self.deps.hub.send(("customer", session.customer_id), self._failed_frame(session, why, cause, terminal))
        withdrawn = Encoded(build(OfferWithdrawn(session_id=session.id, reason="pairing_failed")))
        await asyncio.gather(*(self.deps.hub.send(("mitra", m), withdrawn) for m in told))
        return session

    def _failed_frame(
        self, session: ChatSession, why: SessionEvent, cause: str | None, terminal: bool
    ) -> dict[str, Any]:
        return {
            "type": "pairing_failed",
            "session_id": session.id,
            "payment_request_id": session.payment_request_id,
            "reason": session.failure_reason,
            "cause": cause or why.value,
            "mode": session.mode,
            "is_terminal": terminal,
            "attempt": session.attempt,
            "max_attempts": self.deps.settings.max_pairing_attempts,
        }

    async def _settle_payment(self, session: ChatSession, mode: Mode) -> bool:
        payment = self.payments.get(session.payment_request_id)
        failed = sum(1 for s in self.attempts(payment.id) if s.status is SessionStatus.FAILED and s.mode == Mode.BLAST)
        usable = self.payments.usable(payment)
        terminal = is_terminal(mode, failed, self.deps.settings.max_pairing_attempts, usable)
        if terminal and payment.status is PaymentStatus.CONFIRMED:
            await self.payments.transition(payment.id, PaymentEvent.FAIL_PAIRING)
        return terminal

    async def _time_out(self, session_id: str) -> None:
        """The timer's path: a session deleted meanwhile (reset-phone) has nothing left to time out."""
        if self.deps.store.chat_sessions.get(session_id) is not None:
            await self.fail(session_id, SessionEvent.TIMEOUT)

    async def expire_targeted_pairing_request(self, session_id: str) -> ChatSession:
        """The targeted wait is over (the real backend's exported ``expireTargetedPairingRequest``)."""
        return await self.fail(session_id, SessionEvent.TIMEOUT)

    async def force_timeout(self, session: ChatSession) -> ChatSession:
        """Skip the wait: blast → PAIRING_FAILED, targeted → RETURNING_CHAT_TIMEOUT (the ``_test`` shortcut)."""
        if session.mode == Mode.TARGETED:
            return await self.expire_targeted_pairing_request(session.id)
        return await self.fail(session.id, SessionEvent.TIMEOUT)

    def resume_timers(self) -> None:
        """After a restore: re-arm session clocks and pairing timeouts (timers are not saved)."""
        self.timer.resume()
        for session in self.in_flight():
            self.deps.later(self._timeout_of(session), partial(self._time_out, session.id), "pairing_timeout")

    # --- who may see what ------------------------------------------------------------------

    def get(self, session_id: str) -> ChatSession:
        """The session or a 404."""
        return self.deps.store.chat_sessions.require(session_id, "chat_session")

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
        """The newest session waiting for an accept (optionally one ``mitra_id`` holds a live offer for)."""
        rows = [
            s
            for s in self.deps.store.chat_sessions.find(status=SessionStatus.PENDING_ACCEPTANCE)
            if mitra_id is None or self._holds_offer(s, mitra_id)
        ]
        if not rows:
            raise NotFound("no chat_session is pending acceptance", code="NO_PENDING_OFFER")
        return rows[-1]

    def first_offered(self, session: ChatSession) -> str:
        """The first mitra still holding a live offer of ``session``."""
        holders = [m for m in session.offered_mitra_ids if self._holds_offer(session, m)]
        if not holders:
            raise NotFound(f"no mitra holds a live offer of chat_session {session.id}", code="NO_PENDING_OFFER")
        return holders[0]

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
        rows = self.deps.store.chat_sessions.find_in("status", IN_FLIGHT, customer_id=customer_id)
        if not rows:
            raise NotFound(
                "no pairing in flight (searching or pending_acceptance) for this customer", code="NO_PAIRING_IN_FLIGHT"
            )
        return rows[-1]

    def _customer(self, session: ChatSession) -> Customer:
        return self.deps.store.customers.require(session.customer_id, "customer")


_REFUSALS = {
    AcceptOutcome.TAKEN: "another mitra already accepted this request",
    AcceptOutcome.NOT_OFFERED: "this offer was not made to you (or you declined it)",
    AcceptOutcome.CLOSED: "this request is no longer searching",
    AcceptOutcome.BUSY: "you are already in a session; finish it first",
    AcceptOutcome.WITHDRAWN: "this offer was withdrawn (you went offline or became busy); it returns once you are free",
}
