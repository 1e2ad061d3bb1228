"""A small JSON report made by hand: every kind of message the diagram draws, and a failed step."""

from __future__ import annotations

from typing import Any

import pytest

BACKEND, XENDIT, FCM = "http://127.0.0.1:8000", "http://127.0.0.1:8001", "http://127.0.0.1:8002"
START = 1_767_225_600.0


def http(sent: float, t: float, method: str, url: str, status: int, response: Any, actor: str | None = None) -> dict:
    return {
        "t": t,
        "sent": sent,
        "kind": "http",
        "method": method,
        "url": url,
        "request": None,
        "status": status,
        "response": response,
        "actor": actor,
    }


def step(index: int, phase: str, title: str, started: float, seconds: float, status: str = "passed") -> dict:
    return {
        "index": index,
        "phase": phase,
        "title": title,
        "line": None,
        "status": status,
        "summary": "",
        "details": [],
        "seconds": seconds,
        "started": started,
    }


@pytest.fixture
def conversation() -> dict[str, Any]:
    """customer pays, the mitra is offered it, the clock moves, a push is read twice, the last step fails."""
    push = {"name": "projects/p/messages/1", "target": "tok-c", "message": {"data": {"type": "chat_message"}}}
    callback = {"callback_id": "cb1", "copy": 1, "attempt": 1, "outcome": "delivered", "status": "PAID"}
    failed = step(3, "step", "fcm.expect_push", 0.50, 0.2, "failed")
    failed["details"] = ["  ✗ no matching push"]
    return {
        "id": "conv",
        "name": "a conversation",
        "path": "nowhere.yaml",
        "target": "embedded",
        "seed": 1,
        "status": "failed",
        "reason": "no matching push",
        "seconds": 0.8,
        "endpoints": {"backend": BACKEND, "xendit": XENDIT, "fcm": FCM},
        "virtual_start": START,
        "tokens": {"tok-c": "customer", "tok-m": "mitra"},
        "steps": [
            step(0, "setup", "customer.foreground", 0.00, 0.05),
            step(0, "step", "customer.request_payment", 0.10, 0.10),
            step(1, "step", "test.advance_clock", 0.30, 0.10),
            step(2, "step", "xendit.expect_callback", 0.40, 0.05),
            failed,
        ],
        "transcript": [
            {"t": 0.02, "kind": "ws_open", "actor": "customer", "hello": {"type": "hello"}},
            http(0.11, 0.15, "POST", f"{BACKEND}/api/customer/payments", 201, {"status": "pending"}, "customer"),
            http(0.31, 0.35, "POST", f"{BACKEND}/internal/_test/clock", 200, {"now": START + 840, "virtual": True}),
            http(0.41, 0.42, "GET", f"{XENDIT}/_fake/callbacks", 200, {"log": [callback]}),
            http(0.51, 0.52, "GET", f"{FCM}/_fake/inbox?token=tok-c", 200, {"messages": [push]}),
            http(0.60, 0.61, "GET", f"{FCM}/_fake/inbox?token=tok-c", 200, {"messages": [push]}),
            http(0.75, 0.76, "POST", f"{BACKEND}/internal/_test/reset-phone", 200, {"deleted": True}),
        ],
        "frames": {"customer": [{"type": "pairing_searching"}], "mitra": [{"type": "session_tick"}] * 3},
        "frame_times": {"customer": [0.13], "mitra": [0.36, 0.37, 0.38]},
    }
