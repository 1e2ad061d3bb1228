"""The reference backend and its fakes, started together on loopback (or any host).

Used by the embedded target (virtual clock, free ports) and by ``halo-sim
serve`` (system clock, chosen ports, reachable from a phone or emulator).  Fake
FCM starts first because the backend needs its URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fake_fcm import FcmBackend, create_app as create_fcm_app
from halo_sim.backend.app import create_app as create_backend_app
from halo_sim.backend.config import Settings
from halo_sim.backend.fixtures import default_fixtures_dir
from halo_sim.backend.state import ReferenceBackend
from halo_sim.clock import Clock, VirtualClock
from halo_sim.scheduler import Scheduler
from halo_sim.server import ServerThread


@dataclass(frozen=True)
class StackOptions:
    """Where and how the stack runs."""

    host: str = "127.0.0.1"
    backend_port: int = 0
    fcm_port: int = 0
    env: str = "test"
    seed: int = 0
    test_token: str | None = None
    fixtures: Path | None = None


class Stack:
    """Fake FCM and the reference backend on one clock, each on its own server thread."""

    def __init__(self, clock: Clock | None = None, options: StackOptions = StackOptions()) -> None:
        self.options = options
        self.scheduler = Scheduler(clock or VirtualClock())
        self.fcm = FcmBackend(clock=self.scheduler.clock)
        self.fcm_server = ServerThread(create_fcm_app(self.fcm), options.host, options.fcm_port, "fake-fcm").start()
        settings = Settings.from_env(env=options.env, seed=options.seed, test_token=options.test_token,
                                     fcm_base_url=self.fcm_server.url)
        self.backend = ReferenceBackend(settings, self.scheduler, options.fixtures or default_fixtures_dir())
        self.backend_server = ServerThread(create_backend_app(self.backend), options.host, options.backend_port,
                                           "backend").start()

    def urls(self) -> dict[str, str]:
        """What to point apps and tools at."""
        return {"backend": self.backend_server.url, "websocket": f"{self.backend_server.ws_url}/ws",
                "fake_fcm": self.fcm_server.url}

    def stop(self) -> None:
        """Stop both servers at once (the backend closes its sockets with 1001) and wait for them."""
        for server in (self.backend_server, self.fcm_server):
            server.request_stop()
        for server in (self.backend_server, self.fcm_server):
            server.stop()
