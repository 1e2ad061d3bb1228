"""Mitra presence: online toggle, heartbeats, and who is eligible for a blast.

Presence announces two events and knows nothing of pairing: ``mitra.available``
when a mitra becomes reachable (toggled online, or a heartbeat after a lapse) and
``mitra.offline`` when it toggles off.  The pairing subscriber offers the blasts
still searching, or withdraws the offers, so the HTTP route, the WS frame and
the ``_test`` hooks all get the same behaviour from the one method they call.
"""

from __future__ import annotations

from typing import Any, Literal

from halo_sim.backend.services.deps import Deps
from halo_sim.backend.tables import ChatSession, Mitra
from halo_sim.domain.pairing import SessionStatus
from halo_sim.domain.presence import PresenceFacts, eligible_for_blast, is_online

MITRA_AVAILABLE = "mitra.available"
MITRA_OFFLINE = "mitra.offline"


class PresenceService:
    """Answers "is this mitra reachable and free?" from heartbeats and the clock."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def set_online(self, mitra_id: str, online: bool) -> Mitra:
        """The mitra's toggle; going online counts as a heartbeat, going offline withdraws its offers."""
        changes: dict[str, object] = {"online": online}
        if online:
            changes["last_heartbeat_at"] = self.deps.now()
        mitra = self.deps.store.mitras.update(mitra_id, **changes)
        await self.deps.bus.emit(MITRA_AVAILABLE if online else MITRA_OFFLINE, {"mitra_id": mitra_id})
        return mitra

    async def heartbeat(self, mitra_id: str) -> Mitra:
        """The app's periodic I-am-alive; back from a lapse, the mitra is available again."""
        was_online = self.is_online(self.deps.store.mitras.require(mitra_id, "mitra"))
        mitra = self.deps.store.mitras.update(mitra_id, last_heartbeat_at=self.deps.now())
        if not was_online and self.is_online(mitra):
            await self.deps.bus.emit(MITRA_AVAILABLE, {"mitra_id": mitra_id})
        return mitra

    def active_session(self, mitra_id: str) -> ChatSession | None:
        """The session the mitra is chatting in now, if any."""
        return self.deps.store.chat_sessions.latest(mitra_id=mitra_id, status=SessionStatus.ACTIVE)

    def facts(self, mitra: Mitra) -> PresenceFacts:
        """What the pure presence rules need to know about ``mitra``."""
        busy = self.deps.store.chat_sessions.count(mitra_id=mitra.id, status=SessionStatus.ACTIVE) > 0
        return PresenceFacts(mitra.id, mitra.online, mitra.last_heartbeat_at, busy)

    def is_online(self, mitra: Mitra) -> bool:
        """Online flag set and heartbeat fresh."""
        return is_online(self.facts(mitra), self.deps.now(), self.deps.settings.heartbeat_timeout_s)

    def is_eligible(self, mitra_id: str) -> bool:
        """Online, heartbeat fresh and free: a blast may go to this mitra now."""
        mitra = self.deps.store.mitras.get(mitra_id)
        return mitra is not None and bool(self._eligible([mitra]))

    def why_unavailable(self, mitra_id: str) -> Literal["mitra_offline", "mitra_busy"] | None:
        """Why no offer can reach this mitra now (None: it can be offered): the targeted wait's failure cause."""
        mitra = self.deps.store.mitras.get(mitra_id)
        if mitra is None or not self.is_online(mitra):
            return "mitra_offline"
        return "mitra_busy" if self.facts(mitra).busy else None

    def eligible(self) -> list[str]:
        """Mitras a blast may go to now (only those with the online flag are looked at)."""
        return self._eligible(self.deps.store.mitras.find(online=True))

    def online_count(self) -> int:
        """How many mitras are online now (toggle on and heartbeat fresh)."""
        return sum(1 for m in self.deps.store.mitras.find(online=True) if self.is_online(m))

    def _eligible(self, mitras: list[Mitra]) -> list[str]:
        facts = [self.facts(m) for m in mitras]
        return eligible_for_blast(facts, self.deps.now(), self.deps.settings.heartbeat_timeout_s)

    def profile(self, mitra_id: str) -> dict[str, Any]:
        """A mitra as the mitra app shows it: no password, effective presence, current session."""
        mitra = self.deps.store.mitras.require(mitra_id, "mitra")
        active = self.active_session(mitra.id)
        return {
            "id": mitra.id,
            "phone": mitra.phone,
            "display_name": mitra.display_name,
            "online": mitra.online,
            "last_heartbeat_at": mitra.last_heartbeat_at,
            "topics": list(mitra.topics),
            "is_online": self.is_online(mitra),
            "active_session_id": active.id if active else None,
        }

    def availability(self, mitra_id: str) -> dict[str, Any]:
        """Before paying for a targeted chat: is that bestie online and free? (the prePayReturning popup)."""
        mitra = self.deps.store.mitras.require(mitra_id, "mitra")
        facts = self.facts(mitra)
        return {
            "mitra_id": mitra.id,
            "display_name": mitra.display_name,
            "mitra_is_online": self.is_online(mitra),
            "busy": facts.busy,
        }
