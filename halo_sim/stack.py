"""The reference backend and its fakes, started together on loopback (or any host).

Used by the embedded target (virtual clock, free ports) and by ``halo-sim
serve`` (system clock, chosen ports, reachable from a phone or emulator).  All
three servers share one event loop and one scheduler, hence one clock: advancing
the virtual clock expires fake Xendit invoices and fires backend timers in one
order.  The fakes start first because the backend needs their URLs; fake Xendit
learns the backend's webhook URL once the backend is up.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from fake_fcm import FcmBackend
from fake_fcm import create_app as create_fcm_app
from fake_xendit import CallbackDispatcher, XenditBackend
from fake_xendit import create_app as create_xendit_app
from halo_sim.backend.app import create_app as create_backend_app
from halo_sim.backend.config import Settings
from halo_sim.backend.fixtures import default_fixtures_dir
from halo_sim.backend.state import ReferenceBackend
from simkit.clock import Clock, VirtualClock
from simkit.scheduler import Scheduler
from simkit.server import ServerLoop, ServerThread
from simkit.xendit_wire import WEBHOOK_PATH


@dataclass(frozen=True)
class StackOptions:
    """Where and how the stack runs; None takes the configured value (environment, ``./.env``, default)."""

    host: str = "127.0.0.1"
    backend_port: int = 0
    fcm_port: int = 0
    xendit_port: int = 0
    env: str | None = "test"
    seed: int | None = None
    test_token: str | None = None
    xendit_secret_key: str | None = None
    xendit_callback_token: str | None = None
    fixtures: Path | None = None
    state_file: Path | None = None


class Stack:
    """Fake FCM, fake Xendit and the reference backend on one loop and one clock."""

    def __init__(self, clock: Clock | None = None, options: StackOptions = StackOptions()) -> None:
        self.options = options
        self.loop = ServerLoop("stack")
        self.scheduler = Scheduler(clock or VirtualClock())
        self.config = _configured(options)
        self.fcm = FcmBackend(clock=self.scheduler.clock)
        self.fcm_server = self._serve(create_fcm_app(self.fcm), options.fcm_port, "fake-fcm")
        self.xendit = XenditBackend(
            self.scheduler, secret_key=self.config.xendit_secret_key, callback_token=self.config.xendit_callback_token
        )
        self.xendit_server = self._serve(
            create_xendit_app(self.xendit, CallbackDispatcher(self.xendit)), options.xendit_port, "fake-xendit"
        )
        self.backend = ReferenceBackend(
            self._settings(), self.scheduler, options.fixtures or default_fixtures_dir(), options.state_file
        )
        self.backend_server = self._serve(create_backend_app(self.backend), options.backend_port, "backend")
        self.xendit.configure({"callback_url": self.backend_server.url + WEBHOOK_PATH})

    def _serve(self, app: object, port: int, name: str) -> ServerThread:
        return ServerThread(app, self.options.host, port, name, loop=self.loop).start()

    def _settings(self) -> Settings:
        """The configuration, wired to this stack's fakes (the only three settings the stack decides)."""
        wiring = {
            "fcm_base_url": self.fcm_server.url,
            "xendit_enabled": True,
            "xendit_base_url": self.xendit_server.url,
        }
        return self.config.model_copy(update=wiring)

    @property
    def xendit_callback_token(self) -> str:
        """What fake Xendit sends and the backend accepts as ``x-callback-token``."""
        return self.config.xendit_callback_token

    def urls(self) -> dict[str, str]:
        """What to point apps and tools at."""
        return {
            "backend": self.backend_server.url,
            "websocket": f"{self.backend_server.ws_url}/ws",
            "fake_fcm": self.fcm_server.url,
            "fake_xendit": self.xendit_server.url,
        }

    def servers(self) -> tuple[ServerThread, ...]:
        """Backend first: it drains its sockets while the fakes still answer."""
        return self.backend_server, self.xendit_server, self.fcm_server

    def stop(self, wait: bool = True) -> None:
        """Stop every server at once (the backend closes its sockets with 1001), then the loop.

        ``wait=False`` only drains and asks: for a CLI about to exit, whose daemon threads end
        with the process, waiting for uvicorn's shutdown tick would only add a fifth of a second.
        """
        for server in self.servers():
            server.request_stop()
        if not wait:
            return
        for server in self.servers():
            server.stop()
        self.loop.call(self.scheduler.stop())
        self.loop.close()


def _configured(options: StackOptions) -> Settings:
    """The settings from the configuration and the options; Xendit secrets not configured are random per start.

    Never a constant from the source: a known callback token lets anyone confirm a payment.
    """
    config = Settings.from_env(
        env=options.env,
        seed=options.seed,
        test_token=options.test_token,
        xendit_secret_key=options.xendit_secret_key,
        xendit_callback_token=options.xendit_callback_token,
    )
    generated = {
        "xendit_secret_key": config.xendit_secret_key or f"xnd_development_{secrets.token_hex(16)}",
        "xendit_callback_token": config.xendit_callback_token or secrets.token_hex(32),
    }
    return config.model_copy(update=generated)
