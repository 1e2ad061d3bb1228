"""One client that never reads its socket stalls nothing else (issue 10): a real server, two sessions.

Customer A's socket stops reading (its client applies backpressure after one frame) while its
mitra floods it with chat messages. Then the virtual clock moves five seconds: the advance must
return, customer B must get its five ticks, and A's socket must have been closed as too slow.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

pytestmark = pytest.mark.usefixtures("fresh")

BIG = "x" * 4000  # the longest message the contract allows
FLOOD = 3000  # ~12 MB for a socket nobody reads: past any kernel buffer and the 1,024-frame outbox


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def matched_pair(api: httpx.Client, n: int) -> tuple[str, str, str]:
    """A customer and a mitra chatting: (customer token, mitra token, session id)."""
    phone = f"+62811777000{n}"
    api.post("/internal/_test/seed-mitra", json={"phone": phone, "display_name": f"M{n}", "password": "pw"})
    mitra = api.post("/api/mitra/auth/login", json={"phone": phone, "password": "pw"}).json()["token"]
    api.post("/api/mitra/status", json={"online": True}, headers=bearer(mitra)).raise_for_status()
    customer = api.post("/api/customer/auth/anonymous").json()["token"]
    api.put("/api/customer/profile", json={"display_name": f"C{n}"}, headers=bearer(customer)).raise_for_status()
    payment = api.post("/api/customer/payments", json={"duration_minutes": 15}, headers=bearer(customer)).json()
    api.post("/internal/_test/force-confirm-payment", json={"payment_request_id": payment["id"]}).raise_for_status()
    accepted = api.post("/internal/_test/mitra-accept-latest", json={"mitra_phone": phone})
    accepted.raise_for_status()
    return customer, mitra, str(accepted.json()["id"])


@contextmanager
def socket(url: str, token: str, **options: Any) -> Iterator[ClientConnection]:
    with connect(f"{url}?token={token}", open_timeout=10, **options) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "connected"
        yield ws


def flood(ws: ClientConnection, session_id: str) -> None:
    """The mitra writes FLOOD long messages, reading its own acks as it goes (so only A falls behind)."""
    for start in range(0, FLOOD, 50):
        for i in range(start, start + 50):
            ws.send(json.dumps({"type": "chat_message", "session_id": session_id, "text": BIG, "client_id": str(i)}))
        acks = 0
        while acks < 50:
            acks += json.loads(ws.recv(timeout=10))["type"] == "message_ack"


def ticks(ws: ClientConnection, session_id: str, count: int) -> list[int]:
    seen: list[int] = []
    while len(seen) < count:
        frame = json.loads(ws.recv(timeout=10))
        if frame["type"] == "session_tick" and frame["session_id"] == session_id:
            seen.append(frame["remaining_seconds"])
    return seen


def test_a_client_that_never_reads_stalls_neither_the_clock_nor_other_sessions(
    api: httpx.Client, urls: dict[str, str]
) -> None:
    customer_a, mitra_a, session_a = matched_pair(api, 1)
    customer_b, _, session_b = matched_pair(api, 2)
    ws_url = urls["websocket"]
    with (
        socket(ws_url, customer_a, max_queue=1),
        socket(ws_url, mitra_a) as writer,
        socket(ws_url, customer_b) as reader,
    ):
        flood(writer, session_a)
        advanced = api.post("/internal/_test/clock", json={"seconds": 5})
        assert advanced.status_code == 200  # the timers ran: nothing waited on the stalled socket
        assert ticks(reader, session_b, 5) == [899, 898, 897, 896, 895]
        hub = api.get("/internal/_test/state").json()["hub"]
        assert hub["slow_clients_closed"] >= 1  # A was closed with SLOW_CLIENT_CLOSE (4008)
        assert f"customer:{stalled_id(api)}" not in api.get("/internal/_test/connections").json()["sockets"]


def stalled_id(api: httpx.Client) -> str:
    """The id of the first customer (the one whose socket stalled)."""
    rows = api.get("/internal/_test/state").json()["tables"]["customers"]
    return str(next(r["id"] for r in rows if r["display_name"] == "C1"))
