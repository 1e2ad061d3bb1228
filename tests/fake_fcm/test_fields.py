"""Both proto3 JSON spellings of FCM's field names: camelCase (the Node SDK's) and snake_case."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from fake_fcm.errors import FcmError, InvalidArgument
from fake_fcm.fields import MESSAGE, REQUEST, Fields, json_name, to_proto_names
from fake_fcm.models import FcmBackend
from simkit.clock import VirtualClock

AUTH = "Bearer test-token"


@pytest.fixture
def backend() -> FcmBackend:
    return FcmBackend(clock=VirtualClock())


def send(backend: FcmBackend, body: dict[str, Any]) -> dict[str, Any]:
    """Send ``body`` and answer the message as it landed in the inbox."""
    backend.send("halo-test", AUTH, body)
    stored: dict[str, Any] = backend.inbox()[-1]["message"]
    return stored


def refusal(backend: FcmBackend, body: dict[str, Any]) -> InvalidArgument:
    with pytest.raises(FcmError) as caught:
        backend.send("halo-test", AUTH, body)
    assert isinstance(caught.value, InvalidArgument)
    return caught.value


def field_of(error: InvalidArgument) -> str:
    bad_request = [d for d in error.to_body()["error"]["details"] if "fieldViolations" in d]
    field: str = bad_request[0]["fieldViolations"][0]["field"]
    return field


def camel_tree(fields: Fields) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every field of ``fields`` set, once with JSON names and once with proto names (leaves: their path)."""
    camel: dict[str, Any] = {}
    snake: dict[str, Any] = {}
    for name, inner in fields.items():
        if inner is None:
            camel[json_name(name)] = snake[name] = name
        else:
            camel[json_name(name)], snake[name] = camel_tree(inner)
    return camel, snake


def messages(fields: Fields, path: str = "message") -> Iterator[tuple[str, Fields]]:
    yield path, fields
    for name, inner in fields.items():
        if inner is not None:
            yield from messages(inner, f"{path}.{name}")


def test_json_names_are_lower_camel_case() -> None:
    assert json_name("fcm_options") == "fcmOptions"
    assert json_name("default_vibrate_timings") == "defaultVibrateTimings"
    assert json_name("token") == "token"


def test_every_known_field_is_accepted_in_json_spelling_and_becomes_its_proto_name() -> None:
    camel, snake = camel_tree(MESSAGE)
    assert camel != snake  # the tree really has names that differ between spellings
    assert to_proto_names(camel, MESSAGE, "message") == snake
    assert to_proto_names(snake, MESSAGE, "message") == snake


@pytest.mark.parametrize(("path", "fields"), list(messages(MESSAGE)), ids=lambda v: v if isinstance(v, str) else "")
def test_unknown_names_are_refused_at_every_level_in_either_spelling(path: str, fields: Fields) -> None:
    for unknown in ("not_a_field", "notAField"):
        camel, _ = camel_tree(MESSAGE)
        level = camel
        for step in path.split(".")[1:]:
            level = level[json_name(step)]
        level[unknown] = "x"
        with pytest.raises(InvalidArgument) as caught:
            to_proto_names(camel, MESSAGE, "message")
        assert f'Unknown name "{unknown}"' in caught.value.message
        assert field_of(caught.value) == f"{path}.{unknown}"


def test_the_node_sdks_camel_case_message_is_accepted_and_stored_in_snake_case(backend: FcmBackend) -> None:
    stored = send(
        backend,
        {
            "validateOnly": False,
            "message": {
                "token": "device-1",
                "data": {"chatId": "c-1"},
                "fcmOptions": {"analyticsLabel": "chat"},
                "android": {
                    "collapseKey": "chat",
                    "priority": "high",
                    "fcmOptions": {"analyticsLabel": "a"},
                    "notification": {"channelId": "chat", "notificationCount": 2, "clickAction": "OPEN"},
                },
                "apns": {"fcmOptions": {"analyticsLabel": "i"}, "payload": {"aps": {"content-available": 1}}},
                "webpush": {"fcmOptions": {"link": "https://h"}, "notification": {"requireInteraction": True}},
            },
        },
    )
    assert stored["fcm_options"] == {"analytics_label": "chat"}
    assert stored["android"]["collapse_key"] == "chat"
    assert stored["android"]["notification"] == {"channel_id": "chat", "notification_count": 2, "click_action": "OPEN"}
    assert stored["apns"]["fcm_options"] == {"analytics_label": "i"}
    assert stored["data"] == {"chatId": "c-1"}  # a map: the sender's keys, never renamed
    assert stored["apns"]["payload"] == {"aps": {"content-available": 1}}  # a Struct: APNs' own names
    assert stored["webpush"]["notification"] == {"requireInteraction": True}


def test_validate_only_in_json_spelling_is_honoured(backend: FcmBackend) -> None:
    answer = backend.send("halo-test", AUTH, {"validateOnly": True, "message": {"token": "device-1"}})
    assert answer["name"].endswith("/fake_message_id") and backend.inbox() == []


def test_rules_apply_to_camel_case_names_too(backend: FcmBackend) -> None:
    error = refusal(backend, {"message": {"token": "device-1", "android": {"collapseKey": 7}}})
    assert field_of(error) == "message.android.collapse_key"


def test_a_field_sent_under_both_names_is_refused(backend: FcmBackend) -> None:
    error = refusal(backend, {"message": {"token": "d", "fcm_options": {}, "fcmOptions": {}}})
    assert field_of(error) == "message.fcmOptions" and "set twice" in error.message


def test_a_known_message_field_that_is_not_an_object_is_refused(backend: FcmBackend) -> None:
    error = refusal(backend, {"message": {"token": "d", "fcmOptions": "chat"}})
    assert field_of(error) == "message.fcm_options" and "Expected an object" in error.message


def test_the_request_level_knows_exactly_message_and_validate_only() -> None:
    assert set(REQUEST) == {"message", "validate_only"}
