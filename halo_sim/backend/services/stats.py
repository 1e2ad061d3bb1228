"""Control-center figures and the configuration the apps read."""

from __future__ import annotations

from collections import Counter
from typing import Any

from halo_sim.backend.services.deps import Deps
from halo_sim.backend.services.presence import PresenceService
from halo_sim.domain.pairing import IN_FLIGHT, SessionStatus
from halo_sim.domain.payment import PaymentStatus

# Money actually received: paid and not refunded (failed_pairing is paid too; refunds are out of scope).
PAID = (PaymentStatus.CONFIRMED, PaymentStatus.CONSUMED, PaymentStatus.FAILED_PAIRING)


class ControlCenter:
    """Live stats for the dashboard; prices, durations and support handles for the apps."""

    def __init__(self, deps: Deps, presence: PresenceService) -> None:
        self.deps = deps
        self.presence = presence

    def stats(self) -> dict[str, Any]:
        """What the control center shows, computed from the tables now."""
        store = self.deps.store
        payments = store.rows("payment_requests")
        sessions = store.rows("chat_sessions")
        by_status = Counter(p.status.value for p in payments)
        return {
            "at": self.deps.now(),
            "online_mitras": sum(1 for m in store.rows("mitras") if self.presence.is_online(m)),
            "searching": sum(1 for s in sessions if s.status in IN_FLIGHT),
            "active_sessions": sum(1 for s in sessions if s.status is SessionStatus.ACTIVE),
            "payments_by_status": {status.value: by_status.get(status.value, 0) for status in PaymentStatus},
            "revenue": sum(p.amount for p in payments if p.status in PAID),
        }

    def config(self) -> dict[str, Any]:
        """Prices per duration and the support deep links (the TanyaAdminSheet's buttons)."""
        settings = self.deps.settings
        return {
            "prices": [{"duration_minutes": d, "amount": a} for d, a in sorted(settings.prices.items())],
            "support": {"whatsapp": settings.support_whatsapp, "telegram": settings.support_telegram},
            "heartbeat_interval_s": settings.heartbeat_interval_s,
            "targeted_timeout_s": settings.targeted_timeout_s,
            "pairing_timeout_s": settings.pairing_timeout_s,
        }
