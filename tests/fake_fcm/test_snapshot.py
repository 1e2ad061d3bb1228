"""Fake FCM's state survives a restart (``halo-sim serve --state-file``): snapshot, JSON, restore."""

from __future__ import annotations

import json

from fake_fcm.errors import Unregistered
from fake_fcm.models import FcmBackend

SEND = {"message": {"token": "t1", "data": {"k": "v"}}}


def _restored(backend: FcmBackend, skip: int = 0) -> FcmBackend:
    again = FcmBackend()
    again.restore(json.loads(json.dumps(backend.snapshot())), skip)
    return again


def test_inbox_and_token_registrations_come_back() -> None:
    backend = FcmBackend()
    backend.send("p1", "Bearer x", SEND)
    backend.unregister("gone")
    again = _restored(backend)
    assert again.inbox("t1") == backend.inbox("t1")
    try:
        again.send("p1", "Bearer x", {"message": {"token": "gone"}})
    except Unregistered:
        pass
    else:
        raise AssertionError("an unregistered token was forgotten")


def test_message_names_continue_after_a_drain_and_jump_after_a_checkpoint() -> None:
    backend = FcmBackend()
    first = backend.send("p1", "Bearer x", SEND)["name"]
    assert _restored(backend).send("p1", "Bearer x", SEND)["name"] > first
    lost = backend.send("p1", "Bearer x", SEND)["name"]  # after the checkpoint, then a crash
    assert _restored(backend, skip=1000).send("p1", "Bearer x", SEND)["name"] > lost
