"""Open WebSocket connections, per user, each with its own bounded outbox and writer.

The delivery contract hinges on one fact: does the recipient have a socket open
right now?  The hub answers that and fans frames out.  It never waits on one
client: a frame is serialised once, put on each recipient socket's bounded queue
and written by that socket's own task, in order.  A client that stops reading
falls behind; once its queue is full the hub closes it with
:data:`SLOW_CLIENT_CLOSE` (counted in the state dump), so timers, other sessions
and HTTP never stall behind it.  It knows nothing about Starlette: a connection
is anything with an async ``send_text`` (and optionally ``close``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict, deque
from typing import Any, Protocol

import orjson

log = logging.getLogger(__name__)

#: Close code for a client that fell more than ``queue_limit`` frames behind (4000–4999: application codes).
SLOW_CLIENT_CLOSE = 4008
#: Frames one socket may have waiting before it counts as a client that stopped reading.
DEFAULT_QUEUE_LIMIT = 1024
#: Entries of the hub's log of sent frames (a ring: the newest ones; for tests and failure reports).
DEFAULT_LOG_SIZE = 2000
#: How long closing one socket may take before the hub gives up on it.
CLOSE_TIMEOUT_S = 1.0


class Connection(Protocol):
    """Something frames can be written to."""

    async def send_text(self, data: str) -> None: ...


UserKey = tuple[str, str]  # (role, id)


class Encoded:
    """A frame and its JSON text, serialised once however many sockets it goes to."""

    __slots__ = ("frame", "text")

    def __init__(self, frame: dict[str, Any]) -> None:
        self.frame = frame
        self.text = orjson.dumps(frame).decode()


def encode(frame: dict[str, Any] | Encoded) -> Encoded:
    """``frame`` serialised (an already encoded frame as it is)."""
    return frame if isinstance(frame, Encoded) else Encoded(frame)


class Peer:
    """One open socket: its queue of frame texts and the task writing them, in order."""

    def __init__(self, hub: Hub, user: UserKey, conn: Connection) -> None:
        self.hub = hub
        self.user = user
        self.conn = conn
        self.queue: asyncio.Queue[str] | None = None
        self.writer: asyncio.Task[None] | None = None

    def offer(self, text: str) -> bool:
        """Queue ``text`` for writing; False (and the socket is closed) when the client fell too far behind."""
        if self.writer is None or self.writer.done():  # first frame (or a new event loop in a test)
            self.queue = asyncio.Queue(maxsize=self.hub.queue_limit)
            self.writer = asyncio.get_running_loop().create_task(self._write())
        assert self.queue is not None
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            self.hub.evict(self, SLOW_CLIENT_CLOSE, "client too slow: stopped reading its socket")
            return False
        return True

    async def _write(self) -> None:
        assert self.queue is not None
        while True:
            text = await self.queue.get()
            try:
                await self.conn.send_text(text)
            except Exception:  # a socket closing under us: it is gone, its frames undelivered
                log.debug("dropping dead socket of %s", self.user)
                self.hub.remove(self.user, self.conn)
                return

    async def close(self, code: int, reason: str = "") -> None:
        """Stop writing and close the socket, giving up after :data:`CLOSE_TIMEOUT_S`."""
        if self.writer is not None and self.writer is not asyncio.current_task():
            self.writer.cancel()
        close = getattr(self.conn, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(close(code=code, reason=reason), CLOSE_TIMEOUT_S)


class Hub:
    """Registry of open sockets; fans frames out without ever awaiting a client."""

    def __init__(self, queue_limit: int = DEFAULT_QUEUE_LIMIT, log_size: int = DEFAULT_LOG_SIZE) -> None:
        self.queue_limit = queue_limit
        self._peers: dict[UserKey, list[Peer]] = defaultdict(list)
        self.sent: deque[dict[str, Any]] = deque(maxlen=log_size)
        self.frames_sent = 0
        self.slow_clients_closed = 0
        self._closing: set[asyncio.Task[None]] = set()

    def add(self, user: UserKey, conn: Connection) -> Peer:
        """A socket of ``user`` opened."""
        peer = Peer(self, user, conn)
        self._peers[user].append(peer)
        return peer

    def remove(self, user: UserKey, conn: Connection) -> None:
        """A socket of ``user`` closed (its writer stops)."""
        peers = self._peers.get(user, [])
        for peer in [p for p in peers if p.conn is conn]:
            peers.remove(peer)
            if peer.writer is not None and peer.writer is not asyncio.current_task():
                peer.writer.cancel()
        if not peers:
            self._peers.pop(user, None)

    def count(self, user: UserKey) -> int:
        """How many sockets ``user`` has open."""
        return len(self._peers.get(user, ()))

    def is_connected(self, user: UserKey) -> bool:
        """True while ``user`` has at least one socket open (its app is in the foreground)."""
        return user in self._peers

    async def send(self, user: UserKey, frame: dict[str, Any] | Encoded) -> int:
        """Queue ``frame`` on every socket of ``user``; returns how many took it. Never waits on a client."""
        encoded = encode(frame)
        delivered = sum(1 for peer in list(self._peers.get(user, ())) if peer.offer(encoded.text))
        self.frames_sent += 1
        self.sent.append({"to": f"{user[0]}:{user[1]}", "frame": encoded.frame, "delivered": delivered})
        return delivered

    def reply(self, peer: Peer, frame: dict[str, Any]) -> None:
        """An answer to one socket's own command, queued behind what that socket is already owed."""
        peer.offer(Encoded(frame).text)

    def evict(self, peer: Peer, code: int, reason: str) -> None:
        """Close one socket in the background (counted); its user keeps any other sockets."""
        self.slow_clients_closed += 1
        log.warning("closing a socket of %s:%s with %d: %s", *peer.user, code, reason)
        self.remove(peer.user, peer.conn)
        task = asyncio.get_running_loop().create_task(peer.close(code, reason))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def connections(self) -> dict[str, int]:
        """Open socket counts per user (for the state dump)."""
        return {f"{role}:{uid}": len(peers) for (role, uid), peers in self._peers.items() if peers}

    def stats(self) -> dict[str, Any]:
        """What the state dump shows of the hub: its bounds and what hit them."""
        return {
            "sockets": sum(len(p) for p in self._peers.values()),
            "frames_sent": self.frames_sent,
            "log_entries": len(self.sent),
            "log_size": self.sent.maxlen,
            "queue_limit": self.queue_limit,
            "slow_clients_closed": self.slow_clients_closed,
        }

    async def close_all(self, code: int = 1001) -> None:
        """Close every socket (server going away), each within :data:`CLOSE_TIMEOUT_S`."""
        peers = [peer for peers in self._peers.values() for peer in peers]
        self._peers.clear()
        await asyncio.gather(*(peer.close(code) for peer in peers))
