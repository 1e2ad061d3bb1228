"""Run an ASGI app under uvicorn on a background thread.

The embedded target, the tests and ``halo-sim serve`` all need real servers on
loopback that start in milliseconds, report the port the OS picked (port 0) and
stop cleanly.  Running each uvicorn server on its own thread and event loop keeps
the caller's loop (the scenario runner's) fully independent of the servers',
exactly as it would be against a remote deployment.
"""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType
from typing import Any

import uvicorn

from halo_sim.errors import ServerStartError


class ServerThread:
    """A uvicorn server bound to ``host:port`` (0 = any free port) on a daemon thread."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, name: str = "server") -> None:
        self.name = name
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", lifespan="on", ws="websockets-sansio",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=f"halo-sim-{name}", daemon=True)
        self._failure: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._drain = getattr(getattr(app, "state", None), "drain", None)
        self.host = host
        self.port = port

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # surfaced to start() rather than lost on a thread
            self._failure = exc

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self._server.serve()

    def start(self, timeout: float = 10.0) -> "ServerThread":
        """Start serving and block until the socket is bound (or fail loudly)."""
        self._thread.start()
        waited = 0.0
        while not self._server.started:
            if self._failure is not None or not self._thread.is_alive():
                raise ServerStartError(f"{self.name} failed to start on {self.host}:{self.port}: {self._failure!r}")
            if waited >= timeout:
                raise ServerStartError(f"{self.name} did not start within {timeout} s")
            self._thread.join(0.005)
            waited += 0.005
        sockets = self._server.servers[0].sockets
        self.port = sockets[0].getsockname()[1]
        return self

    @property
    def url(self) -> str:
        """Base HTTP URL of the running server."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """Base WebSocket URL of the running server."""
        return "ws" + self.url[len("http"):]

    def request_stop(self, timeout: float = 5.0) -> None:
        """Drain, then ask uvicorn to shut down, without waiting for it (to stop several servers at once).

        uvicorn closes WebSockets with 1012 (service restart) before the app's lifespan shutdown
        runs, so an app that must say something else offers an async ``app.state.drain`` hook,
        run here on the server's loop first (the backend closes its sockets with 1001).
        """
        loop, self._loop = self._loop, None
        if self._drain is not None and loop is not None and loop.is_running():
            asyncio.run_coroutine_threadsafe(self._drain(), loop).result(timeout)
        self._server.should_exit = True

    def stop(self, timeout: float = 5.0) -> None:
        """Ask uvicorn to shut down gracefully and wait for the thread."""
        self.request_stop(timeout)
        self._thread.join(timeout)

    def __enter__(self) -> "ServerThread":
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
