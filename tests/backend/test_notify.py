"""The delivery contract when the socket lies: a socket that fails to take the frame falls back to FCM."""

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

    async def send_json(self, data: Any, mode: str = "text") -> None:
        raise RuntimeError("Unexpected ASGI message 'websocket.send', after sending 'websocket.close'")


class LiveSocket:
    def __init__(self) -> None:
        self.frames: list[Any] = []

    async def send_json(self, data: Any, mode: str = "text") -> None:
        self.frames.append(data)


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


def test_a_socket_that_fails_to_take_the_frame_falls_back_to_fcm() -> None:
    ref, user, push = world()
    ref.hub.add(user.key, DeadSocket())  # type: ignore[arg-type]
    delivery = asyncio.run(ref.notifier.deliver(user, {"type": "chat_message", "seq": 1}, CUSTOMER_TEXT))
    assert delivery.channel is Channel.FCM
    assert [m["token"] for m in push.messages] == ["fcm-token-1"]
    assert push.messages[0]["data"] == {"type": "chat_message", "seq": "1"}
    assert not ref.hub.is_connected(user.key)


def test_a_live_socket_takes_the_frame_and_no_push_is_sent() -> None:
    ref, user, push = world()
    socket = LiveSocket()
    ref.hub.add(user.key, socket)  # type: ignore[arg-type]
    delivery = asyncio.run(ref.notifier.deliver(user, {"type": "chat_message"}, CUSTOMER_TEXT))
    assert (delivery.channel, socket.frames, push.messages) == (Channel.WS, [{"type": "chat_message"}], [])
