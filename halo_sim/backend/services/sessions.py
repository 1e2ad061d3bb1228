"""The clock of a running chat session: a tick every second, a warning, the end.

Each frame type is its own (``session_tick``, ``session_warning``,
``session_ended``) so the apps can route per-second ticks to a narrow provider
without rebuilding the chat.  Everything runs on the injected scheduler: on
the virtual clock a 30-minute session ends in one ``clock`` call.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from halo_sim.backend.hub import Encoded
from halo_sim.backend.services.deps import Deps, Principal
from halo_sim.backend.tables import ChatSession
from halo_sim.contract.frames import EndReason, SessionEnded, SessionTick, SessionWarning, build
from halo_sim.domain.pairing import IN_FLIGHT, SESSION, SessionEvent, SessionStatus
from simkit.errors import Conflict, NotFound

TICK_S = 1.0
SESSION_ENDED = "chat_session.ended"


class SessionTimer:
    """Arms, ticks and ends active sessions."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def arm(self, session: ChatSession) -> None:
        """Start ticking an active session and schedule its end."""
        now = self.deps.now()
        remaining = max(0.0, (session.ends_at or now) - now)
        self.deps.later(min(TICK_S, remaining), partial(self._tick, session.id), "session_tick")
        self.deps.later(remaining, partial(self._time_over, session.id), "session_end")

    async def _tick(self, session_id: str) -> None:
        session = self.deps.store.chat_sessions.get(session_id)
        if session is None or session.status is not SessionStatus.ACTIVE or session.ends_at is None:
            return
        remaining = round(session.ends_at - self.deps.now())
        if remaining <= 0:
            return
        await self._both(session, build(SessionTick(session_id=session.id, remaining_seconds=remaining)))
        if remaining == self.deps.settings.session_warning_s:
            await self._both(session, build(SessionWarning(session_id=session.id, remaining_seconds=remaining)))
        self.deps.later(TICK_S, partial(self._tick, session.id), "session_tick")

    async def _time_over(self, session_id: str) -> None:
        if self.deps.store.chat_sessions.get(session_id) is not None:  # reset-phone may have deleted it
            await self.end(session_id, "time_over")

    async def end(self, session_id: str, reason: EndReason) -> ChatSession:
        """``active → ended``; both apps told; the mitra is free for the next blast."""
        session: ChatSession | None = self.deps.store.chat_sessions.get(session_id)
        if session is None:
            raise NotFound(f"chat_session {session_id} not found")
        if session.status is not SessionStatus.ACTIVE:
            return session
        session = self.deps.store.chat_sessions.update(
            session.id,
            status=SESSION.next(session.status, SessionEvent.END),
            ended_at=self.deps.now(),
            end_reason=reason,
        )
        await self._both(session, build(SessionEnded(session_id=session.id, reason=reason)))
        await self.deps.bus.emit(SESSION_ENDED, {"session_id": session.id, "mitra_id": session.mitra_id})
        return session

    async def end_by(self, session: ChatSession, user: Principal) -> ChatSession:
        """A participant says goodbye and ends the session early (judged on the stored row, not a copy)."""
        current = self.deps.store.chat_sessions.require(session.id, "chat_session")
        if current.status in IN_FLIGHT:
            raise Conflict("Sesi belum dimulai", code="SESSION_NOT_STARTED")
        if current.status is not SessionStatus.ACTIVE:
            raise Conflict("Sesi sudah berakhir", code="SESSION_ENDED")
        return await self.end(current.id, "ended_by_customer" if user.role == "customer" else "ended_by_mitra")

    def resume(self) -> None:
        """After a restore: re-arm every active session (timers are not saved)."""
        for session in self.deps.store.chat_sessions.find(status=SessionStatus.ACTIVE):
            self.arm(session)

    async def _both(self, session: ChatSession, frame: dict[str, Any]) -> None:
        encoded = Encoded(frame)
        await self.deps.hub.send(("customer", session.customer_id), encoded)
        if session.mitra_id:
            await self.deps.hub.send(("mitra", session.mitra_id), encoded)
