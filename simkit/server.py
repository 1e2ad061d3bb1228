"""Run ASGI apps under uvicorn on a background event loop.

The embedded target, the tests and ``halo-sim serve`` all need real servers on
loopback that start in milliseconds, report the port the OS picked (port 0) and
stop cleanly.  Servers run on a :class:`ServerLoop` — one daemon thread with its
own event loop — so the caller's loop (the scenario runner's) stays as
independent of them as it would be of a remote deployment.  Several servers may
share one loop: the reference backend and its fakes do, so their timers (one
scheduler, one clock) and their HTTP clients all live on the same loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import socket
import threading
from types import TracebackType
from typing import Any

import uvicorn

from simkit.errors import ServerStartError

#: How long a stop waits for clients: first for the app's drain hook (WebSockets closed with a
#: code), then again for uvicorn to finish open responses (an endless SSE stream, a client that
#: stopped reading), after which their tasks are cancelled.  Healthy clients take milliseconds;
#: 2 s each keeps a whole stop well inside Docker's 10 s and Kubernetes' 30 s grace periods.
DRAIN_DEADLINE_S = 2  # whole seconds: uvicorn takes an int

log = logging.getLogger(__name__)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop when it is installed (``HALO_EVENT_LOOP=asyncio`` forces asyncio's own).

    Measured on the chat relay and blast benchmarks (docs in README "Speed"): uvloop's C
    transports cut the per-frame write cost that dominates the profile once the store is indexed.
    """
    if os.environ.get("HALO_EVENT_LOOP", "auto") != "asyncio":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def ws_deflate() -> bool:
    """Whether sockets accept permessage-deflate (``HALO_WS_DEFLATE=true``); off by default.

    Declining the extension is always allowed by RFC 7692 (the apps then send plain frames). Each
    deflate socket holds two zlib contexts (measured: ~38 KiB of the ~67 KiB a mitra socket cost) and
    compresses every frame, which the short chat frames of a LAN or emulator do not need.
    """
    return os.environ.get("HALO_WS_DEFLATE", "false").lower() in ("1", "true", "yes")


# uvicorn closes a socket whose client sends a larger message with close code=1009 (message too big),
# before the app sees it (the catalogue's scan of the source finds the code in this line)
WS_MAX_BYTES = 64 * 1024


class ServerLoop:
    """A daemon thread running one event loop, shared by the servers started on it."""

    def __init__(self, name: str = "servers") -> None:
        self.loop = new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=f"halo-sim-{name}", daemon=True)
        self._thread.start()

    def call(self, coro: Any, timeout: float = 10.0) -> Any:
        """Run a coroutine on the loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        """Stop the loop once its servers are gone."""
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(5)


class _Uvicorn(uvicorn.Server):
    """uvicorn's server, waking the thread that started it the moment start-up ends (bound, or failed)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.startup_ended = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets)
        finally:
            self.startup_ended.set()


class ServerThread:
    """A uvicorn server bound to ``host:port`` (0 = any free port) on a :class:`ServerLoop`.

    Without a loop given, the server gets a loop of its own and closes it when stopped.
    """

    def __init__(
        self, app: Any, host: str = "127.0.0.1", port: int = 0, name: str = "server", loop: ServerLoop | None = None
    ) -> None:
        self.name = name
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            lifespan="on",
            ws="websockets-sansio",
            ws_per_message_deflate=ws_deflate(),
            timeout_graceful_shutdown=DRAIN_DEADLINE_S,
            ws_max_size=WS_MAX_BYTES,
        )
        self._server = _Uvicorn(config)
        self._owns_loop = loop is None
        self._loop = loop
        self._task: concurrent.futures.Future[None] | None = None
        self._failure: BaseException | None = None
        self._drain = getattr(getattr(app, "state", None), "drain", None)
        self.host = host
        self.port = port

    async def _serve(self) -> None:
        try:
            await self._server.serve()
        except BaseException as exc:  # uvicorn exits via SystemExit on bind errors: keep it off the shared loop
            self._failure = exc
        finally:
            self._server.startup_ended.set()  # also when it failed before its start-up (loading the app)

    def start(self, timeout: float = 10.0) -> ServerThread:
        """Start serving and block until the socket is bound (or fail loudly); woken by the server, not polling."""
        if self._loop is None:
            self._loop = ServerLoop(self.name)
        task = self._task = asyncio.run_coroutine_threadsafe(self._serve(), self._loop.loop)
        if not self._server.startup_ended.wait(timeout):
            raise ServerStartError(f"{self.name} did not start within {timeout} s")
        if not self._server.started:
            concurrent.futures.wait([task], timeout)  # its failure is recorded when the task ends
            self._close_own_loop()
            raise ServerStartError(f"{self.name} failed to start on {self.host}:{self.port}: {self._failure!r}")
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    @property
    def url(self) -> str:
        """Base HTTP URL of the running server."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """Base WebSocket URL of the running server."""
        return "ws" + self.url[len("http") :]

    def request_stop(self, deadline: float = DRAIN_DEADLINE_S) -> None:
        """Stop accepting, drain, then ask uvicorn to shut down, without waiting for it (to stop
        several servers at once).  Never takes much longer than ``deadline``, whatever the clients do.

        uvicorn closes WebSockets with 1012 (service restart) before the app's lifespan shutdown
        runs, so an app that must say something else offers an async ``app.state.drain`` hook,
        run here on the server's loop first (the backend closes its sockets with 1001).
        """
        if self._task is None or self._task.done() or self._server.should_exit:
            return
        if self._loop is not None:
            try:
                self._loop.call(self._stop_accepting_and_drain(deadline), deadline + 1.0)
            except concurrent.futures.TimeoutError:
                log.warning("%s: the drain overran its %.1f s deadline", self.name, deadline)
        self._server.should_exit = True

    async def _stop_accepting_and_drain(self, deadline: float) -> None:
        for listener in self._server.servers:
            listener.close()  # no new connections from now on; uvicorn's own close later is a no-op
        if self._drain is None:
            return
        try:
            await asyncio.wait_for(self._drain(), deadline)
        except TimeoutError:
            log.warning("%s: drain hook did not finish within %.1f s; going on", self.name, deadline)

    def stop(self, timeout: float = 2 * DRAIN_DEADLINE_S + 3.0) -> bool:
        """Ask uvicorn to shut down gracefully and wait until it has; False if it did not in ``timeout``."""
        self.request_stop()
        return self.wait_stopped(timeout)

    def wait_stopped(self, timeout: float = DRAIN_DEADLINE_S + 3.0) -> bool:
        """Wait for uvicorn's shutdown (open responses get ``DRAIN_DEADLINE_S``, then are cancelled)."""
        stopped = True
        if self._task is not None:
            try:
                self._task.result(timeout)
            except concurrent.futures.TimeoutError:
                stopped = False
            except Exception:  # already reported by start(), or cancelled with the loop
                pass
        self._close_own_loop()
        return stopped

    def _close_own_loop(self) -> None:
        if self._owns_loop and self._loop is not None:
            self._loop.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
