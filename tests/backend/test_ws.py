"""``/ws`` client frames through a real server: the heartbeat frame keeps a mitra online."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from halo_sim.stack import Stack

WAIT_S = 5.0  # upper bound for a frame or a socket to go away; never asserted on
PHONE = "+6281199900077"


pytestmark = pytest.mark.usefixtures("fresh")  # tests/backend/conftest.py: one Stack, reset per test


def mitra_online(api: httpx.Client) -> str:
    """Seed a mitra, log it in, switch it online (which counts as a heartbeat); returns its token."""
    body = {"phone": PHONE, "display_name": "Rani", "password": "pw"}
    assert api.post("/internal/_test/seed-mitra", json=body).status_code in (200, 201)
    login = api.post("/api/mitra/auth/login", json={"phone": PHONE, "password": "pw"})
    assert login.status_code == 200, login.text
    token = str(login.json()["token"])
    assert api.post("/api/mitra/status", json={"online": True}, headers=bearer(token)).status_code == 200
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def socket(stack: Stack, token: str) -> Iterator[ClientConnection]:
    with connect(f"{stack.urls()['websocket']}?token={token}", open_timeout=WAIT_S) as ws:
        assert recv(ws)["type"] == "connected"
        yield ws


def recv(ws: ClientConnection) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(ws.recv(timeout=WAIT_S))
    return frame


def advance(api: httpx.Client, seconds: float) -> None:
    api.post("/internal/_test/clock", json={"seconds": seconds}).raise_for_status()


def is_online(api: httpx.Client, token: str) -> bool:
    """Read-only: the profile reports presence without counting as a heartbeat."""
    return bool(api.get("/api/mitra/profile", headers=bearer(token)).json()["is_online"])


def test_heartbeat_frame_is_acknowledged_and_keeps_the_mitra_online(api: httpx.Client, stack: Stack) -> None:
    timeout = stack.backend.settings.heartbeat_timeout_s
    token = mitra_online(api)
    with socket(stack, token) as ws:
        advance(api, timeout - 10)
        ws.send(json.dumps({"type": "heartbeat"}))
        assert recv(ws) == {"type": "heartbeat_ack"}
        advance(api, 20)  # past the timeout of the toggle's heartbeat, well within the frame's
        assert is_online(api, token) is True
        advance(api, timeout)
        assert is_online(api, token) is False


def test_without_the_heartbeat_frame_the_same_mitra_goes_offline(api: httpx.Client, stack: Stack) -> None:
    """The control for the test above: the same clock moves, no frame, offline."""
    timeout = stack.backend.settings.heartbeat_timeout_s
    token = mitra_online(api)
    with socket(stack, token) as ws:
        advance(api, timeout - 10)
        ws.send(json.dumps({"type": "ping"}))
        assert recv(ws) == {"type": "pong"}
        advance(api, 20)
        assert is_online(api, token) is False


def test_heartbeat_frame_records_the_clock_time_as_last_heartbeat(api: httpx.Client, stack: Stack) -> None:
    token = mitra_online(api)
    with socket(stack, token) as ws:
        advance(api, 42)
        ws.send(json.dumps({"type": "heartbeat"}))
        assert recv(ws) == {"type": "heartbeat_ack"}
    state = api.get("/internal/_test/state").json()
    [mitra] = [m for m in state["tables"]["mitras"] if m["phone"] == PHONE]
    assert mitra["last_heartbeat_at"] == state["now"]
