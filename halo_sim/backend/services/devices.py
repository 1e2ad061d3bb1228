"""FCM device registrations and the OS-level notification permission."""

from __future__ import annotations

from halo_sim.backend.services.deps import Deps, Principal
from halo_sim.backend.tables import Device


class DeviceService:
    """Keeps each user's FCM tokens and whether the OS lets them show notifications."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def register(self, user: Principal, fcm_token: str, platform: str, notifications_enabled: bool) -> Device:
        """Upsert by token: the app re-registers on every start and when the permission changes."""
        owner = {
            "customer_id": user.id if user.role == "customer" else None,
            "mitra_id": user.id if user.role == "mitra" else None,
        }
        existing = self.deps.store.devices.first(fcm_token=fcm_token)
        if existing is not None:  # the token follows whoever registered it last (see docs/contract.md)
            return self.deps.store.devices.update(
                existing.id,
                platform=platform,
                notifications_enabled=notifications_enabled,
                updated_at=self.deps.now(),
                **owner,
            )
        row = Device(self.deps.ids.uuid(), fcm_token, platform, notifications_enabled, self.deps.now(), **owner)
        return self.deps.store.devices.insert(row)

    def of(self, user: Principal) -> list[Device]:
        """Every device registered to ``user``, newest last."""
        column = "customer_id" if user.role == "customer" else "mitra_id"
        return self.deps.store.devices.find(**{column: user.id})

    def push_tokens(self, user: Principal) -> tuple[str, ...]:
        """Tokens a push can be shown on (notifications enabled at OS level)."""
        return tuple(d.fcm_token for d in self.of(user) if d.notifications_enabled)

    def notifications_enabled(self, user: Principal) -> bool:
        """What the home banner reads: false when no device lets notifications through."""
        return bool(self.push_tokens(user))

    def forget(self, fcm_token: str) -> None:
        """Drop a token FCM reported as UNREGISTERED."""
        for device in self.deps.store.devices.find(fcm_token=fcm_token):
            self.deps.store.devices.delete(device.id)
