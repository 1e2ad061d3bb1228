"""One person in a scenario: credentials, an app that is in the foreground or not, and its frames.

"Foreground" is modelled exactly as the Halo apps do it: the WebSocket is open.
Backgrounding closes it; resuming reopens it.  Every frame received while open
is kept, and waits consume them in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

from halo_sim.scenario.expect import matches
from halo_sim.scenario.schema import ActorSpec


@dataclass
class Actor:
    """A scenario actor and its live connection state."""

    name: str
    spec: ActorSpec
    phone: str
    display_name: str
    fcm_token: str
    password: str = ""
    token: str | None = None
    id: str | None = None
    frames: list[dict[str, Any]] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)  # perf_counter() of each frame, for the HTML report
    cursor: int = 0
    ws: ClientConnection | None = None
    _reader: asyncio.Task[None] | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def role(self) -> str:
        return self.spec.role

    def view(self) -> dict[str, Any]:
        """What templates see as ``{{ <actor>.<field> }}``."""
        return {
            "name": self.name,
            "role": self.role,
            "phone": self.phone,
            "display_name": self.display_name,
            "password": self.password,
            "fcm_token": self.fcm_token,
            "token": self.token,
            "id": self.id,
            "foreground": self.ws is not None,
        }

    async def open_socket(self, url: str) -> dict[str, Any]:
        """Open the app's socket and wait for the server's hello (so it is registered)."""
        self.ws = await websockets.connect(url, open_timeout=5)
        hello = json.loads(await asyncio.wait_for(self.ws.recv(), 5))
        self._reader = asyncio.get_running_loop().create_task(self._read(self.ws))
        return hello  # type: ignore[no-any-return]

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in ws:
                self.frames.append(json.loads(raw))
                self.arrivals.append(time.perf_counter())
                self._arrived.set()

    async def close_socket(self) -> None:
        """Close the socket as the app's lifecycle observer does on pause."""
        if self.ws is not None:
            await self.ws.close()
            self.ws = None
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
            self._reader = None

    async def send_frame(self, frame: dict[str, Any]) -> None:
        """Send a client frame; the app must be in the foreground."""
        if self.ws is None:
            raise RuntimeError(f"{self.name} has no socket open (app not in the foreground)")
        await self.ws.send(json.dumps(frame))

    async def wait_frame(self, kind: str | None, match: dict[str, Any] | None, timeout: float) -> dict[str, Any] | None:
        """The first unconsumed frame of ``kind`` containing ``match``, waiting up to ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = self._scan(kind, match)
            if found is not None:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)

    def _scan(self, kind: str | None, match: dict[str, Any] | None) -> dict[str, Any] | None:
        for index in range(self.cursor, len(self.frames)):
            frame = self.frames[index]
            if (kind is None or frame.get("type") == kind) and matches(match, frame):
                self.cursor = index + 1
                return frame
        return None

    def unconsumed(self) -> list[dict[str, Any]]:
        """Frames received but not yet matched by a wait (for failure messages)."""
        return self.frames[self.cursor :]
