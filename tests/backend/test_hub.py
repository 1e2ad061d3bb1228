"""The socket hub: who has a socket open, and a socket whose send fails is dropped, not counted."""

from __future__ import annotations

import asyncio
from typing import Any

from halo_sim.backend.hub import Hub

MITRA = ("mitra", "m1")


class Socket:
    """A connection that records frames, or fails like a socket closing under the server."""

    def __init__(self, dead: bool = False) -> None:
        self.dead = dead
        self.frames: list[Any] = []
        self.closed_with: int | None = None

    async def send_json(self, data: Any, mode: str = "text") -> None:
        if self.dead:
            raise RuntimeError("Cannot call send once a close message has been sent")
        self.frames.append(data)

    async def close(self, code: int = 1000) -> None:
        self.closed_with = code


def test_send_reaches_every_open_socket_of_the_user_only() -> None:
    hub = Hub()
    phone, tablet, other = Socket(), Socket(), Socket()
    hub.add(MITRA, phone)
    hub.add(MITRA, tablet)
    hub.add(("customer", "c1"), other)
    assert asyncio.run(hub.send(MITRA, {"type": "pairing_offer"})) == 2
    assert phone.frames == tablet.frames == [{"type": "pairing_offer"}]
    assert other.frames == []


def test_a_socket_whose_send_fails_is_dropped_and_not_counted() -> None:
    """Otherwise the user looks foreground for ever and every message is 'delivered' over WS to nobody."""
    hub = Hub()
    dead, alive = Socket(dead=True), Socket()
    hub.add(MITRA, dead)
    hub.add(MITRA, alive)
    assert asyncio.run(hub.send(MITRA, {"type": "chat_message"})) == 1
    assert hub.count(MITRA) == 1
    assert hub.sent[-1] == {"to": "mitra:m1", "frame": {"type": "chat_message"}, "delivered": 1}
    assert asyncio.run(hub.send(MITRA, {"type": "session_tick"})) == 1
    assert alive.frames == [{"type": "chat_message"}, {"type": "session_tick"}]


def test_a_user_whose_only_socket_died_is_no_longer_connected() -> None:
    hub = Hub()
    hub.add(MITRA, Socket(dead=True))
    assert hub.is_connected(MITRA)
    assert asyncio.run(hub.send(MITRA, {"type": "chat_message"})) == 0
    assert not hub.is_connected(MITRA)
    assert hub.connections() == {}


def test_remove_forgets_one_socket_and_tolerates_an_unknown_one() -> None:
    hub = Hub()
    first, second = Socket(), Socket()
    hub.add(MITRA, first)
    hub.add(MITRA, second)
    hub.remove(MITRA, first)
    hub.remove(("customer", "nobody"), first)
    assert hub.connections() == {"mitra:m1": 1}


def test_close_all_closes_every_socket_with_the_code_and_forgets_them() -> None:
    hub = Hub()
    sockets = [Socket(), Socket()]
    hub.add(MITRA, sockets[0])
    hub.add(("customer", "c1"), sockets[1])
    asyncio.run(hub.close_all(code=1001))
    assert [s.closed_with for s in sockets] == [1001, 1001]
    assert hub.connections() == {}
