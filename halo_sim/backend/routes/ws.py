"""``/ws``: one socket per app in the foreground.

The app opens it on start/resume and closes it on pause; while it is open the
backend delivers over it instead of FCM.  Client frames are small commands
(``chat_message``, ``accept_offer``, ``reject_offer``, ``heartbeat``, ``ping``),
parsed in one call against the catalogue in :mod:`halo_sim.contract.frames`;
every refusal comes back as an ``error`` frame on the same socket.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
from pydantic import ValidationError
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from halo_sim.backend.routes.common import backend_of, bearer
from halo_sim.backend.services.deps import Principal
from halo_sim.contract.frames import (
    CLIENT_FRAMES,
    AcceptOfferCommand,
    ChatMessageCommand,
    ChatMessageRow,
    ClientFrame,
    Connected,
    HeartbeatAck,
    HeartbeatCommand,
    MessageAck,
    OfferRejected,
    PingCommand,
    Pong,
    RejectOfferCommand,
    build,
    parse_client_frame,
)
from simkit.errors import DomainError, Forbidden, ValidationFailed

Frame = dict[str, Any]
PONG = build(Pong())
HEARTBEAT_ACK = build(HeartbeatAck())
Command = Callable[[WebSocket, Principal, Any], Awaitable[Frame | None]]  # Any: the command's own frame model


async def socket(ws: WebSocket) -> None:
    backend = backend_of(ws)
    try:
        who = backend.auth.authenticate(bearer(ws))
    except DomainError:
        await ws.close(code=4401, reason="unauthorized")
        return
    await ws.accept()
    hub = backend.hub
    peer = hub.add(who.key, ws)  # everything this socket gets, replies included, goes through its outbox
    try:
        hub.reply(peer, build(Connected(role=who.role, id=who.id)))
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            reply = await handle(ws, who, _decoded(message))
            if reply is not None:
                hub.reply(peer, reply)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        hub.remove(who.key, ws)


def _decoded(message: Mapping[str, Any]) -> Any:
    """The JSON of one text (or UTF-8 bytes) frame; what is not JSON becomes a refusal, not a dropped socket."""
    data = message.get("text")
    if data is None:  # a binary frame: the apps speak JSON text frames only
        return NOT_JSON
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return NOT_JSON


NOT_JSON = object()


async def handle(ws: WebSocket, who: Principal, raw: Any) -> Frame | None:
    """Parse one client frame against the catalogue and run it; refusals become an ``error`` frame."""
    kind = raw.get("type") if isinstance(raw, dict) else None
    try:
        if raw is NOT_JSON:
            raise ValidationFailed("the frame is not JSON text (binary frames and invalid JSON are refused)")
        frame = _parse(raw)
        return await COMMANDS[frame.type](ws, who, frame)
    except DomainError as exc:
        return {"type": "error", "request_type": kind, **exc.to_body()}


def _parse(raw: Any) -> ClientFrame:
    """One parse against the discriminated union; every problem is listed, as for an HTTP body."""
    try:
        return parse_client_frame(raw)
    except ValidationError as exc:
        if any(e["type"].startswith("union_tag") for e in exc.errors()):
            kind = raw.get("type") if isinstance(raw, dict) else None
            raise ValidationFailed(f"unknown frame type {kind!r}; expected one of {sorted(CLIENT_FRAMES)}") from None
        problems = [f"{'.'.join(str(p) for p in e['loc'][1:]) or 'frame'}: {e['msg']}" for e in exc.errors()]
        raise ValidationFailed("invalid frame", problems=problems) from None


async def ping(ws: WebSocket, who: Principal, frame: PingCommand) -> Frame:
    return PONG


def _mitra(who: Principal) -> str:
    if who.role != "mitra":
        raise Forbidden("this frame is for mitras")
    return who.id


async def heartbeat(ws: WebSocket, who: Principal, frame: HeartbeatCommand) -> Frame:
    await backend_of(ws).presence.heartbeat(_mitra(who))
    return HEARTBEAT_ACK


async def chat_message(ws: WebSocket, who: Principal, frame: ChatMessageCommand) -> Frame:
    message, delivery = await backend_of(ws).chat.send(frame.session_id, who, frame.text)
    row = ChatMessageRow(**dataclasses.asdict(message))
    return build(MessageAck(client_id=frame.client_id, message=row, **delivery.to_json()))


async def accept_offer(ws: WebSocket, who: Principal, frame: AcceptOfferCommand) -> None:
    await backend_of(ws).pairing.accept(_mitra(who), frame.session_id)


async def reject_offer(ws: WebSocket, who: Principal, frame: RejectOfferCommand) -> Frame:
    await backend_of(ws).pairing.reject(_mitra(who), frame.session_id)
    return build(OfferRejected(session_id=frame.session_id))


COMMANDS: dict[str, Command] = {
    "ping": ping,
    "heartbeat": heartbeat,
    "chat_message": chat_message,
    "accept_offer": accept_offer,
    "reject_offer": reject_offer,
}

routes = [WebSocketRoute("/ws", socket)]
