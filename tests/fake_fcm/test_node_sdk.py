"""firebase-admin for Node (the client a real Halo backend uses), driven against fake FCM.

The Node side is tests/node/fcm.mjs: the recipe of docs/fakes.md (stub credential, an agent that
sends ``fcm.googleapis.com`` to the fake, the legacy HTTP/1.1 transport) plus a driver that runs
the sends given on stdin.  Every send here is written as a Node backend writes it, in camelCase.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fake_fcm.models import FcmBackend
from fake_fcm.routes import create_app
from simkit.server import ServerThread

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "halo-node"
RECIPE_BEGIN, RECIPE_END = "// --- recipe: begin\n", "// --- recipe: end\n"
Send = Callable[..., list[dict[str, Any]]]


@pytest.fixture(scope="module")
def backend() -> FcmBackend:
    return FcmBackend(project_id=PROJECT, expected_bearer="fake-fcm-token")  # the recipe's stub token


@pytest.fixture(scope="module")
def server(backend: FcmBackend) -> Iterator[ServerThread]:
    with ServerThread(create_app(backend), name="fake-fcm-node") as running:
        yield running


@pytest.fixture
def node(node_sdk: Callable[..., Any], server: ServerThread, backend: FcmBackend) -> Send:
    """Run these ops through the Node SDK against a freshly reset fake; answer one result per op."""
    backend.reset()

    def run(*ops: dict[str, Any], project: str = PROJECT) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = node_sdk("fcm.mjs", list(ops), server.url, project)
        return results

    return run


def send(message: dict[str, Any]) -> dict[str, Any]:
    return {"op": "send", "message": message}


def test_a_send_to_a_token_lands_in_its_inbox_with_the_camel_case_fields_understood(
    node: Send, backend: FcmBackend
) -> None:
    message = {
        "token": "device-1",
        "notification": {"title": "New chat", "body": "Sari wants to talk"},
        "data": {"chatId": "c-1", "type": "chat.request"},
        "fcmOptions": {"analyticsLabel": "chat_request"},
        "android": {"priority": "high", "ttl": 30_000, "collapseKey": "chat", "notification": {"channelId": "chat"}},
        "apns": {"fcmOptions": {"analyticsLabel": "ios"}, "payload": {"aps": {"contentAvailable": True}}},
    }
    [result] = node(send(message))
    assert result["ok"] and re.fullmatch(rf"projects/{PROJECT}/messages/\d{{16}}", result["name"])
    [landed] = backend.inbox("device-1")
    assert landed["name"] == result["name"] and landed["kind"] == "token"
    stored = landed["message"]
    assert stored["data"] == {"chatId": "c-1", "type": "chat.request"}
    assert stored["notification"] == {"title": "New chat", "body": "Sari wants to talk"}
    assert stored["fcm_options"] == {"analytics_label": "chat_request"}
    assert stored["android"] == {
        "priority": "high",
        "ttl": "30s",
        "collapse_key": "chat",
        "notification": {"channel_id": "chat"},
    }
    assert stored["apns"] == {"fcm_options": {"analytics_label": "ios"}, "payload": {"aps": {"content-available": 1}}}


def test_a_send_to_an_fid_lands_in_the_fid_inbox(node: Send, backend: FcmBackend) -> None:
    [result] = node(send({"fid": "fid-abc", "data": {"k": "v"}}))
    assert result["ok"]
    assert [(m["kind"], m["message"]) for m in backend.inbox("fid-abc")] == [
        ("fid", {"fid": "fid-abc", "data": {"k": "v"}})
    ]


def test_a_send_to_a_topic_lands_in_the_topic_inbox(node: Send, backend: FcmBackend) -> None:
    [result] = node(send({"topic": "promos", "notification": {"title": "Hi"}}))
    assert result["ok"] and [m["name"] for m in backend.inbox("topic:promos")] == [result["name"]]


def test_an_unregistered_token_is_the_sdks_registration_token_not_registered(node: Send, backend: FcmBackend) -> None:
    backend.unregister("gone")
    [result] = node(send({"token": "gone", "data": {"a": "b"}}))
    assert (result["ok"], result["code"]) == (False, "messaging/registration-token-not-registered")
    assert backend.inbox() == []


def test_an_unregistered_fid_is_the_sdks_installation_id_not_registered(node: Send, backend: FcmBackend) -> None:
    backend.unregister("fid-gone")
    [result] = node(send({"fid": "fid-gone"}))
    assert (result["ok"], result["code"]) == (False, "messaging/installation-id-not-registered")


def test_send_each_reports_each_message_and_only_the_good_ones_land(node: Send, backend: FcmBackend) -> None:
    backend.unregister("gone")
    [batch] = node({"op": "sendEach", "messages": [{"token": "a"}, {"token": "gone"}, {"fid": "fid-b"}]})
    assert (batch["successCount"], batch["failureCount"]) == (2, 1)
    assert [r.get("code") for r in batch["responses"]] == [None, "messaging/registration-token-not-registered", None]
    assert sorted(m["target"] for m in backend.inbox()) == ["a", "fid-b"]


def test_a_dry_run_is_validated_but_not_delivered(node: Send, backend: FcmBackend) -> None:
    [result] = node({"op": "dryRun", "message": {"token": "device-1"}})
    assert result == {"ok": True, "name": f"projects/{PROJECT}/messages/fake_message_id"}
    assert backend.inbox() == [] and backend.state()["counters"]["validate_only"] == 1


@pytest.mark.parametrize(
    ("error", "sdk_code"),
    [
        ("INVALID_ARGUMENT", "messaging/invalid-argument"),
        ("QUOTA_EXCEEDED", "messaging/message-rate-exceeded"),
        ("SENDER_ID_MISMATCH", "messaging/mismatched-credential"),
        ("THIRD_PARTY_AUTH_ERROR", "messaging/third-party-auth-error"),
        ("INTERNAL", "messaging/internal-error"),
    ],
)
def test_injected_fcm_errors_reach_the_node_sdk_as_its_own_codes(
    node: Send, backend: FcmBackend, error: str, sdk_code: str
) -> None:
    backend.set_faults({"fail_tokens": {"flaky": error}})
    [result] = node(send({"token": "flaky"}))
    assert (result["ok"], result["code"]) == (False, sdk_code)


def test_the_sdk_retries_an_unavailable_answer_and_the_retry_lands(node: Send, backend: FcmBackend) -> None:
    backend.set_faults({"fail_next": {"count": 1, "error": "UNAVAILABLE"}})
    [result] = node(send({"token": "device-1"}))
    assert result["ok"] and len(backend.inbox("device-1")) == 1
    assert backend.state()["counters"]["errors"] == {"UNAVAILABLE": 1}


def test_a_project_the_fake_does_not_serve_is_a_mismatched_credential(node: Send, backend: FcmBackend) -> None:
    [result] = node(send({"token": "device-1"}), project="someone-else")
    assert (result["ok"], result["code"]) == (False, "messaging/mismatched-credential")


def test_a_camel_case_typo_is_refused_as_real_fcm_would(node: Send, backend: FcmBackend) -> None:
    [result] = node(send({"token": "device-1", "android": {"notification": {"channelID": "chat"}}}))
    assert (result["ok"], result["code"]) == (False, "messaging/invalid-argument")
    assert 'Unknown name "channelID"' in result["message"] and backend.inbox() == []


def test_docs_show_the_recipe_exactly_as_the_tests_run_it() -> None:
    script = (ROOT / "tests" / "node" / "fcm.mjs").read_text()
    recipe = script.split(RECIPE_BEGIN, 1)[1].split(RECIPE_END, 1)[0]
    assert "enableLegacyHttpTransport()" in recipe and "getAccessToken" in recipe
    assert f"```js\n{recipe}```" in (ROOT / "docs" / "fakes.md").read_text()
