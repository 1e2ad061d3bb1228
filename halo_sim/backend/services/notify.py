"""Reaching a user: the socket if the app is in the foreground, else a push, else nothing.

One implementation of the delivery contract serves chat messages and pairing
offers alike, so both honour "WS when foreground, FCM when background".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from halo_sim.backend.hub import Encoded, encode
from halo_sim.backend.push import PushRejected, chat_push
from halo_sim.backend.services.deps import Deps, Principal
from halo_sim.backend.services.devices import DeviceService
from halo_sim.domain.delivery import Channel, RecipientReach, choose_channel


@dataclass
class Delivery:
    """How a frame reached its recipient."""

    channel: Channel
    push_names: list[str]
    push_errors: list[str]

    def to_json(self) -> dict[str, Any]:
        """The ``delivered_via`` part of an answer."""
        body: dict[str, Any] = {"delivered_via": self.channel.value}
        if self.push_errors:
            body["push_errors"] = self.push_errors
        return body


@dataclass(frozen=True)
class PushText:
    """What a push shows when the frame cannot go over the socket."""

    title: str
    body: str


class Notifier:
    """Applies the delivery contract to one frame for one user."""

    def __init__(self, deps: Deps, devices: DeviceService) -> None:
        self.deps = deps
        self.devices = devices

    def reach(self, user: Principal) -> RecipientReach:
        """What the backend knows about reaching ``user`` now."""
        return RecipientReach(self.deps.hub.is_connected(user.key), self.devices.push_tokens(user))

    async def deliver(self, user: Principal, frame: dict[str, Any] | Encoded, text: PushText) -> Delivery:
        """Send ``frame`` over the socket, or as an FCM data+notification message (serialised once either way)."""
        channel = choose_channel(self.reach(user))
        if channel is Channel.WS and await self.deps.hub.send(user.key, frame):
            return Delivery(Channel.WS, [], [])
        return await self.push(user, frame, text)

    async def push(self, user: Principal, frame: dict[str, Any] | Encoded, text: PushText) -> Delivery:
        """Push to every enabled device; UNREGISTERED tokens are forgotten. ``none`` if none took it."""
        names: list[str] = []
        errors: list[str] = []
        data = {k: v if isinstance(v, str) else _stringify(v) for k, v in encode(frame).frame.items()}
        for token in self.devices.push_tokens(user):
            try:
                names.append(await self.deps.push.send(chat_push(token, text.title, text.body, data)))
            except PushRejected as exc:
                errors.append(exc.code)
                if exc.code == "UNREGISTERED":
                    self.devices.forget(token)
        return Delivery(Channel.FCM if names else Channel.NONE, names, errors)


def _stringify(value: Any) -> str:
    """FCM data values must be strings; nested values travel as JSON."""
    return orjson.dumps(value).decode()
