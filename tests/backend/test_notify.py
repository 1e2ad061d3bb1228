"""The delivery contract when the socket lies: once a write fails, the socket is gone and FCM takes over.

The hub never awaits a client (per-socket outboxes), so a frame queued on a socket that then turns
out dead was already answered ``ws``; it is stored, and the app fetches it on reconnect
(``GET …/messages?after_seq``). The next delivery finds no socket and goes by FCM.
"""

from __future__ import annotations

import asyncio
from typing import Any

from halo_sim.backend.config import Settings
from halo_sim.backend.services.deps import Principal
from halo_sim.backend.services.notify import PushText
from halo_sim.backend.state import ReferenceBackend
from halo_sim.domain.delivery import Channel
from simkit.clock import VirtualClock
from simkit.scheduler import Scheduler

CUSTOMER_TEXT = PushText("Rani", "halo")


class DeadSocket:
    """A socket the app closed without the server having noticed yet."""

    async def send_text(self, data: str) -> None:
        raise RuntimeError("Unexpected ASGI message 'websocket.send', after sending 'websocket.close'")


class LiveSocket:
    def __init__(self) -> None:
        self.frames: list[Any] = []

    async def send_text(self, data: str) -> None:
        self.frames.append(data)


class StalledSocket:
    """An app that stopped reading its socket: a write never completes."""

    async def send_text(self, data: str) -> None:
        await asyncio.Event().wait()


class RecordingPush:
    """Stands in for the FCM client: accepts every message and names it."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def send(self, message: dict[str, Any], validate_only: bool = False) -> str:
        self.messages.append(message)
        return f"projects/halo-dev/messages/{len(self.messages)}"


def world() -> tuple[ReferenceBackend, Principal, RecordingPush]:
    ref = ReferenceBackend(Settings(env="test", fcm_base_url="http://127.0.0.1:9"), Scheduler(VirtualClock()))
    _, customer = ref.auth.login_anonymous()
    user = Principal("customer", customer.id)
    ref.devices.register(user, "fcm-token-1", "android", notifications_enabled=True)
    push = RecordingPush()
    ref.deps.push = push  # type: ignore[assignment]
    return ref, user, push


def test_after_a_socket_fails_to_take_a_frame_the_next_one_falls_back_to_fcm() -> None:
    ref, user, push = world()
    ref.hub.add(user.key, DeadSocket())  # type: ignore[arg-type]

    async def twice() -> tuple[Channel, Channel]:
        first = await ref.notifier.deliver(user, {"type": "chat_message", "seq": 0}, CUSTOMER_TEXT)
        for _ in range(5):
            await asyncio.sleep(0)  # the socket's writer runs and finds it dead
        second = await ref.notifier.deliver(user, {"type": "chat_message", "seq": 1}, CUSTOMER_TEXT)
        return first.channel, second.channel

    assert asyncio.run(twice()) == (Channel.WS, Channel.FCM)
    assert [m["token"] for m in push.messages] == ["fcm-token-1"]
    assert push.messages[0]["data"] == {"type": "chat_message", "seq": "1"}
    assert not ref.hub.is_connected(user.key)


def test_a_live_socket_takes_the_frame_and_no_push_is_sent() -> None:
    ref, user, push = world()
    socket = LiveSocket()
    ref.hub.add(user.key, socket)  # type: ignore[arg-type]

    async def deliver() -> Channel:
        delivery = await ref.notifier.deliver(user, {"type": "chat_message"}, CUSTOMER_TEXT)
        await asyncio.sleep(0)
        return delivery.channel

    assert (asyncio.run(deliver()), socket.frames, push.messages) == (Channel.WS, ['{"type":"chat_message"}'], [])


def test_a_frame_the_outbox_of_a_too_slow_socket_cannot_take_goes_by_fcm() -> None:
    ref, user, push = world()
    ref.hub.queue_limit = 1
    ref.hub.add(user.key, StalledSocket())  # type: ignore[arg-type]

    async def thrice() -> list[Channel]:
        first = await ref.notifier.deliver(user, {"type": "chat_message", "seq": 0}, CUSTOMER_TEXT)
        for _ in range(5):
            await asyncio.sleep(0)  # the writer takes frame 0 and hangs in the write
        rest = [await ref.notifier.deliver(user, {"type": "chat_message", "seq": n}, CUSTOMER_TEXT) for n in (1, 2)]
        return [first.channel, *(d.channel for d in rest)]

    assert asyncio.run(thrice()) == [Channel.WS, Channel.WS, Channel.FCM]  # frame 1 fills the outbox, 2 overflows
    assert [m["data"]["seq"] for m in push.messages] == ["2"]
    assert not ref.hub.is_connected(user.key)
