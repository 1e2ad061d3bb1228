"""Every frame the backend sends while the whole scenario catalog runs is one the catalogue declares.

The catalog runs on the embedded stack with ``WebSocket.send_text`` recorded (the
replies to client frames and everything the hub fans out), plus the hub's own log
of what it was asked to send (also to users without a socket).  One frame of a
type or with a field the catalogue does not declare fails the test.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from starlette.websockets import WebSocket

from halo_sim.contract.frames import SERVER_FRAMES, parse_server_frame
from halo_sim.scenario.loader import discover, load_scenario
from halo_sim.scenario.runner import run_scenario
from halo_sim.targets.embedded import EmbeddedTarget, start_embedded

# What the catalog must exercise for this test to mean something (the rest is listed in the report).
MUST_SEE = {
    "connected", "message_ack", "pairing_searching", "pairing_offer", "pairing_matched", "offer_accepted",
    "offer_taken", "pairing_failed", "chat_message", "session_tick", "session_warning", "session_ended",
}  # fmt: skip


@pytest.fixture(scope="module")
def target() -> Iterator[EmbeddedTarget]:
    embedded = start_embedded()
    yield embedded
    embedded.close()


def _invalid(frame: Any) -> str | None:
    try:
        parse_server_frame(frame)
    except ValidationError as exc:
        return str(exc)
    return None


def test_every_frame_sent_during_the_catalog_validates(
    target: EmbeddedTarget, scenarios_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[tuple[str, Any]] = []
    original = WebSocket.send_text
    current = {"id": ""}

    async def recording(self: WebSocket, data: str) -> None:
        sent.append((current["id"], json.loads(data)))
        await original(self, data)

    monkeypatch.setattr(WebSocket, "send_text", recording)
    for path in discover(scenarios_dir):
        current["id"] = path.stem
        result = asyncio.run(run_scenario(load_scenario(path), target))
        assert result.status == "passed", result.failure_text()
    hub = [("(hub)", entry["frame"]) for entry in target.stack.backend.hub.sent]
    wrong = [f"{where}: {frame}\n{why}" for where, frame in [*sent, *hub] if (why := _invalid(frame))]
    assert not wrong, "frames the catalogue does not declare:\n" + "\n".join(wrong[:5])
    seen = {frame.get("type") for _, frame in sent}
    assert MUST_SEE <= seen, f"the catalog no longer exercises {sorted(MUST_SEE - seen)}"
    assert seen <= set(SERVER_FRAMES)


def test_a_frame_the_catalogue_does_not_declare_is_caught() -> None:
    """The check above bites: an extra field, a missing field and an unknown type are each reported."""
    tick = {"type": "session_tick", "session_id": "s", "remaining_seconds": 3}
    assert _invalid(tick) is None
    assert _invalid({**tick, "late": True}) is not None
    assert _invalid({"type": "session_tick", "session_id": "s"}) is not None
    assert _invalid({**tick, "type": "session_tock"}) is not None
