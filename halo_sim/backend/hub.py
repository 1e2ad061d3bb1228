"""Open WebSocket connections, per user.

The delivery contract hinges on one fact: does the recipient have a socket open
right now?  The hub answers that and fans frames out; the routes register and
unregister sockets as they open and close.  It knows nothing about Starlette:
a connection is anything with an async ``send_json``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Connection(Protocol):
    """Something frames can be sent to."""

    async def send_json(self, data: Any, mode: str = "text") -> None: ...


UserKey = tuple[str, str]  # (role, id)


class Hub:
    """Registry of open sockets and the frames sent to them."""

    def __init__(self) -> None:
        self._sockets: dict[UserKey, list[Connection]] = defaultdict(list)
        self.sent: list[dict[str, Any]] = []

    def add(self, user: UserKey, conn: Connection) -> None:
        """A socket of ``user`` opened."""
        self._sockets[user].append(conn)

    def remove(self, user: UserKey, conn: Connection) -> None:
        """A socket of ``user`` closed."""
        if conn in self._sockets.get(user, []):
            self._sockets[user].remove(conn)

    def count(self, user: UserKey) -> int:
        """How many sockets ``user`` has open."""
        return len(self._sockets.get(user, []))

    def is_connected(self, user: UserKey) -> bool:
        """True while ``user`` has at least one socket open (its app is in the foreground)."""
        return self.count(user) > 0

    async def send(self, user: UserKey, frame: dict[str, Any]) -> int:
        """Send ``frame`` to every socket of ``user``; returns how many took it."""
        delivered = 0
        for conn in list(self._sockets.get(user, [])):
            try:
                await conn.send_json(frame)
                delivered += 1
            except Exception:  # a socket closing under us counts as not delivered
                log.debug("dropping dead socket of %s", user)
                self.remove(user, conn)
        self.sent.append({"to": f"{user[0]}:{user[1]}", "frame": frame, "delivered": delivered})
        return delivered

    def connections(self) -> dict[str, int]:
        """Open socket counts per user (for the state dump)."""
        return {f"{role}:{uid}": len(c) for (role, uid), c in self._sockets.items() if c}

    async def close_all(self, code: int = 1001) -> None:
        """Close every socket (server going away)."""
        for conns in list(self._sockets.values()):
            for conn in list(conns):
                close = getattr(conn, "close", None)
                if close is not None:
                    try:
                        await close(code=code)
                    except Exception:
                        log.debug("socket already closed")
        self._sockets.clear()
