"""The reference backend as one resettable object (moto's backend pattern).

Routes reach every service through a :class:`ReferenceBackend`; ``reset()``
returns it to the freshly-seeded state between scenarios without restarting
the server.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from pathlib import Path
from typing import Any

from halo_sim.backend import persistence
from halo_sim.backend.config import Settings
from halo_sim.backend.events import EventBus
from halo_sim.backend.fixtures import load_fixtures
from halo_sim.backend.hub import Hub
from halo_sim.backend.push import FcmClient
from halo_sim.backend.services.auth import AuthService
from halo_sim.backend.services.chat import ChatService
from halo_sim.backend.services.deps import TIMER_OWNER, Deps, Ids
from halo_sim.backend.services.devices import DeviceService
from halo_sim.backend.services.history import HistoryService
from halo_sim.backend.services.notify import Notifier
from halo_sim.backend.services.pairing import PairingService
from halo_sim.backend.services.payments import PaymentService
from halo_sim.backend.services.presence import PresenceService
from halo_sim.backend.services.reconcile import Reconciler
from halo_sim.backend.services.sessions import SessionTimer
from halo_sim.backend.services.stats import ControlCenter
from halo_sim.backend.services.testing import TestSupport
from halo_sim.backend.services.tuning import Tuning
from halo_sim.backend.services.webhooks import XenditWebhook
from halo_sim.backend.store import Store
from halo_sim.backend.xendit import XenditClient
from simkit.clock import SystemClock, VirtualClock
from simkit.scheduler import Scheduler

log = logging.getLogger(__name__)

# The columns that let whoever reads them log in as someone else.
SECRET_COLUMNS = {"auth_sessions": ("token",), "mitras": ("password",)}
REDACTED = "<redacted>"


def redacted(tables: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The dumped tables with every secret column replaced by ``<redacted>`` (the rows themselves stay)."""
    out = dict(tables)
    for table, columns in SECRET_COLUMNS.items():
        out[table] = [{**row, **{c: REDACTED for c in columns}} for row in tables.get(table, [])]
    return out


class ReferenceBackend:
    """Every service of the reference backend, wired once, resettable as a whole."""

    def __init__(
        self,
        settings: Settings | None = None,
        scheduler: Scheduler | None = None,
        fixtures: Path | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.scheduler = scheduler or Scheduler(SystemClock())
        self.fixtures = fixtures
        self.hub = Hub()
        #: What a halo-sim stack serving this backend adds to the discovery answer (its fakes' URLs).
        self.advertised: dict[str, str] = {}
        self.closing = asyncio.Event()  # set when the server drains: endless streams (SSE) end
        self.push = FcmClient(
            self.settings.fcm_base_url,
            self.settings.fcm_project_id,
            self.settings.fcm_access_token,
            self.settings.fcm_timeout_s,
        )
        self.xendit = (
            XenditClient(self.settings.xendit_base_url, self.settings.xendit_secret_key)
            if self.settings.xendit_enabled
            else None
        )
        self._wire()

    def _wire(self) -> None:
        self.deps = Deps(
            self.settings,
            self.scheduler,
            Store(),
            EventBus(),
            self.hub,
            self.push,
            Ids(self.settings.seed),
            self.xendit,
        )
        self.devices = DeviceService(self.deps)
        self.auth = AuthService(self.deps, self.devices)
        self.presence = PresenceService(self.deps)
        self.notifier = Notifier(self.deps, self.devices)
        self.payments = PaymentService(self.deps)
        self.sessions = SessionTimer(self.deps)
        self.pairing = PairingService(self.deps, self.payments, self.presence, self.notifier, self.sessions)
        self.chat = ChatService(self.deps, self.pairing, self.notifier)
        self.history = HistoryService(self.deps, self.presence)
        self.control = ControlCenter(self.deps, self.presence)
        self.tuning = Tuning(self.deps, self.control)
        self.webhook = XenditWebhook(self.deps, self.payments)
        self.testing = TestSupport(
            self.deps, self.auth, self.payments, self.pairing, self.presence, self.chat, self.notifier, self.webhook
        )
        self.reconciler = Reconciler(self.deps, self.payments)
        load_fixtures(self.deps.store, self.fixtures, self.deps.now())
        self.control.seed_config()

    @property
    def store(self) -> Store:
        """The tables."""
        return self.deps.store

    def reset(self, seed: int | None = None) -> None:
        """Forget every row, timer and event; re-seed the fixtures; settings tuned at run time go back to
        the start-up ones (``self.settings``). Open sockets stay open."""
        if seed is not None:
            self.settings = self.settings.model_copy(update={"seed": seed})
        self.scheduler.clear(owner=TIMER_OWNER)
        if isinstance(self.scheduler.clock, VirtualClock):
            self.scheduler.clock.rewind()
        self._wire()
        self.reconciler.schedule()

    def snapshot(self) -> dict[str, Any]:
        """The backend's part of the state file (rows and the id generator); call it on the serving loop."""
        return persistence.snapshot(self.store, self.deps.ids.rng.getstate())

    def restore(self, saved: dict[str, Any]) -> None:
        """Continue from a :meth:`snapshot` (before serving): rows back, timers re-armed from them.

        The id generator continues from its saved state *mixed with fresh entropy*: a snapshot
        may be a checkpoint older than the last id handed out before a crash, and replaying the
        saved state would hand those ids out again, to someone else.
        """
        rng = self.deps.ids.rng
        rng.setstate(persistence.restore(self.store, saved))
        rng.seed(rng.getrandbits(128) ^ secrets.randbits(128))
        self.control.seed_config()  # a state file from before the config table has none
        self.pairing.resume_timers()

    async def start(self) -> None:
        """Start-up: one reconciliation pass (payments may have moved while it was down), then the sweep."""
        await self.reconciler.sweep()
        self.reconciler.schedule()

    async def drain(self, deadline: float = 2.0) -> None:
        """Close every socket with 1001 (going away), waiting at most ``deadline`` seconds.

        A client that stopped reading must not hold up a shutdown: past the deadline the
        remaining sockets are left to the server, which drops them.
        """
        self.closing.set()
        try:
            await asyncio.wait_for(self.hub.close_all(code=1001), deadline)
        except TimeoutError:
            log.warning("sockets not closed within %.1f s (a client stopped reading); dropping them", deadline)

    async def close(self) -> None:
        """Shutdown: sockets go away with 1001, outbound clients close."""
        await self.drain()
        await self.push.aclose()
        if self.xendit is not None:
            await self.xendit.aclose()

    def discovery(self) -> dict[str, Any]:
        """What this backend offers a scenario runner pointed at its URL (``GET /internal/_test/discovery``).

        The capabilities it really has, its fakes' URLs and the callback token its webhook checks, so
        ``--target URL`` needs no targets file against ``halo-sim serve``.
        """
        capabilities = {"test_endpoints", "otp_readable", "seed_mitra", "state_dump", "settings"}
        if self.scheduler.is_virtual:
            capabilities.add("virtual_clock")
        if "fcm_url" in self.advertised:
            capabilities.add("fcm_inbox")
        if "xendit_url" in self.advertised and self.settings.xendit_enabled:
            capabilities.add("xendit_fake")
        return {
            "server": "halo-sim reference backend",
            "capabilities": sorted(capabilities),
            "virtual_clock": self.scheduler.is_virtual,
            "xendit_callback_token": self.settings.xendit_callback_token or None,
            "fcm_url": self.advertised.get("fcm_url"),
            "xendit_url": self.advertised.get("xendit_url"),
        }

    def dump(self, secrets: bool = False) -> dict[str, Any]:
        """The whole state, for ``_test/state`` and failure reports; secret columns redacted unless ``secrets``."""
        tables = self.store.dump()
        return {
            "now": self.deps.now(),
            "tables": tables if secrets else redacted(tables),
            "sockets": self.hub.connections(),
            "hub": self.hub.stats(),
            "timers": [{"at": t.when, "name": t.name} for t in self.scheduler.pending()],
            "events": self.deps.bus.history.newest(),
            "webhooks": self.webhook.log.newest(),
            "errors": [*self.deps.bus.errors.newest(), *self.scheduler.errors.newest()],
            "logs": {
                "events": self.deps.bus.history.describe(),
                "webhooks": self.webhook.log.describe(),
                "hub_frames": {"kept": len(self.hub.sent), "cap": self.hub.sent.maxlen},
            },
        }
