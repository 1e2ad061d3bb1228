"""The reference backend and its fakes, started together on loopback (or any host).

Used by the embedded target (virtual clock, free ports) and by ``halo-sim
serve`` (system clock, chosen ports, reachable from a phone or emulator).  All
three servers share one event loop and one scheduler, hence one clock: advancing
the virtual clock expires fake Xendit invoices and fires backend timers in one
order.  The fakes start first because the backend needs their URLs; fake Xendit
learns the backend's webhook URL once the backend is up.

With a state file, the three share it too (see :mod:`halo_sim.backend.persistence`):
it is restored before any server starts, written every ``checkpoint_interval_s`` while
serving, and written last by :meth:`Stack.stop` after the servers drained, whatever
their clients do.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fake_fcm import FcmBackend
from fake_fcm import create_app as create_fcm_app
from fake_xendit import CallbackDispatcher, XenditBackend
from fake_xendit import create_app as create_xendit_app
from halo_sim.backend import persistence
from halo_sim.backend.app import create_app as create_backend_app
from halo_sim.backend.config import Settings
from halo_sim.backend.fixtures import default_fixtures_dir
from halo_sim.backend.state import ReferenceBackend
from simkit.clock import Clock, VirtualClock
from simkit.errors import ServerStartError
from simkit.scheduler import Scheduler
from simkit.server import ServerLoop, ServerThread
from simkit.xendit_wire import WEBHOOK_PATH

log = logging.getLogger(__name__)

#: After restoring a checkpoint, the fakes' counters jump this far: a crash may have followed
#: ids handed out after the checkpoint, and more than this many in one interval is not plausible.
CHECKPOINT_ID_SKIP = 1_000_000


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
    checkpoint_interval_s: float | None = 0.0  # 0: save only when stopping; None: the configured interval
    public_url: str | None = None  # the backend's address as clients see it (http://10.0.2.2:8080 on an emulator)


class Stack:
    """Fake FCM, fake Xendit and the reference backend on one loop and one clock."""

    def __init__(self, clock: Clock | None = None, options: StackOptions = StackOptions()) -> None:
        self.options = options
        saved = persistence.load(options.state_file) if options.state_file else None
        self.loop = ServerLoop("stack")
        self.scheduler = Scheduler(clock or VirtualClock())
        self.config, self._generated = _configured(options)
        self.fcm = FcmBackend(clock=self.scheduler.clock)
        self.xendit = XenditBackend(
            self.scheduler, secret_key=self.config.xendit_secret_key, callback_token=self.config.xendit_callback_token
        )
        self.dispatcher = CallbackDispatcher(self.xendit)
        if saved is not None:
            self._restore_fakes(saved)
        ports = (saved or {}).get("ports", {})
        self.fcm_server = self._serve(create_fcm_app(self.fcm), options.fcm_port, "fake-fcm", ports.get("fake_fcm"))
        self.xendit_server = self._serve(
            create_xendit_app(self.xendit, self.dispatcher),
            options.xendit_port,
            "fake-xendit",
            ports.get("fake_xendit"),
        )
        self.backend = ReferenceBackend(self._settings(), self.scheduler, options.fixtures or default_fixtures_dir())
        if saved is not None:
            self._guarded(lambda: self.backend.restore(saved["backend"]))
        self.backend_server = self._serve(create_backend_app(self.backend), options.backend_port, "backend")
        self.xendit.configure({"callback_url": self.backend_server.url + WEBHOOK_PATH})
        if options.public_url:
            self.xendit.configure({"base_url": self.public(self.xendit_server.url)})  # invoice_url a client opens
        self.backend.advertised = {"fcm_url": self.fcm_server.url, "xendit_url": self.xendit_server.url}
        if saved is not None:
            self.loop.call(self._resume_callbacks(saved.get("fake_xendit", {}).get("delivery", {})))
        self._save_lock = threading.Lock()
        self._final_saved = False
        self._checkpoints = self._start_checkpoints()

    def _serve(self, app: object, port: int, name: str, saved_port: int | None = None) -> ServerThread:
        """Bind ``port``; for "any port" (0) first try the port of the saved run, so URLs handed out
        before a restart (checkout pages, the FCM endpoint) keep working."""
        if port == 0 and saved_port:
            try:
                return ServerThread(app, self.options.host, saved_port, name, loop=self.loop).start()
            except ServerStartError:
                log.warning(
                    "%s: port %d of the saved run is taken; URLs from before the restart break", name, saved_port
                )
        return ServerThread(app, self.options.host, port, name, loop=self.loop).start()

    # --- the state file -------------------------------------------------------------------

    def _guarded(self, restore: Any) -> None:
        """A state file that loads as JSON but does not fit is refused like an unreadable one."""
        try:
            restore()
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise persistence.StateFileError(
                f"{self.options.state_file}: the saved state does not restore ({type(exc).__name__}: {exc}); "
                "move it away to start fresh"
            ) from None

    def _restore_fakes(self, saved: dict[str, Any]) -> None:
        skip = CHECKPOINT_ID_SKIP if saved.get("kind") == "checkpoint" else 0
        xendit = saved.get("fake_xendit", {})
        self._guarded(lambda: self.xendit.restore(xendit.get("model", {}), skip))
        self._guarded(lambda: self.fcm.restore(saved.get("fake_fcm", {}), skip))

    async def _resume_callbacks(self, delivery: dict[str, Any]) -> None:
        """Once the backend's webhook URL is known: unfinished callbacks and invoice expiries resume."""
        self._guarded(lambda: self.dispatcher.restore(delivery))
        self.xendit.rearm_expiry()

    def snapshot(self, kind: str = "drain") -> dict[str, Any]:
        """The whole state file's content; call it on the serving loop (or once it has stopped)."""
        return {
            "format": persistence.FORMAT,
            "kind": kind,
            "saved_at": time.time(),
            "ports": {"fake_fcm": self.fcm_server.port, "fake_xendit": self.xendit_server.port},
            "backend": self.backend.snapshot(),
            "fake_xendit": {"model": self.xendit.snapshot(), "delivery": self.dispatcher.snapshot()},
            "fake_fcm": self.fcm.snapshot(),
        }

    def _write(self, data: dict[str, Any]) -> None:
        """Save, unless the final save already happened (a late checkpoint must not overwrite it)."""
        assert self.options.state_file is not None
        with self._save_lock:
            if self._final_saved:
                return
            persistence.save(self.options.state_file, data)
            self._final_saved = data["kind"] == "drain"

    def _start_checkpoints(self) -> Any:
        configured = self.options.checkpoint_interval_s
        interval = self.config.checkpoint_interval_s if configured is None else configured
        if self.options.state_file is None or interval <= 0:
            return None
        return asyncio.run_coroutine_threadsafe(self._checkpoint_every(interval), self.loop.loop)

    async def _checkpoint_every(self, interval: float) -> None:
        """Periodic checkpoints (wall clock): what a SIGKILL loses is bounded by ``interval``."""
        while True:
            await asyncio.sleep(interval)
            data = self.snapshot("checkpoint")  # on the loop: no request runs halfway through it
            try:
                await asyncio.to_thread(self._write, data)
            except persistence.StateFileError as exc:
                log.error("checkpoint failed: %s", exc)  # keep serving; the next one or the drain retries

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

    @property
    def generated_secrets(self) -> frozenset[str]:
        """The Xendit secrets picked at random for this start (configured ones are the user's to know)."""
        return self._generated

    def public(self, url: str) -> str:
        """``url`` of one of our servers as a client reaches it: the public URL's scheme and host.

        The backend's own URL becomes the public URL itself; a fake keeps its port (it listens on
        the same machine, so the address that reaches the backend reaches it too).
        """
        public = self.options.public_url
        if not public:
            return url
        if url == self.backend_server.url:
            return public.rstrip("/")
        there = urlsplit(public)
        return f"{there.scheme}://{there.hostname}:{urlsplit(url).port}"

    def urls(self) -> dict[str, str]:
        """What to point apps and tools at (at the public URL's host when one is given)."""
        backend = self.public(self.backend_server.url)
        return {
            "backend": backend,
            "websocket": f"ws{backend[4:]}/ws",
            "fake_fcm": self.public(self.fcm_server.url),
            "fake_xendit": self.public(self.xendit_server.url),
        }

    def servers(self) -> tuple[ServerThread, ...]:
        """Backend first: it drains its sockets while the fakes still answer."""
        return self.backend_server, self.xendit_server, self.fcm_server

    def stop(self, wait: bool = True) -> None:
        """Stop every server at once (the backend closes its sockets with 1001), then the loop;
        with a state file, save last.

        Each stage has a deadline (:data:`simkit.server.DRAIN_DEADLINE_S`), so a client that
        stopped reading or an endless SSE stream delays the stop by seconds at most and the
        state file is written regardless.  A failed save raises
        :class:`~halo_sim.backend.persistence.StateFileError` naming the file.

        ``wait=False`` only drains and asks: for a CLI about to exit, whose daemon threads end
        with the process, waiting for uvicorn's shutdown tick would only add a fifth of a second.
        """
        if self._checkpoints is not None:
            self._checkpoints.cancel()
        for server in self.servers():
            server.request_stop()
        if not wait and self.options.state_file is None:
            return
        stopped = all([server.wait_stopped() for server in self.servers()])
        if not stopped:
            log.warning("a server did not finish its shutdown in time; saving anyway")
        self._call(self.scheduler.stop())
        if self.options.state_file is not None:
            self._write(self._final_snapshot())
        self.loop.close()

    def _call(self, coro: Any) -> Any:
        try:
            return self.loop.call(coro, timeout=2.0)
        except Exception as exc:  # a wedged loop must not keep the state from being saved
            log.warning("shutdown step on the server loop failed: %r", exc)
            return None

    def _final_snapshot(self) -> dict[str, Any]:
        """Taken on the loop (nothing mutates meanwhile); directly if the loop does not answer."""

        async def take() -> dict[str, Any]:
            return self.snapshot("drain")

        return self._call(take()) or self.snapshot("drain")


def check_public_url(url: str) -> str | None:
    """Why ``url`` cannot be a public URL (scheme, host and optional port only), or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        return f"{url!r} is not a URL ({exc})"
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") or parts.query:
        return f"{url!r} must be http(s)://HOST[:PORT], e.g. http://10.0.2.2:8080 for the Android emulator"
    return None


def _configured(options: StackOptions) -> tuple[Settings, frozenset[str]]:
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
    picked = frozenset(name for name in generated if not getattr(config, name))
    return config.model_copy(update=generated), picked
