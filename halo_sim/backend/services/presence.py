"""Mitra presence: online toggle, heartbeats, and who is eligible for a blast."""

from __future__ import annotations

from halo_sim.backend.services.deps import Deps
from halo_sim.backend.tables import Mitra
from halo_sim.domain.pairing import SessionStatus
from halo_sim.domain.presence import PresenceFacts, eligible_for_blast, is_online


class PresenceService:
    """Answers "is this mitra reachable and free?" from heartbeats and the clock."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def set_online(self, mitra_id: str, online: bool) -> Mitra:
        """The mitra's toggle; going online counts as a heartbeat."""
        changes: dict[str, object] = {"online": online}
        if online:
            changes["last_heartbeat_at"] = self.deps.now()
        return self.deps.store.update("mitras", mitra_id, **changes)  # type: ignore[no-any-return]

    def heartbeat(self, mitra_id: str) -> Mitra:
        """The app's periodic I-am-alive."""
        return self.deps.store.update("mitras", mitra_id, last_heartbeat_at=self.deps.now())  # type: ignore[no-any-return]

    def facts(self, mitra: Mitra) -> PresenceFacts:
        """What the pure presence rules need to know about ``mitra``."""
        busy = bool(self.deps.store.find("chat_sessions", mitra_id=mitra.id, status=SessionStatus.ACTIVE))
        return PresenceFacts(mitra.id, mitra.online, mitra.last_heartbeat_at, busy)

    def is_online(self, mitra: Mitra) -> bool:
        """Online flag set and heartbeat fresh."""
        return is_online(self.facts(mitra), self.deps.now(), self.deps.settings.heartbeat_timeout_s)

    def eligible(self) -> list[str]:
        """Mitras a blast may go to now."""
        facts = [self.facts(m) for m in self.deps.store.rows("mitras")]
        return eligible_for_blast(facts, self.deps.now(), self.deps.settings.heartbeat_timeout_s)
