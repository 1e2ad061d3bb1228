"""What the scenario runner needs to know about the system under test.

Only URLs, credentials, capabilities and the route table: the runner talks to
every target over HTTP and WebSocket the same way, whether it is the embedded
reference backend on loopback or a staging deployment.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from halo_sim.targets.routes import DEFAULT_ROUTES, Route

# Capabilities a target may have; a step needing one the target lacks is skipped with the reason.
CAPABILITIES = {
    "test_endpoints": "the /internal/_test/* hooks of the Halo backend",
    "otp_readable": "OTP codes readable through /internal/_test/otp",
    "seed_mitra": "mitras can be created through /internal/_test/seed-mitra",
    "state_dump": "the whole state and open sockets through /internal/_test/state",
    "virtual_clock": "a clock advanced through /internal/_test/clock",
    "fcm_inbox": "pushes land in a fake FCM whose inbox can be read",
    "xendit_fake": "payments go to a fake Xendit whose invoices can be paid and expired",
    "settings": "backend settings read and changed per scenario through /internal/_test/settings",
}


@dataclass(frozen=True)
class MitraAccount:
    """A test mitra that already exists on a live target (it cannot create mitras)."""

    phone: str
    password: str


@dataclass
class Target:
    """A system under test as the runner sees it."""

    name: str
    base_url: str
    ws_url: str
    capabilities: frozenset[str] = frozenset()
    test_token: str | None = None
    fcm_url: str | None = None
    xendit_url: str | None = None
    xendit_callback_token: str | None = None
    xendit_secret_key: str | None = None  # what the fake's invoice API takes (the http step's xendit_key)
    routes: dict[str, Route] = field(default_factory=lambda: dict(DEFAULT_ROUTES))
    mitras: tuple[MitraAccount, ...] = ()
    live: bool = False

    def has(self, capability: str) -> bool:
        """Whether this target offers ``capability``."""
        return capability in self.capabilities

    def test_headers(self) -> dict[str, str]:
        """Headers for the ``/internal/_test`` surface."""
        return {"x-test-token": self.test_token} if self.test_token else {}

    async def before_scenario(self, http: httpx.AsyncClient, seed: int) -> None:
        """Prepare for one scenario run (a live target has nothing to reset: runs isolate by data)."""

    def close(self, wait: bool = True) -> None:
        """Release whatever the target started (``wait=False``: the process is about to exit anyway)."""
