"""Control-center figures and the configuration the apps read — and the control center changes.

The seed's support handles and prices are "CC-config-driven": they live in the
``app_config`` row (seeded from the settings), the control center rewrites them
at run time, and ``/api/config`` and the payment prices follow at once.
"""

from __future__ import annotations

from typing import Any

from halo_sim.backend.services.deps import CONFIG_ID, Deps
from halo_sim.backend.services.presence import PresenceService
from halo_sim.backend.tables import AppConfig
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
        """What the control center shows, computed from the indexes now."""
        sessions = self.deps.store.chat_sessions
        payments = self.deps.store.payment_requests
        return {
            "at": self.deps.now(),
            "online_mitras": self.presence.online_count(),
            "searching": sum(sessions.count(status=s) for s in IN_FLIGHT),
            "active_sessions": sessions.count(status=SessionStatus.ACTIVE),
            "payments_by_status": {s.value: payments.count(status=s) for s in PaymentStatus},
            "revenue": sum(p.amount for p in payments.find_in("status", PAID)),
        }

    def seed_config(self) -> AppConfig:
        """The configuration row from the settings, unless one exists (restored from a state file)."""
        existing = self.deps.store.app_config.get(CONFIG_ID)
        if existing is not None:
            return existing
        settings = self.deps.settings
        row = AppConfig(CONFIG_ID, dict(settings.prices), settings.support_whatsapp, settings.support_telegram)
        return self.deps.store.app_config.insert(row)

    def update_config(
        self, prices: dict[int, int] | None, whatsapp: str | None, telegram: str | None
    ) -> dict[str, Any]:
        """The control center changes prices and support links; the apps read the change at once."""
        changes: dict[str, Any] = {"prices": prices, "support_whatsapp": whatsapp, "support_telegram": telegram}
        self.deps.store.app_config.update(CONFIG_ID, **{k: v for k, v in changes.items() if v is not None})
        return self.config()

    def config(self) -> dict[str, Any]:
        """Prices per duration and the support deep links (the TanyaAdminSheet's buttons)."""
        settings = self.deps.settings
        current = self.deps.config()
        return {
            "prices": [{"duration_minutes": d, "amount": a} for d, a in sorted(current.prices.items())],
            "support": {"whatsapp": current.support_whatsapp, "telegram": current.support_telegram},
            "heartbeat_interval_s": settings.heartbeat_interval_s,
            "targeted_timeout_s": settings.targeted_timeout_s,
            "pairing_timeout_s": settings.pairing_timeout_s,
        }
