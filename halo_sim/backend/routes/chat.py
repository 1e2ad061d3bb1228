"""``/api/chat/*``: sessions and messages, for both participants."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from halo_sim.backend.routes.common import backend_of, body, caller, ok, query, render
from halo_sim.backend.schemas import MessageCreate, MessagesQuery


async def get_session(request: Request) -> JSONResponse:
    who = caller(request)
    return ok(backend_of(request).pairing.visible_to(request.path_params["session_id"], who))


async def list_messages(request: Request) -> JSONResponse:
    """What a reconnecting app fetches: every message after ``after_seq``."""
    who = caller(request)
    after_seq = query(request, MessagesQuery).after_seq
    messages = backend_of(request).chat.messages(request.path_params["session_id"], who, after_seq)
    return ok({"messages": messages})


async def send_message(request: Request) -> JSONResponse:
    who = caller(request)
    data = await body(request, MessageCreate)
    message, delivery = await backend_of(request).chat.send(request.path_params["session_id"], who, data.text)
    return ok({"message": render(message), **delivery.to_json()}, status=201)


async def end_session(request: Request) -> JSONResponse:
    """A participant says goodbye and ends the session before its time is over."""
    who = caller(request)
    return ok(await backend_of(request).chat.end_early(request.path_params["session_id"], who))


routes = [
    Route("/api/chat/sessions/{session_id}", get_session, methods=["GET"]),
    Route("/api/chat/sessions/{session_id}/messages", list_messages, methods=["GET"]),
    Route("/api/chat/sessions/{session_id}/messages", send_message, methods=["POST"]),
    Route("/api/chat/sessions/{session_id}/end", end_session, methods=["POST"]),
]
