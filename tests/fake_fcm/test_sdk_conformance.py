"""The official firebase-admin SDK, pointed at fake FCM, sees the answers it expects.

firebase-admin has no FCM emulator switch: its send URL is the class attribute
``messaging._MessagingService.FCM_URL`` (a ``{0}`` template for the project),
read when an app's messaging service is first built, so each test patches it
and builds a fresh app.  The credential hands out a fixed bearer, which the
fake is configured to require.
"""

from __future__ import annotations

import asyncio
import datetime
import itertools
from collections.abc import Iterator
from typing import Any

import firebase_admin
import google.auth.credentials
import pytest
from firebase_admin import credentials, exceptions, messaging

from fake_fcm.models import FcmBackend
from fake_fcm.routes import create_app
from simkit.server import ServerThread

PROJECT = "halo-test"
BEARER = "fixed-access-token"
_app_names = itertools.count()


class FixedToken(google.auth.credentials.Credentials):
    """A Google credential whose refresh always yields the same bearer: no OAuth server needed."""

    def __init__(self, token: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._fixed = token
        self.token = token

    def refresh(self, request: Any) -> None:
        self.token = self._fixed


class FixedTokenCredential(credentials.Base):  # type: ignore[misc]
    """The firebase-admin side of :class:`FixedToken`."""

    def __init__(self, token: str) -> None:
        self._credential = FixedToken(token)

    def get_credential(self) -> FixedToken:
        return self._credential


@pytest.fixture(scope="module")
def backend() -> FcmBackend:
    return FcmBackend(project_id=PROJECT, expected_bearer=BEARER)


@pytest.fixture(scope="module")
def server(backend: FcmBackend) -> Iterator[ServerThread]:
    with ServerThread(create_app(backend), name="fake-fcm-sdk") as running:
        yield running


@pytest.fixture
def make_app(server: ServerThread, backend: FcmBackend, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Build firebase apps aimed at the fake; every one is deleted after the test."""
    backend.reset()
    monkeypatch.setattr(messaging._MessagingService, "FCM_URL", f"{server.url}/v1/projects/{{0}}/messages:send")
    apps: list[firebase_admin.App] = []

    def make(project: str = PROJECT, bearer: str = BEARER) -> firebase_admin.App:
        app = firebase_admin.initialize_app(
            FixedTokenCredential(bearer), {"projectId": project}, name=f"fake-fcm-{next(_app_names)}"
        )
        apps.append(app)
        return app

    yield make
    for app in apps:
        firebase_admin.delete_app(app)


async def send_each_and_close(messages: list[messaging.Message], app: firebase_admin.App) -> Any:
    """``send_each_async``, closing the SDK's httpx client on this loop: its own close runs on a new loop and fails."""
    try:
        return await messaging.send_each_async(messages, dry_run=False, app=app)
    finally:
        await messaging._get_messaging_service(app)._async_client.aclose()


@pytest.fixture
def app(make_app: Any) -> firebase_admin.App:
    made: firebase_admin.App = make_app()
    return made


def test_send_to_fid_returns_name_and_lands_in_inbox(app: firebase_admin.App, backend: FcmBackend) -> None:
    msg = messaging.Message(
        fid="inst-1",
        notification=messaging.Notification(title="Bestie", body="Halo!"),
        data={"type": "chat_message", "session_id": "42"},
    )
    name = messaging.send(msg, app=app)
    [stored] = backend.inbox("inst-1")
    assert name == stored["name"] == f"projects/{PROJECT}/messages/0000000000000001"
    assert stored["kind"] == "fid"
    assert stored["message"]["notification"] == {"title": "Bestie", "body": "Halo!"}
    assert stored["message"]["data"] == {"type": "chat_message", "session_id": "42"}


def test_send_to_deprecated_token_still_works(app: firebase_admin.App, backend: FcmBackend) -> None:
    with pytest.warns(DeprecationWarning, match="Message.token is deprecated"):
        msg = messaging.Message(token="device-1", data={"k": "v"})
    assert messaging.send(msg, app=app) == backend.inbox("device-1")[0]["name"]
    assert backend.inbox("device-1")[0]["kind"] == "token"


def test_android_config_as_encoded_by_sdk_is_accepted(app: firebase_admin.App, backend: FcmBackend) -> None:
    android = messaging.AndroidConfig(
        priority="high", ttl=datetime.timedelta(hours=1), collapse_key="chat", data={"x": "y"}
    )
    messaging.send(messaging.Message(fid="inst-1", android=android), app=app)
    assert backend.inbox("inst-1")[0]["message"]["android"] == {
        "priority": "high",
        "ttl": "3600s",
        "collapse_key": "chat",
        "data": {"x": "y"},
    }


def test_topic_and_condition_messages_are_accepted(app: firebase_admin.App, backend: FcmBackend) -> None:
    messaging.send(messaging.Message(topic="/topics/news"), app=app)
    messaging.send(messaging.Message(condition="'news' in topics"), app=app)
    assert [m["target"] for m in backend.inbox()] == ["topic:news", "condition:'news' in topics"]


def test_unregistered_fid_raises_unregistered_error(app: firebase_admin.App, backend: FcmBackend) -> None:
    backend.unregister("inst-gone")
    with pytest.raises(messaging.UnregisteredError):
        messaging.send(messaging.Message(fid="inst-gone"), app=app)


def test_unregistered_token_raises_unregistered_error(app: firebase_admin.App, backend: FcmBackend) -> None:
    backend.unregister("device-gone")
    with pytest.warns(DeprecationWarning), pytest.raises(messaging.UnregisteredError) as caught:
        messaging.send(messaging.Message(token="device-gone"), app=app)
    assert caught.value.http_response.status_code == 404


def test_dry_run_returns_fake_name_and_stores_nothing(app: firebase_admin.App, backend: FcmBackend) -> None:
    name = messaging.send(messaging.Message(fid="inst-1", data={"k": "v"}), dry_run=True, app=app)
    assert name == f"projects/{PROJECT}/messages/fake_message_id"
    assert backend.inbox() == []


def test_dry_run_to_unregistered_fid_still_raises(app: firebase_admin.App, backend: FcmBackend) -> None:
    backend.unregister("inst-gone")
    with pytest.raises(messaging.UnregisteredError):
        messaging.send(messaging.Message(fid="inst-gone"), dry_run=True, app=app)


def test_sdk_retries_one_unavailable_and_delivers(app: firebase_admin.App, backend: FcmBackend) -> None:
    backend.set_faults({"fail_next": {"count": 1, "error": "UNAVAILABLE"}})
    name = messaging.send(messaging.Message(fid="inst-1"), app=app)
    counters = backend.state()["counters"]  # set before answering, unlike calls (recorded after)
    assert (counters["errors"], counters["sent"]) == ({"UNAVAILABLE": 1}, 1)
    assert backend.inbox("inst-1")[0]["name"] == name


def test_quota_exceeded_raises_quota_exceeded_error(app: firebase_admin.App, backend: FcmBackend) -> None:
    backend.set_faults({"fail_next": {"count": 1, "error": "QUOTA_EXCEEDED"}})
    with pytest.raises(messaging.QuotaExceededError):
        messaging.send(messaging.Message(fid="inst-1"), app=app)


def test_failing_token_with_third_party_auth_error(app: firebase_admin.App, backend: FcmBackend) -> None:
    backend.set_faults({"fail_tokens": {"inst-ios": "THIRD_PARTY_AUTH_ERROR"}})
    with pytest.raises(messaging.ThirdPartyAuthError):
        messaging.send(messaging.Message(fid="inst-ios"), app=app)


def test_other_project_raises_sender_id_mismatch(make_app: Any) -> None:
    with pytest.raises(messaging.SenderIdMismatchError):
        messaging.send(messaging.Message(fid="inst-1"), app=make_app(project="someone-else"))


def test_wrong_bearer_raises_unauthenticated(make_app: Any, backend: FcmBackend) -> None:
    with pytest.raises(exceptions.UnauthenticatedError):
        messaging.send(messaging.Message(fid="inst-1"), app=make_app(bearer="stolen"))
    assert backend.inbox() == []


def test_oversized_message_raises_invalid_argument(app: firebase_admin.App) -> None:
    with pytest.raises(exceptions.InvalidArgumentError, match="Message is too big"):
        messaging.send(messaging.Message(fid="inst-1", data={"blob": "x" * 5000}), app=app)


def test_send_each_for_multicast_reports_per_fid_outcome(app: firebase_admin.App, backend: FcmBackend) -> None:
    backend.unregister("inst-gone")
    batch = messaging.send_each_for_multicast(messaging.MulticastMessage(fids=["a", "inst-gone", "b"]), app=app)
    assert [r.success for r in batch.responses] == [True, False, True]
    assert isinstance(batch.responses[1].exception, messaging.UnregisteredError)
    assert sorted(m["target"] for m in backend.inbox()) == ["a", "b"]


def test_send_each_async_over_httpx_reports_per_message_outcome(app: firebase_admin.App, backend: FcmBackend) -> None:
    backend.unregister("inst-gone")
    messages = [messaging.Message(fid="a"), messaging.Message(fid="inst-gone")]
    batch = asyncio.run(send_each_and_close(messages, app))
    assert batch.success_count == 1
    assert isinstance(batch.responses[1].exception, messaging.UnregisteredError)
