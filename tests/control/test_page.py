"""The page, its snapshot and stream: what they show, what they never show, and who may see them."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from halo_sim.backend.app import create_app
from halo_sim.backend.config import Settings
from halo_sim.backend.state import ReferenceBackend
from halo_sim.control.feed import short_token
from halo_sim.control.routes import COOKIE
from halo_sim.control.timeline import Timeline
from halo_sim.stack import Stack
from simkit.server import ServerThread

if TYPE_CHECKING:
    from conftest import World

TEST_TOKEN = "control-page-test-token"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _busy_world(world: World) -> dict[str, Any]:
    """The mitra online and chatting; a second payment searching with nobody free; a push sent."""
    world.act("mitra-presence", {"mitra_id": world.mitra_id, "online": True}).raise_for_status()
    paid = world.payment()
    world.act("pay-invoice", {"invoice_id": paid["xendit_invoice_id"]}).raise_for_status()
    session = world.act("accept-latest", {"mitra_id": world.mitra_id}).json()
    world.act("send-as-mitra", {"session_id": session["id"], "text": "halo"}).raise_for_status()
    pending = world.payment()
    return {"session": session, "paid": paid, "pending": pending}


def test_the_snapshot_shows_mitras_payments_sessions_and_pushes(world: World) -> None:
    made = _busy_world(world)
    snap = world.snapshot()
    mitra = next(m for m in snap["mitras"] if m["id"] == world.mitra_id)
    assert (mitra["state"], mitra["heartbeat_age_s"]) == ("busy", 0)
    payments = {p["id"]: p for p in snap["payments"]}
    assert (payments[made["paid"]["id"]]["status"], payments[made["paid"]["id"]]["invoice_status"]) == (
        "consumed",
        "PAID",
    )
    assert payments[made["pending"]["id"]]["invoice_status"] == "PENDING"
    session = next(s for s in snap["sessions"] if s["id"] == made["session"]["id"])
    assert (session["status"], session["mode"], session["time_left_s"]) == ("active", "blast", 15 * 60)
    assert snap["stats"]["active_sessions"] == 1
    inbox = next(row for row in snap["inbox"] if row["owner"] == f"customer:{world.customer_id}")
    assert inbox["token"] == short_token("fcm-customer-token-0123456789abcdef") and inbox["count"] >= 1


def test_an_attempt_in_flight_shows_its_offers_and_time_left(world: World) -> None:
    world.act("mitra-presence", {"mitra_id": world.mitra_id, "online": True}).raise_for_status()
    payment = world.payment()
    world.act("pay-invoice", {"invoice_id": payment["xendit_invoice_id"]}).raise_for_status()
    snap = world.snapshot()
    attempt = next(s for s in snap["sessions"] if s["payment_request_id"] == payment["id"])
    timeout = world.api.get("/api/config").json()["pairing_timeout_s"]
    assert (attempt["status"], attempt["time_left_s"]) == ("pending_acceptance", timeout)
    assert attempt["offers_out"] >= 1
    mitra = next(m for m in snap["mitras"] if m["id"] == world.mitra_id)
    assert (mitra["state"], mitra["offers"]) == ("online", 1)


def test_the_timeline_has_calls_frames_events_pushes_and_callbacks_about_the_payment(world: World) -> None:
    made = _busy_world(world)
    timeline = world.snapshot()["timeline"]
    kinds = {e["kind"] for e in timeline if made["paid"]["id"] in e["refs"]}
    assert {"event", "callback", "webhook"} <= kinds
    about_session = {e["kind"] for e in timeline if made["session"]["id"] in e["refs"]}
    assert {"frame", "push"} <= about_session
    by_customer = [e for e in timeline if world.customer_id in e["refs"] and e["kind"] == "http"]
    assert any(e["text"].startswith("POST /api/customer/payments → 201") for e in by_customer)


def test_no_secret_reaches_the_page_the_snapshot_or_the_stream(world: World, stack: Stack) -> None:
    _busy_world(world)
    secrets = {
        "customer token": world.customer_token,
        "mitra token": world.mitra_token,
        "mitra password": "control-pass-77",
        "outstanding OTP": world.otp,
        "callback token": stack.xendit_callback_token,
        "Xendit secret key": stack.config.xendit_secret_key,
        "whole FCM token": "fcm-customer-token-0123456789abcdef",
    }
    shown = {
        "page": world.api.get("/control").text,
        "snapshot": world.api.get("/control/snapshot").text,
        "stream": world.api.get("/control/stream", params={"limit": 1}).text,
    }
    leaks = [
        f"{what} in the {where}" for what, value in secrets.items() for where, text in shown.items() if value in text
    ]
    assert leaks == []


def test_a_backend_reset_starts_the_timeline_over_with_the_reset_call(world: World) -> None:
    _busy_world(world)
    world.api.post("/internal/_test/reset", json={}).raise_for_status()
    timeline = world.snapshot()["timeline"]
    backend = [e["text"] for e in timeline if e["kind"] in ("http", "event", "frame", "webhook")]
    assert backend == ["POST /internal/_test/reset → 200"]  # the fakes, not reset, keep their logs


def test_the_stream_sends_every_panel_first_as_html(world: World) -> None:
    text = world.api.get("/control/stream", params={"limit": 1}).text
    assert text.startswith("event: panels\ndata: ")
    assert '"payments": "<h2>Payments' in text and '"timeline": ' in text


def test_the_timeline_keeps_only_its_newest_entries() -> None:
    timeline = Timeline(cap=10)
    for i in range(1000):
        timeline.add(float(i), "http", f"call {i}", [])
    assert len(timeline.log) < 20
    assert [e["text"] for e in timeline.newest(3, now=998)] == ["call 998", "call 997", "call 996"]


def test_a_source_replaced_by_a_reset_is_read_again_from_its_start() -> None:
    timeline = Timeline()
    first = ["a", "b"]
    assert timeline.read("events", first) == ["a", "b"]
    first.append("c")
    assert timeline.read("events", first) == ["c"]
    assert timeline.read("events", ["d"]) == ["d"]  # a new list (the backend was reset)


def test_a_ring_is_read_from_its_total_count_even_past_what_it_keeps() -> None:
    timeline = Timeline()
    frames: deque[int] = deque(maxlen=3)
    frames.extend([1, 2])
    assert timeline.read("frames", frames, total=2) == [1, 2]
    frames.extend([3, 4, 5, 6])  # 4 more, only the newest 3 kept
    assert timeline.read("frames", frames, total=6) == [4, 5, 6]
    assert timeline.read("frames", frames, total=6) == []


# --- the guard ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def guarded() -> Iterator[str]:
    """A bare backend with a test token (a shared host): its URL."""
    server = ServerThread(
        create_app(ReferenceBackend(Settings(env="test", test_token=TEST_TOKEN))), "127.0.0.1", 0, "g"
    )
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def test_with_a_test_token_the_page_needs_it(guarded: str) -> None:
    with httpx.Client(base_url=guarded, trust_env=False) as client:
        for path in ("/control", "/control/snapshot", "/control/static/control.js"):
            refused = client.get(path)
            assert (refused.status_code, refused.json()["error"]) == (401, "TEST_TOKEN_REQUIRED")
        wrong = client.get("/control", params={"token": "nope"})
        assert (wrong.status_code, wrong.json()["error"]) == (401, "TEST_TOKEN_REQUIRED")
        assert client.get("/control/snapshot", headers={"x-test-token": TEST_TOKEN}).status_code == 200


def test_the_token_once_in_the_address_becomes_a_cookie_the_page_and_buttons_accept(guarded: str) -> None:
    with httpx.Client(base_url=guarded, trust_env=False) as client:
        traded = client.get("/control", params={"token": TEST_TOKEN})
        assert (traded.status_code, traded.headers["location"]) == (303, "/control")
        cookie = traded.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/control" in cookie
        assert client.get("/control").status_code == 200  # the client kept the cookie
        pressed = client.post("/control/actions/advance-clock", json={"seconds": 1})
        assert (pressed.status_code, pressed.json()["error"]) == (409, "CLOCK_NOT_VIRTUAL")  # through the guard
        form = client.post("/control/actions/advance-clock", content=b"seconds=1")
        assert (form.status_code, form.json()["error"]) == (415, "JSON_REQUIRED")
        assert COOKIE in client.cookies


def test_the_cookie_opens_no_other_test_route(guarded: str) -> None:
    with httpx.Client(base_url=guarded, trust_env=False, cookies={COOKIE: TEST_TOKEN}) as client:
        refused = client.get("/internal/_test/state")
        assert (refused.status_code, refused.json()["error"]) == (401, "TEST_TOKEN_REQUIRED")


def test_in_production_there_is_no_control_center() -> None:
    server = ServerThread(create_app(ReferenceBackend(Settings(env="production"))), "127.0.0.1", 0, "p").start()
    try:
        missing = httpx.get(server.url + "/control", trust_env=False)
    finally:
        server.stop()
    assert (missing.status_code, missing.json()["error"]) == (404, "ROUTE_NOT_FOUND")


def test_an_endless_stream_ends_cleanly_when_the_server_drains() -> None:
    server = ServerThread(create_app(ReferenceBackend(Settings(env="test"))), "127.0.0.1", 0, "drain").start()
    lines: list[str] = []
    failures: list[BaseException] = []
    first = threading.Event()

    def read() -> None:
        try:
            with httpx.stream("GET", server.url + "/control/stream", timeout=10, trust_env=False) as streamed:
                for line in streamed.iter_lines():
                    lines.append(line)
                    first.set()
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert first.wait(10), "no first event"
    server.stop()
    reader.join(10)
    assert not reader.is_alive() and failures == []
    assert lines[0] == "event: panels"
