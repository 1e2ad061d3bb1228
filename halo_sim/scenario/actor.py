"""One person in a scenario: credentials, an app that is in the foreground or not, and its frames.

"Foreground" is modelled exactly as the Halo apps do it: the WebSocket is open.
Backgrounding closes it; resuming reopens it.  Every frame received while open
is kept with its arrival time.  A wait consumes only the frames it matched: the
order in which a server sends two frames is often not part of the contract (a
pairing offer and a presence update), so a frame that is not the one a wait looks
for stays pending for the next wait instead of being skipped for good.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import websockets
from websockets.asyncio.client import ClientConnection

from halo_sim.scenario.expect import matches
from halo_sim.scenario.schema import ActorSpec

T = TypeVar("T")


@dataclass(frozen=True)
class Pattern:
    """What a wait looks for: a frame ``type`` (None: any) whose fields contain ``match``."""

    type: str | None = None
    match: dict[str, Any] | None = None

    def fits(self, frame: dict[str, Any]) -> bool:
        """True when ``frame`` is of this type and contains ``match``."""
        return (self.type is None or frame.get("type") == self.type) and matches(self.match, frame)

    def expected(self) -> dict[str, Any]:
        """The pattern as one mapping, for ``diff`` to explain a near miss."""
        return {"type": self.type, **(self.match or {})} if self.type else dict(self.match or {})


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
    arrived_at: list[float] = field(default_factory=list)  # time.perf_counter() of each frame's arrival
    consumed: set[int] = field(default_factory=set)  # indexes into ``frames`` that a wait matched
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
                self.receive(json.loads(raw))

    def receive(self, frame: dict[str, Any]) -> None:
        """Keep a frame the socket delivered, stamped with its arrival time, and wake the waits."""
        self.frames.append(frame)
        self.arrived_at.append(time.perf_counter())
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

    def pending(self, pattern: Pattern) -> list[int]:
        """Indexes of the unconsumed frames that fit ``pattern``, oldest first."""
        return [i for i, f in enumerate(self.frames) if i not in self.consumed and pattern.fits(f)]

    async def wait_frame(self, kind: str | None, match: dict[str, Any] | None, timeout: float) -> dict[str, Any] | None:
        """The oldest unconsumed frame of ``kind`` containing ``match`` (consumed), waiting up to ``timeout``."""
        taken = await self.wait_count(Pattern(kind, match), 1, timeout)
        return taken[0] if taken else None

    async def wait_count(self, pattern: Pattern, count: int, timeout: float) -> list[dict[str, Any]]:
        """The oldest ``count`` unconsumed frames fitting ``pattern``, consumed once all have arrived.

        Fewer than ``count`` by ``timeout``: an empty list, and nothing is consumed.
        """
        indexes = await self._until(lambda: _first(self.pending(pattern), count), timeout)
        return self._take(indexes or [])

    async def wait_any_order(self, patterns: Sequence[Pattern], timeout: float) -> list[dict[str, Any]] | None:
        """One distinct unconsumed frame per pattern, in any arrival order (consumed), in the patterns' order.

        A frame may fit several patterns; frames are assigned so that every pattern gets one when any
        assignment allows it (a general pattern does not steal the only frame a specific one fits).
        """
        indexes = await self._until(lambda: assign([self.pending(p) for p in patterns]), timeout)
        return None if indexes is None else self._take(indexes)

    async def first_arrival(self, pattern: Pattern, within: float) -> dict[str, Any] | None:
        """An unconsumed frame fitting ``pattern`` that is here or arrives within ``within`` s (not consumed)."""
        found = await self._until(lambda: _first(self.pending(pattern), 1), within)
        return self.frames[found[0]] if found else None

    def _take(self, indexes: list[int]) -> list[dict[str, Any]]:
        self.consumed.update(indexes)
        return [self.frames[i] for i in indexes]

    async def _until(self, found: Callable[[], T | None], timeout: float) -> T | None:
        """``found()`` as soon as it is not None, checked again at each arrival until ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            answer = found()
            if answer is not None:
                return answer
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)

    def unconsumed(self) -> list[dict[str, Any]]:
        """Frames received but not yet matched by a wait (for failure messages)."""
        return [f for i, f in enumerate(self.frames) if i not in self.consumed]


def _first(indexes: list[int], count: int) -> list[int] | None:
    return indexes[:count] if len(indexes) >= count else None


def assign(candidates: list[list[int]]) -> list[int] | None:
    """One distinct frame index per pattern (``candidates[p]``: the indexes fitting pattern ``p``, oldest
    first), or None when no such choice exists: a bipartite matching by augmenting paths, oldest frames
    preferred."""
    owner: dict[int, int] = {}  # frame index -> pattern holding it

    def place(pattern: int, tried: set[int]) -> bool:
        free = next((index for index in candidates[pattern] if index not in owner), None)
        if free is not None:  # a free frame first: earlier patterns keep the older frames
            owner[free] = pattern
            return True
        for index in candidates[pattern]:
            if index not in tried:
                tried.add(index)
                if place(owner[index], tried):
                    owner[index] = pattern
                    return True
        return False

    if not all(place(p, set()) for p in range(len(candidates))):
        return None
    chosen = {pattern: index for index, pattern in owner.items()}
    return [chosen[p] for p in range(len(candidates))]
