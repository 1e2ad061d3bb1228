"""Fake FCM keeps bounded memory for a days-long ``serve``: the inbox and the call log keep their newest
entries, count what they dropped, say so on the control plane, and survive a restart within their caps."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from fake_fcm import FcmBackend, create_app
from fake_fcm.models import CALLS_CAP, INBOX_CAP
from simkit.server import ServerThread

AUTH = "Bearer x"
CAP = 10
SENT = 7 * CAP  # well past the cap, and past the twice-the-cap point where a BoundedLog trims


def sent(backend: FcmBackend, count: int = SENT) -> list[str]:
    """``count`` messages to two devices; their names, in order."""
    return [backend.send("p", AUTH, {"message": {"token": f"d{n % 2}"}})["name"] for n in range(count)]


def test_the_inbox_keeps_the_newest_messages_and_counts_the_dropped() -> None:
    backend = FcmBackend(inbox_cap=CAP)
    names = sent(backend)
    page = backend.inbox_page()
    assert [m["name"] for m in page["messages"]] == names[-CAP:]  # newest kept, oldest dropped, in order
    assert page["bound"] == {"kept": CAP, "cap": CAP, "dropped": SENT - CAP}
    assert page["last_seq"] == SENT
    assert len(backend._deliveries) < 2 * CAP  # the bound holds in memory, not only in what is shown


def test_a_reader_asks_for_what_is_new_since_its_last_read_or_the_newest_few() -> None:
    backend = FcmBackend(inbox_cap=CAP)
    names = sent(backend, 20)
    assert [m["seq"] for m in backend.inbox(after=17)] == [18, 19, 20]
    assert [m["name"] for m in backend.inbox(limit=2)] == names[-2:]
    assert [m["seq"] for m in backend.inbox("d0", after=14)] == [15, 17, 19]
    assert backend.inbox(after=20) == []


def test_reset_empties_the_bounds_and_starts_a_new_generation() -> None:
    backend = FcmBackend(inbox_cap=CAP, calls_cap=CAP)
    sent(backend)
    before = backend.inbox_page()["generation"]
    backend.reset()
    page = backend.inbox_page()
    assert (page["bound"]["dropped"], page["last_seq"], page["generation"]) == (0, 0, before + 1)


def test_the_default_caps_are_the_documented_ones() -> None:
    backend = FcmBackend()
    assert (backend._deliveries.cap, backend.calls.cap) == (INBOX_CAP, CALLS_CAP) == (5_000, 1_000)


def test_a_restart_keeps_the_newest_within_the_cap_and_the_dropped_count() -> None:
    backend = FcmBackend(inbox_cap=CAP)
    names = sent(backend)
    saved = json.loads(json.dumps(backend.snapshot()))
    assert len(saved["deliveries"]) == CAP
    again = FcmBackend(inbox_cap=CAP)
    again.restore(saved)
    assert [m["name"] for m in again.inbox()] == names[-CAP:]
    assert again.inbox_page()["bound"]["dropped"] == SENT - CAP


def test_a_state_file_from_before_the_bound_restores_to_the_newest_within_the_cap() -> None:
    unbounded = FcmBackend(inbox_cap=SENT)
    names = sent(unbounded)
    again = FcmBackend(inbox_cap=CAP)
    again.restore(json.loads(json.dumps({k: v for k, v in unbounded.snapshot().items() if k != "deliveries_dropped"})))
    assert [m["name"] for m in again.inbox()] == names[-CAP:]
    assert again.inbox_page()["bound"] == {"kept": CAP, "cap": CAP, "dropped": SENT - CAP}


# --- over HTTP: the control plane says what was dropped ------------------------------------------


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    server = ServerThread(create_app(FcmBackend(inbox_cap=CAP, calls_cap=CAP)), name="fake-fcm-bounds").start()
    try:
        with httpx.Client(base_url=server.url, trust_env=False) as http:
            yield http
    finally:
        server.stop()


def post_many(client: httpx.Client, count: int = SENT) -> None:
    for n in range(count):
        answer = client.post(
            "/v1/projects/p/messages:send", json={"message": {"token": f"d{n}"}}, headers={"Authorization": AUTH}
        )
        assert answer.status_code == 200


def test_inbox_and_calls_over_http_keep_the_newest_and_say_how_many_were_dropped(client: httpx.Client) -> None:
    post_many(client)
    inbox = client.get("/_fake/inbox").json()
    assert [m["target"] for m in inbox["messages"]] == [f"d{n}" for n in range(SENT - CAP, SENT)]
    assert inbox["bound"] == {"kept": CAP, "cap": CAP, "dropped": SENT - CAP}
    calls = client.get("/_fake/calls").json()
    assert [c["body"]["message"]["token"] for c in calls["calls"]] == [f"d{n}" for n in range(SENT - CAP, SENT)]
    assert calls["bound"] == {"kept": CAP, "cap": CAP, "dropped": SENT - CAP}
    assert client.get("/_fake/state").json()["bounds"]["inbox"]["dropped"] == SENT - CAP


def test_inbox_over_http_reads_after_a_cursor_and_refuses_a_bad_one(client: httpx.Client) -> None:
    post_many(client, 5)
    newer = client.get("/_fake/inbox", params={"after": 3}).json()
    assert ([m["seq"] for m in newer["messages"]], newer["last_seq"]) == ([4, 5], 5)
    assert [m["seq"] for m in client.get("/_fake/inbox", params={"limit": 1}).json()["messages"]] == [5]
    for bad in ("-1", "x", "1.5"):
        answer = client.get("/_fake/inbox", params={"after": bad})
        assert answer.status_code == 400 and "after" in answer.json()["error"]
