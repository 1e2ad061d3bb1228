"""Fake FCM over real HTTP: one uvicorn server per module, on loopback port 0."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from fake_fcm import FcmBackend, create_app
from simkit.server import ServerThread

AUTH = {"Authorization": "Bearer test-token"}
SEND = "/v1/projects/halo-test/messages:send"
TOKEN = "dXh2:APA91bF-token_with:colons"  # real FCM tokens contain ':' '-' '_'


@pytest.fixture(scope="module")
def backend() -> FcmBackend:
    return FcmBackend()


@pytest.fixture(scope="module")
def server(backend: FcmBackend) -> Iterator[ServerThread]:
    with ServerThread(create_app(backend), name="fake-fcm-test") as running:
        yield running


@pytest.fixture
def client(server: ServerThread, backend: FcmBackend) -> Iterator[httpx.Client]:
    """A client on a freshly reset fake; reset over HTTP so it lands after the previous test's last call."""
    backend.expected_bearer = None
    with httpx.Client(base_url=server.url, timeout=10) as http:
        http.post("/_fake/reset").raise_for_status()
        yield http


def message(token: str = TOKEN, **fields: Any) -> dict[str, Any]:
    return {"message": {"token": token, **fields}}


def post_send(client: httpx.Client, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    return client.post(SEND, json=message() if body is None else body, headers=AUTH if headers is None else headers)


def test_create_app_exposes_backend_on_app_state() -> None:
    backend = FcmBackend()
    assert create_app(backend).state.backend is backend


def test_create_app_without_backend_makes_a_fresh_one() -> None:
    assert isinstance(create_app().state.backend, FcmBackend)


def test_send_route_with_colon_path_answers_message_name(client: httpx.Client) -> None:
    response = post_send(client, message(data={"type": "chat"}))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"name": "projects/halo-test/messages/0000000000000001"}


def test_send_path_without_colon_verb_is_not_routed(client: httpx.Client) -> None:
    response = client.post("/v1/projects/halo-test/messages", json=message(), headers=AUTH)
    # the router's plain 404, not a google.rpc.Status NOT_FOUND (UNREGISTERED) from the send handler
    assert (response.status_code, response.text) == (404, "Not Found")


def test_send_route_only_accepts_post(client: httpx.Client) -> None:
    response = client.get(SEND, headers=AUTH)
    assert (response.status_code, response.text) == (405, "Method Not Allowed")


def test_missing_bearer_is_401_google_rpc_status(client: httpx.Client) -> None:
    response = post_send(client, headers={})
    error = response.json()["error"]
    assert response.status_code == 401
    assert (error["code"], error["status"]) == (401, "UNAUTHENTICATED")
    assert error["message"].startswith("Request is missing required authentication credential.")
    assert error["details"][0]["reason"] == "CREDENTIALS_MISSING"


def test_wrong_bearer_is_401_when_one_is_expected(client: httpx.Client, backend: FcmBackend) -> None:
    backend.expected_bearer = "the-right-one"
    response = post_send(client, headers={"Authorization": "Bearer not-it"})
    assert response.status_code == 401
    assert response.json()["error"]["message"].startswith("Request had invalid authentication credentials.")


def test_bad_json_is_400_invalid_argument(client: httpx.Client) -> None:
    response = client.post(SEND, content=b'{"message": ', headers={**AUTH, "Content-Type": "application/json"})
    error = response.json()["error"]
    assert response.status_code == 400
    assert (error["status"], error["details"][0]["errorCode"]) == ("INVALID_ARGUMENT", "INVALID_ARGUMENT")
    assert error["message"].startswith("Invalid JSON payload received.")


def test_validation_error_is_400_with_field_violation(client: httpx.Client) -> None:
    response = post_send(client, message(data={"count": 3}))
    assert response.status_code == 400
    assert response.json()["error"]["details"][1]["fieldViolations"][0]["field"] == "message.data[count].value"


def test_inbox_query_by_token_returns_that_token_messages(client: httpx.Client) -> None:
    post_send(client, message(data={"n": "1"}))
    post_send(client, message("other-device", data={"n": "2"}))
    messages = client.get("/_fake/inbox", params={"token": TOKEN}).json()["messages"]
    assert [(m["target"], m["message"]["data"]) for m in messages] == [(TOKEN, {"n": "1"})]


def test_inbox_query_without_token_returns_all_in_order(client: httpx.Client) -> None:
    post_send(client, message("a"))
    post_send(client, {"message": {"topic": "news"}})
    assert [m["target"] for m in client.get("/_fake/inbox").json()["messages"]] == ["a", "topic:news"]


def test_inbox_query_by_target_reads_topic_inbox(client: httpx.Client) -> None:
    post_send(client, {"message": {"topic": "news"}})
    assert len(client.get("/_fake/inbox", params={"target": "topic:news"}).json()["messages"]) == 1


def test_inbox_delete_clears_one_token(client: httpx.Client) -> None:
    post_send(client, message("a"))
    post_send(client, message("b"))
    assert client.delete("/_fake/inbox", params={"token": "a"}).json() == {"cleared": 1}
    assert [m["target"] for m in client.get("/_fake/inbox").json()["messages"]] == ["b"]


def test_inbox_delete_without_token_clears_all(client: httpx.Client) -> None:
    post_send(client, message("a"))
    assert client.delete("/_fake/inbox").json() == {"cleared": 1}
    assert client.get("/_fake/inbox").json()["messages"] == []


def test_unregister_route_then_send_is_404_unregistered(client: httpx.Client) -> None:
    assert client.post(f"/_fake/tokens/{TOKEN}/unregister").json() == {"token": TOKEN, "registered": False}
    response = post_send(client)
    error = response.json()["error"]
    assert response.status_code == 404
    assert (error["status"], error["details"][0]["errorCode"]) == ("NOT_FOUND", "UNREGISTERED")


def test_register_route_undoes_unregister(client: httpx.Client) -> None:
    client.post(f"/_fake/tokens/{TOKEN}/unregister")
    assert client.post(f"/_fake/tokens/{TOKEN}/register").json() == {"token": TOKEN, "registered": True}
    assert post_send(client).status_code == 200


def test_validate_only_over_http_stores_nothing(client: httpx.Client) -> None:
    response = post_send(client, {**message(), "validate_only": True})
    assert response.json() == {"name": "projects/halo-test/messages/fake_message_id"}
    assert client.get("/_fake/inbox").json()["messages"] == []


def test_calls_record_service_requests_but_not_control_plane(client: httpx.Client) -> None:
    post_send(client)
    post_send(client, headers={})
    client.get("/_fake/inbox")
    client.get("/_fake/state")
    calls = client.get("/_fake/calls").json()["calls"]
    assert [(c["method"], c["path"], c["status"]) for c in calls] == [("POST", SEND, 200), ("POST", SEND, 401)]
    assert calls[0]["body"] == message()


def test_reset_route_clears_inbox_tokens_faults_and_calls(client: httpx.Client) -> None:
    post_send(client)
    client.post("/_fake/tokens/gone/unregister")
    client.post("/_fake/faults", json={"latency_ms": 1})
    assert client.post("/_fake/reset").json() == {"reset": True}
    state = client.get("/_fake/state").json()
    assert (state["inbox"], state["unregistered_tokens"], state["counters"]["calls"]) == ({}, [], 0)
    assert state["faults"] == {"latency_ms": 0, "fail_next": None, "fail_tokens": {}}


def test_state_route_reports_inbox_and_counters(client: httpx.Client) -> None:
    post_send(client)
    state = client.get("/_fake/state").json()
    assert list(state["inbox"]) == [TOKEN]
    assert state["counters"]["sent"] == 1


def test_faults_route_fail_next_then_recovers(client: httpx.Client) -> None:
    faults = client.post("/_fake/faults", json={"fail_next": {"count": 1, "error": "UNAVAILABLE"}}).json()
    assert faults["fail_next"] == {"count": 1, "error": "UNAVAILABLE"}
    first, second = post_send(client), post_send(client)
    assert (first.status_code, first.json()["error"]["status"]) == (503, "UNAVAILABLE")
    assert second.status_code == 200


def test_faults_route_fail_tokens_gives_quota_exceeded(client: httpx.Client) -> None:
    client.post("/_fake/faults", json={"fail_tokens": {TOKEN: "QUOTA_EXCEEDED"}})
    response = post_send(client)
    assert (response.status_code, response.json()["error"]["details"][0]["errorCode"]) == (429, "QUOTA_EXCEEDED")


def test_faults_route_rejects_bad_spec_with_400(client: httpx.Client) -> None:
    response = client.post("/_fake/faults", json={"fail_next": {"count": 1, "error": "TEAPOT"}})
    assert response.status_code == 400
    assert "fail_next.error" in response.json()["error"]


def test_faults_route_get_and_delete(client: httpx.Client) -> None:
    client.post("/_fake/faults", json={"latency_ms": 7})
    assert client.get("/_fake/faults").json()["latency_ms"] == 7
    assert client.delete("/_fake/faults").json() == {"latency_ms": 0, "fail_next": None, "fail_tokens": {}}


def test_latency_fault_still_answers_and_is_reported_in_state(client: httpx.Client) -> None:
    client.post("/_fake/faults", json={"latency_ms": 30})
    response = post_send(client)
    assert response.status_code == 200
    assert client.get("/_fake/state").json()["faults"]["latency_ms"] == 30
