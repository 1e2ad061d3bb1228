"""FcmClient against a mocked FCM v1 endpoint (respx): success, FCM errors, transport errors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx
import pytest
import respx

from halo_sim.backend.push import FcmClient, PushRejected, chat_push, rejection
from simkit.errors import UpstreamError

BASE = "https://fcm.example.test"
URL = f"{BASE}/v1/projects/halo-test/messages:send"
FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield router


def client() -> FcmClient:
    return FcmClient(f"{BASE}/", "halo-test", "access-123", timeout=2.0)


def send(message: dict[str, object], validate_only: bool = False) -> str:
    async def run() -> str:
        fcm = client()
        try:
            return await fcm.send(message, validate_only=validate_only)
        finally:
            await fcm.aclose()

    return asyncio.run(run())


def rejected(message: dict[str, object]) -> PushRejected:
    with pytest.raises(PushRejected) as caught:
        send(message)
    return caught.value


def test_url_is_the_v1_send_endpoint_without_double_slash() -> None:
    assert client().url == URL


def test_success_returns_the_message_name_and_sends_bearer_and_v1_body(mock: respx.MockRouter) -> None:
    route = mock.post(URL).respond(200, json={"name": "projects/halo-test/messages/42"})
    message = chat_push("tok-1", "Rani", "halo", {"type": "chat_message"})
    assert send(message) == "projects/halo-test/messages/42"
    assert route.call_count == 1
    request = route.calls.last.request
    assert request.headers["authorization"] == "Bearer access-123"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {"message": message}


def test_validate_only_is_sent_only_when_asked(mock: respx.MockRouter) -> None:
    route = mock.post(URL).respond(200, json={"name": "projects/halo-test/messages/fake_message_id"})
    send({"token": "t"}, validate_only=True)
    assert json.loads(route.calls.last.request.content) == {"message": {"token": "t"}, "validate_only": True}


def test_unregistered_error_detail_raises_push_rejected_unregistered(mock: respx.MockRouter) -> None:
    mock.post(URL).respond(
        404,
        json={
            "error": {
                "code": 404,
                "message": "Requested entity was not found.",
                "status": "NOT_FOUND",
                "details": [{"@type": FCM_ERROR, "errorCode": "UNREGISTERED"}],
            }
        },
    )
    error = rejected({"token": "gone"})
    assert error.code == "UNREGISTERED"
    assert error.status == 404
    assert error.service == "fcm"
    assert "Requested entity was not found." in str(error)
    assert isinstance(error, UpstreamError)


def test_error_code_is_taken_from_the_detail_that_carries_it(mock: respx.MockRouter) -> None:
    mock.post(URL).respond(
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
    assert rejected({"token": "t"}).code == "INVALID_ARGUMENT"


def test_error_without_details_falls_back_to_the_rpc_status(mock: respx.MockRouter) -> None:
    mock.post(URL).respond(401, json={"error": {"code": 401, "message": "no creds", "status": "UNAUTHENTICATED"}})
    error = rejected({"token": "t"})
    assert (error.code, error.status) == ("UNAUTHENTICATED", 401)


def test_error_with_details_but_no_error_code_falls_back_to_the_rpc_status(mock: respx.MockRouter) -> None:
    mock.post(URL).respond(
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
    assert rejected({"token": "t"}).code == "UNAUTHENTICATED"


def test_non_json_error_body_is_unknown_with_the_text(mock: respx.MockRouter) -> None:
    mock.post(URL).respond(502, text="<html>Bad Gateway</html>")
    error = rejected({"token": "t"})
    assert (error.code, error.status) == ("UNKNOWN", 502)
    assert "Bad Gateway" in str(error)


def test_error_body_without_error_key_is_unknown(mock: respx.MockRouter) -> None:
    mock.post(URL).respond(500, json={"oops": True})
    assert rejected({"token": "t"}).code == "UNKNOWN"


@pytest.mark.parametrize(
    "exc", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow")], ids=["connect-error", "read-timeout"]
)
def test_transport_error_raises_push_rejected_unreachable(mock: respx.MockRouter, exc: httpx.HTTPError) -> None:
    mock.post(URL).mock(side_effect=exc)
    error = rejected({"token": "t"})
    assert (error.code, error.status) == ("UNREACHABLE", 0)
    assert type(exc).__name__ in str(error)
    assert error.__cause__ is exc


def test_rejection_helper_reads_the_v1_shape() -> None:
    response = httpx.Response(
        429,
        json={
            "error": {
                "code": 429,
                "message": "slow down",
                "status": "RESOURCE_EXHAUSTED",
                "details": [{"@type": FCM_ERROR, "errorCode": "QUOTA_EXCEEDED"}],
            }
        },
    )
    error = rejection(response)
    assert (error.code, error.status) == ("QUOTA_EXCEEDED", 429)


def test_chat_push_is_a_high_priority_notification_with_data() -> None:
    assert chat_push("tok", "Title", "Body", {"k": "v"}) == {
        "token": "tok",
        "notification": {"title": "Title", "body": "Body"},
        "data": {"k": "v"},
        "android": {"priority": "high", "ttl": "3600s"},
    }
