"""FcmClient against fake FCM served on 127.0.0.1: the v1 request, and every FCM refusal the fake can give.

The fake serves one project, insists on one OAuth bearer, validates messages as FCM does,
answers UNREGISTERED for uninstalled apps and injects errors and latency through
``/_fake/faults``; ``/_fake/calls`` and ``/_fake/inbox`` show what the client sent.  A refused
connection comes from a real socket (``refusing_url``).  respx is kept only for answers no
well-behaved FCM gives: a hang-up mid-answer, and bodies that are not FCM's JSON.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import respx

from halo_sim.backend.push import FcmClient, PushRejected, chat_push, rejection
from simkit.errors import UpstreamError

if TYPE_CHECKING:
    from conftest import FakeEndpoint

MOCK_BASE = "https://fcm.example.test"  # only the respx tests use it: nothing listens there
MOCK_URL = f"{MOCK_BASE}/v1/projects/halo-test/messages:send"
FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
WAIT_S = 5.0  # bound for the fake to finish a slow answer; never asserted on


def send(
    base: str,
    message: dict[str, Any],
    *,
    project: str = "halo-test",
    bearer: str = "access-123",
    validate_only: bool = False,
    timeout: float = 5.0,
) -> str:
    """One send on a fresh client (base URL with a trailing slash, as configs often have it), closed afterwards."""

    async def run() -> str:
        fcm = FcmClient(f"{base}/", project, bearer, timeout=timeout)
        try:
            return await fcm.send(message, validate_only=validate_only)
        finally:
            await fcm.aclose()

    return asyncio.run(run())


def on_fake(fake: FakeEndpoint, message: dict[str, Any], **kw: Any) -> str:
    return send(fake.url, message, **{"project": fake.project, "bearer": fake.credential, **kw})


def rejected_by_fake(fake: FakeEndpoint, message: dict[str, Any], **kw: Any) -> PushRejected:
    with pytest.raises(PushRejected) as caught:
        on_fake(fake, message, **kw)
    return caught.value


def calls(fake: FakeEndpoint) -> list[dict[str, Any]]:
    """What the fake received on its send API, in order."""
    return list(fake.control.get("/_fake/calls").json()["calls"])


def test_url_is_the_v1_send_endpoint_without_double_slash() -> None:
    assert FcmClient(f"{MOCK_BASE}/", "halo-test", "access-123").url == MOCK_URL


# --- success, against the fake ------------------------------------------------------------------


def test_success_returns_the_message_name_and_delivers_exactly_the_message(fcm_fake: FakeEndpoint) -> None:
    message = chat_push("tok-1", "Rani", "halo", {"type": "chat_message"})

    name = on_fake(fcm_fake, message)

    assert name == "projects/halo-test/messages/0000000000000001"
    [delivered] = fcm_fake.control.get("/_fake/inbox", params={"token": "tok-1"}).json()["messages"]
    assert (delivered["name"], delivered["message"]) == (name, message)
    assert [c["body"] for c in calls(fcm_fake)] == [{"message": message}]  # no validate_only unless asked


def test_validate_only_is_sent_when_asked_and_nothing_is_delivered(fcm_fake: FakeEndpoint) -> None:
    name = on_fake(fcm_fake, {"token": "t"}, validate_only=True)

    assert name == "projects/halo-test/messages/fake_message_id"
    assert [c["body"] for c in calls(fcm_fake)] == [{"message": {"token": "t"}, "validate_only": True}]
    assert fcm_fake.control.get("/_fake/inbox").json()["messages"] == []


# --- FCM's refusals, from the fake -------------------------------------------------------------


def test_a_send_to_an_uninstalled_app_is_rejected_404_unregistered(fcm_fake: FakeEndpoint) -> None:
    fcm_fake.control.post("/_fake/tokens/gone/unregister").raise_for_status()

    error = rejected_by_fake(fcm_fake, {"token": "gone"})

    assert (error.status, error.code, error.service) == (404, "UNREGISTERED", "fcm")
    assert "Requested entity was not found." in str(error)
    assert isinstance(error, UpstreamError)


def test_a_message_fcm_finds_invalid_is_rejected_400_invalid_argument(fcm_fake: FakeEndpoint) -> None:
    error = rejected_by_fake(fcm_fake, {"token": "t", "android": {"priority": "urgent"}})

    assert (error.status, error.code) == (400, "INVALID_ARGUMENT")
    assert "message.android.priority" in str(error)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("QUOTA_EXCEEDED", 429),
        ("UNAVAILABLE", 503),
        ("INTERNAL", 500),
        ("THIRD_PARTY_AUTH_ERROR", 401),
        ("SENDER_ID_MISMATCH", 403),
    ],
)
def test_an_injected_fcm_error_is_rejected_with_its_status_and_error_code_and_not_retried(
    fcm_fake: FakeEndpoint, code: str, status: int
) -> None:
    fcm_fake.control.post("/_fake/faults", json={"fail_next": {"count": 1, "error": code}}).raise_for_status()

    error = rejected_by_fake(fcm_fake, {"token": "t"})

    assert (error.status, error.code) == (status, code)
    assert len(calls(fcm_fake)) == 1


def test_a_send_to_another_project_is_rejected_403_sender_id_mismatch(fcm_fake: FakeEndpoint) -> None:
    error = rejected_by_fake(fcm_fake, {"token": "t"}, project="someone-else")

    assert (error.status, error.code) == (403, "SENDER_ID_MISMATCH")


def test_a_wrong_bearer_is_rejected_401_with_the_rpc_status_as_code(fcm_fake: FakeEndpoint) -> None:
    """Google's front end answers before FCM: no details at all, so the code is the rpc status."""
    error = rejected_by_fake(fcm_fake, {"token": "t"}, bearer="stale-token")

    assert (error.status, error.code) == (401, "UNAUTHENTICATED")
    assert "invalid authentication credentials" in str(error)


def test_an_answer_slower_than_the_timeout_is_rejected_unreachable(fcm_fake: FakeEndpoint) -> None:
    fcm_fake.control.post("/_fake/faults", json={"latency_ms": 1000}).raise_for_status()

    error = rejected_by_fake(fcm_fake, {"token": "t"}, timeout=0.1)

    assert (error.status, error.code) == (0, "UNREACHABLE")
    assert "ReadTimeout" in str(error)
    assert isinstance(error.__cause__, httpx.ReadTimeout)
    wait_for_the_late_answer(fcm_fake)


def wait_for_the_late_answer(fake: FakeEndpoint) -> None:
    """The fake records a call once it has answered; until then the next test's reset could be undone."""
    deadline = time.monotonic() + WAIT_S
    while not calls(fake):
        if time.monotonic() > deadline:
            pytest.fail("fake FCM never finished the slow answer")
        time.sleep(0.02)


def test_a_refused_connection_is_rejected_unreachable_with_status_0(refusing_url: str) -> None:
    with pytest.raises(PushRejected) as caught:
        send(refusing_url, {"token": "t"})

    assert (caught.value.status, caught.value.code) == (0, "UNREACHABLE")
    assert "ConnectError" in str(caught.value)
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


def test_error_code_is_taken_from_the_detail_that_carries_it_wherever_it_is() -> None:
    # No server: the fake always puts the FcmError detail first; Google does not promise an order.
    response = httpx.Response(
        400,
        json={
            "error": {
                "code": 400,
                "message": "bad",
                "status": "INVALID_ARGUMENT",
                "details": [
                    {"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": []},
                    {"@type": FCM_ERROR, "errorCode": "INVALID_ARGUMENT"},
                ],
            }
        },
    )
    assert (rejection(response).code, rejection(response).status) == ("INVALID_ARGUMENT", 400)


def test_details_without_an_error_code_fall_back_to_the_rpc_status() -> None:
    # No server: the fake sends this shape (missing credential) only to a request without a bearer,
    # and this client always sends one (an empty token is refused by h11 before it leaves).
    response = httpx.Response(
        401,
        json={
            "error": {
                "code": 401,
                "message": "no creds",
                "status": "UNAUTHENTICATED",
                "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "CREDENTIALS_MISSING"}],
            }
        },
    )
    assert (rejection(response).code, rejection(response).status) == ("UNAUTHENTICATED", 401)


# --- what no well-behaved FCM answers: respx ---------------------------------------------------


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield router


def mocked_rejection() -> PushRejected:
    with pytest.raises(PushRejected) as caught:
        send(MOCK_BASE, {"token": "t"})
    return caught.value


def test_a_hang_up_mid_answer_is_rejected_unreachable(mock: respx.MockRouter) -> None:
    # A mock: the fake always answers in full; this is a proxy dropping the connection.
    failure = httpx.RemoteProtocolError("server hung up")
    mock.post(MOCK_URL).mock(side_effect=failure)

    error = mocked_rejection()

    assert (error.status, error.code) == (0, "UNREACHABLE")
    assert error.__cause__ is failure


def test_non_json_error_body_is_unknown_with_the_text(mock: respx.MockRouter) -> None:
    # A mock: the fake answers every error as google.rpc.Status JSON; a proxy's HTML page it cannot give.
    mock.post(MOCK_URL).respond(502, text="<html>Bad Gateway</html>")

    error = mocked_rejection()

    assert (error.status, error.code) == (502, "UNKNOWN")
    assert "Bad Gateway" in str(error)


def test_error_body_without_error_key_is_unknown(mock: respx.MockRouter) -> None:
    # A mock: a garbled error body, which the fake never sends.
    mock.post(MOCK_URL).respond(500, json={"oops": True})

    assert mocked_rejection().code == "UNKNOWN"


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param({"text": "<html>ok</html>"}, id="not-json"),
        pytest.param({"json": {"no": "name"}}, id="json-without-name"),
    ],
)
def test_a_200_answer_that_is_not_a_message_name_is_a_bad_response_not_a_crash(
    mock: respx.MockRouter, answer: dict[str, Any]
) -> None:
    # A mock: the fake's send API never answers 200 with anything but {"name": ...}.
    mock.post(MOCK_URL).respond(200, **answer)

    error = mocked_rejection()

    assert (error.status, error.code) == (200, "BAD_RESPONSE")


def test_chat_push_is_a_high_priority_notification_with_data() -> None:
    assert chat_push("tok", "Title", "Body", {"k": "v"}) == {
        "token": "tok",
        "notification": {"title": "Title", "body": "Body"},
        "data": {"k": "v"},
        "android": {"priority": "high", "ttl": "3600s"},
    }
