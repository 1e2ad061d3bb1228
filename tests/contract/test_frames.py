"""The frame catalogue: registries, the one-call client parse, and /ws parsing client frames with it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import ValidationError

from halo_sim.backend.routes.ws import COMMANDS, handle
from halo_sim.backend.services.deps import Principal
from halo_sim.contract.frames import (
    CLIENT_FRAMES,
    SERVER_FRAMES,
    ChatMessageCommand,
    ClientFrame,
    PairingMatched,
    ServerFrame,
    parse_client_frame,
    parse_server_frame,
)

MITRA = Principal("mitra", "m-1")


def _handle(raw: Any) -> dict[str, Any] | None:
    return asyncio.run(handle(None, MITRA, raw))  # type: ignore[arg-type]  # refusals never touch the socket


def test_every_frame_type_is_registered_once_per_direction_with_its_model() -> None:
    assert set(CLIENT_FRAMES) == {"ping", "heartbeat", "chat_message", "accept_offer", "reject_offer"}
    assert {
        "connected", "pong", "heartbeat_ack", "message_ack", "offer_rejected", "error", "pairing_searching",
        "pairing_offer", "pairing_matched", "offer_accepted", "offer_taken", "pairing_failed", "offer_withdrawn",
        "chat_message", "session_tick", "session_warning", "session_ended",
    } == set(SERVER_FRAMES)  # fmt: skip
    assert all(issubclass(m, ServerFrame) for m in SERVER_FRAMES.values())
    assert all(issubclass(m, ClientFrame) for m in CLIENT_FRAMES.values())


def test_every_model_and_field_says_what_it_is_for() -> None:
    for model in [*SERVER_FRAMES.values(), *CLIENT_FRAMES.values()]:
        assert model.__doc__ and model.__doc__.strip(), model
        assert all(f.description for n, f in model.model_fields.items() if n != "type"), model


def test_the_client_union_parses_each_command_into_its_model_in_one_call() -> None:
    frame = parse_client_frame({"type": "chat_message", "session_id": "s-1", "text": "halo", "client_id": "c1"})
    assert isinstance(frame, ChatMessageCommand) and (frame.session_id, frame.client_id) == ("s-1", "c1")
    assert type(parse_client_frame({"type": "reject_offer", "session_id": "s"})) is CLIENT_FRAMES["reject_offer"]


@pytest.mark.parametrize(
    "raw",
    [
        {"type": "dance"},
        {"session_id": "s"},
        {"type": "accept_offer"},
        {"type": "accept_offer", "session_id": ""},
        {"type": "accept_offer", "session_id": 5},
        {"type": "ping", "extra": 1},
        {"type": "chat_message", "session_id": "s", "text": "x" * 4001},
        {"type": "chat_message", "session_id": "s", "text": ""},
        ["ping"],
    ],
)
def test_malformed_client_frames_are_refused(raw: Any) -> None:
    with pytest.raises(ValidationError):
        parse_client_frame(raw)


def test_server_frames_are_strict_both_ways() -> None:
    matched = {
        "type": "pairing_matched",
        "session_id": "s",
        "duration_minutes": 15,
        "mitra": {"id": "m", "display_name": "Rani"},
        "ends_at": 900.0,
        "mode": "blast",
    }
    assert isinstance(parse_server_frame(matched), PairingMatched)
    for wrong in ({**matched, "surprise": 1}, {**matched, "mitra": {"id": "m"}}, {**matched, "mode": "solo"}):
        with pytest.raises(ValidationError):
            parse_server_frame(wrong)


# --- /ws parses with the catalogue ------------------------------------------------------------------


def test_ws_dispatches_every_client_frame_of_the_catalogue() -> None:
    assert set(COMMANDS) == set(CLIENT_FRAMES)
    assert _handle({"type": "ping"}) == {"type": "pong"}


def test_ws_unknown_frame_type_is_a_validation_error_naming_the_known_ones() -> None:
    error = _handle({"type": "dance"})
    assert error is not None
    assert (error["type"], error["request_type"], error["error"]) == ("error", "dance", "VALIDATION_ERROR")
    assert error["message"].startswith("unknown frame type 'dance'; expected one of ['accept_offer',")


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"type": "accept_offer"}, "session_id: Field required"),
        ({"type": "reject_offer", "session_id": ""}, "session_id: String should have at least 1 character"),
        ({"type": "chat_message", "session_id": "s", "text": "x" * 4001}, "text: String should have at most 4000"),
        ({"type": "heartbeat", "online": True}, "online: Extra inputs are not permitted"),
    ],
)
def test_ws_malformed_frame_is_an_error_frame_listing_the_problem(raw: dict[str, Any], problem: str) -> None:
    error = _handle(raw)
    assert error is not None
    assert (error["type"], error["request_type"], error["error"]) == ("error", raw["type"], "VALIDATION_ERROR")
    assert any(p.startswith(problem) for p in error["problems"]), error["problems"]
    parse_server_frame(error)  # the refusal itself is a catalogued frame


def test_ws_frame_that_is_not_an_object_is_refused_without_a_request_type() -> None:
    error = _handle(["ping"])
    assert error is not None and (error["request_type"], error["error"]) == (None, "VALIDATION_ERROR")
