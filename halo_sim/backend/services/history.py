"""The returning customer's besties: ``GET /api/customer/history`` in one payload.

One row per mitra the customer has chatted with — name, last session, topics,
how many sessions, and whether the mitra is online now — so the history list
needs no per-row presence round trip (the seed's getCustomerHistory change).
"""

from __future__ import annotations

from typing import Any

from halo_sim.backend.services.deps import Deps
from halo_sim.backend.services.presence import PresenceService
from halo_sim.backend.tables import ChatSession, Mitra
from halo_sim.domain.pairing import SessionStatus

PAST = (SessionStatus.ACTIVE, SessionStatus.ENDED)


class HistoryService:
    """Previous besties of a customer, newest first."""

    def __init__(self, deps: Deps, presence: PresenceService) -> None:
        self.deps = deps
        self.presence = presence

    def of(self, customer_id: str) -> list[dict[str, Any]]:
        """One row per previous mitra, most recent session first."""
        by_mitra: dict[str, list[ChatSession]] = {}
        for session in self.deps.store.chat_sessions.find(customer_id=customer_id):
            if session.status in PAST and session.mitra_id:
                by_mitra.setdefault(session.mitra_id, []).append(session)
        rows = [self._row(self.deps.store.mitras.require(mid, "mitra"), sessions) for mid, sessions in by_mitra.items()]
        return sorted(rows, key=lambda r: r["last_session_at"], reverse=True)

    def _row(self, mitra: Mitra, sessions: list[ChatSession]) -> dict[str, Any]:
        return {
            "mitra_id": mitra.id,
            "display_name": mitra.display_name,
            "topics": list(mitra.topics),
            "last_session_at": max(s.started_at or s.created_at for s in sessions),
            "sessions_count": len(sessions),
            "mitra_is_online": self.presence.is_online(mitra),
        }
