"""The hub never waits on one client: per-socket outboxes, one writer each, slow clients closed."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from halo_sim.backend.hub import SLOW_CLIENT_CLOSE, Encoded, Hub


class Stalled:
    """A client that stopped reading: every send blocks until ``release`` is set."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.frames: list[Any] = []
        self.closed_with: int | None = None

    async def send_text(self, data: str) -> None:
        await self.release.wait()
        self.frames.append(json.loads(data))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed_with = code


class Reader:
    """A client that reads everything at once."""

    def __init__(self) -> None:
        self.frames: list[Any] = []

    async def send_text(self, data: str) -> None:
        self.frames.append(json.loads(data))


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_a_stalled_socket_does_not_delay_frames_to_other_sockets() -> None:
    async def main() -> tuple[list[Any], list[Any]]:
        hub = Hub(queue_limit=100)
        stalled, reader = Stalled(), Reader()
        hub.add(("customer", "slow"), stalled)
        hub.add(("mitra", "fast"), reader)
        for i in range(50):
            assert await hub.send(("customer", "slow"), {"type": "session_tick", "n": i}) == 1
            assert await hub.send(("mitra", "fast"), {"type": "session_tick", "n": i}) == 1
        await settle()
        return stalled.frames, reader.frames

    stalled_frames, reader_frames = asyncio.run(main())
    assert stalled_frames == []
    assert [f["n"] for f in reader_frames] == list(range(50))  # in order, none waiting on the stalled one


def test_a_client_past_its_queue_limit_is_closed_with_the_slow_client_code_and_counted() -> None:
    async def main() -> tuple[Hub, Stalled, int]:
        hub = Hub(queue_limit=3)
        stalled = Stalled()
        hub.add(("customer", "slow"), stalled)
        taken = [await hub.send(("customer", "slow"), {"type": "x", "n": i}) for i in range(6)]
        await settle()
        return hub, stalled, sum(taken)

    hub, stalled, taken = asyncio.run(main())
    assert stalled.closed_with == SLOW_CLIENT_CLOSE
    assert hub.stats()["slow_clients_closed"] == 1
    assert not hub.is_connected(("customer", "slow"))
    assert taken == 3  # three frames queued (the limit), the fourth found the queue full: evicted


def test_frames_reach_one_socket_in_the_order_they_were_sent_replies_included() -> None:
    async def main() -> list[Any]:
        hub = Hub()
        reader = Reader()
        peer = hub.add(("mitra", "m"), reader)
        await hub.send(("mitra", "m"), {"type": "pairing_offer"})
        hub.reply(peer, {"type": "heartbeat_ack"})
        await hub.send(("mitra", "m"), {"type": "offer_taken"})
        await settle()
        return [f["type"] for f in reader.frames]

    assert asyncio.run(main()) == ["pairing_offer", "heartbeat_ack", "offer_taken"]


def test_one_encoding_serves_every_recipient() -> None:
    encoded = Encoded({"type": "pairing_offer", "session_id": "s"})

    async def main() -> list[Reader]:
        hub = Hub()
        readers = [Reader() for _ in range(3)]
        for i, reader in enumerate(readers):
            hub.add(("mitra", str(i)), reader)
        for i in range(3):
            await hub.send(("mitra", str(i)), encoded)
        await settle()
        return readers

    readers = asyncio.run(main())
    assert [r.frames for r in readers] == [[encoded.frame]] * 3


def test_the_log_of_sent_frames_is_a_bounded_ring() -> None:
    async def main() -> Hub:
        hub = Hub(log_size=5)
        for i in range(12):
            await hub.send(("customer", "c"), {"type": "x", "n": i})
        return hub

    hub = asyncio.run(main())
    assert [e["frame"]["n"] for e in hub.sent] == [7, 8, 9, 10, 11]
    assert hub.stats()["frames_sent"] == 12 and hub.stats()["log_size"] == 5


def test_a_socket_whose_send_fails_is_forgotten() -> None:
    class Broken:
        async def send_text(self, data: str) -> None:
            raise ConnectionError("gone")

    async def main() -> Hub:
        hub = Hub()
        hub.add(("customer", "c"), Broken())
        await hub.send(("customer", "c"), {"type": "x"})
        await settle()
        return hub

    assert not asyncio.run(main()).is_connected(("customer", "c"))


def test_send_reaches_every_open_socket_of_that_user_only() -> None:
    async def main() -> tuple[list[Any], list[Any], list[Any], int]:
        hub = Hub()
        phone, tablet, other = Reader(), Reader(), Reader()
        hub.add(("mitra", "m1"), phone)
        hub.add(("mitra", "m1"), tablet)
        hub.add(("mitra", "m2"), other)
        taken = await hub.send(("mitra", "m1"), {"type": "pairing_offer"})
        await settle()
        return phone.frames, tablet.frames, other.frames, taken

    phone, tablet, other, taken = asyncio.run(main())
    assert (phone, tablet, other, taken) == ([{"type": "pairing_offer"}], [{"type": "pairing_offer"}], [], 2)


def test_close_all_closes_every_socket_with_the_code_and_forgets_them() -> None:
    async def main() -> tuple[list[int | None], dict[str, int]]:
        hub = Hub()
        sockets = [Stalled(), Stalled()]
        for i, socket in enumerate(sockets):
            hub.add(("customer", str(i)), socket)
        await hub.close_all(code=1001)
        return [s.closed_with for s in sockets], hub.connections()

    assert asyncio.run(main()) == ([1001, 1001], {})
