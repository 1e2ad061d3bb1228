"""Unit tests of fake FCM's rules and state: no sockets, virtual time."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fake_fcm.errors import (
    ERROR_CODES,
    FCM_ERROR_TYPE,
    FcmError,
    InvalidArgument,
    Unauthenticated,
    error_for_code,
)
from fake_fcm.models import FcmBackend
from simkit.clock import VirtualClock

AUTH = "Bearer test-token"
PROJECT = "halo-test"


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def backend(clock: VirtualClock) -> FcmBackend:
    return FcmBackend(clock=clock)


def body(**message: Any) -> dict[str, Any]:
    return {"message": {"token": "device-1", **message}}


def send(backend: FcmBackend, payload: object, auth: str | None = AUTH, project: str = PROJECT) -> dict[str, str]:
    return backend.send(project, auth, payload)


def rejection(backend: FcmBackend, payload: object, auth: str | None = AUTH, project: str = PROJECT) -> FcmError:
    with pytest.raises(FcmError) as caught:
        send(backend, payload, auth, project)
    return caught.value


def fcm_code(error: FcmError) -> str | None:
    code: str | None = error.to_body()["error"].get("details", [{}])[0].get("errorCode")
    return code


# --- error shapes -----------------------------------------------------------------

EXPECTED_SHAPES = {
    "INVALID_ARGUMENT": (400, "INVALID_ARGUMENT"),
    "THIRD_PARTY_AUTH_ERROR": (401, "UNAUTHENTICATED"),
    "SENDER_ID_MISMATCH": (403, "PERMISSION_DENIED"),
    "UNREGISTERED": (404, "NOT_FOUND"),
    "QUOTA_EXCEEDED": (429, "RESOURCE_EXHAUSTED"),
    "INTERNAL": (500, "INTERNAL"),
    "UNAVAILABLE": (503, "UNAVAILABLE"),
}


def test_every_error_code_has_a_documented_shape() -> None:
    assert set(ERROR_CODES) == set(EXPECTED_SHAPES)


@pytest.mark.parametrize("code", sorted(EXPECTED_SHAPES))
def test_error_body_is_google_rpc_status_with_fcm_error_detail(code: str) -> None:
    http_status, status = EXPECTED_SHAPES[code]
    error = error_for_code(code, "boom")
    assert error.http_status == http_status
    assert error.to_body() == {
        "error": {
            "code": http_status,
            "message": "boom",
            "status": status,
            "details": [{"@type": FCM_ERROR_TYPE, "errorCode": code}],
        }
    }


def test_error_for_unknown_code_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown FCM errorCode 'NOPE'"):
        error_for_code("NOPE")


def test_invalid_argument_with_field_adds_bad_request_violation() -> None:
    details = InvalidArgument("bad data", "message.data").to_body()["error"]["details"]
    assert details[1] == {
        "@type": "type.googleapis.com/google.rpc.BadRequest",
        "fieldViolations": [{"field": "message.data", "description": "bad data"}],
    }


def test_unauthenticated_carries_no_fcm_error_code() -> None:
    error = Unauthenticated(missing=True).to_body()["error"]
    assert (error["code"], error["status"]) == (401, "UNAUTHENTICATED")
    assert error["message"].startswith("Request is missing required authentication credential.")
    assert [d["@type"] for d in error["details"]] == ["type.googleapis.com/google.rpc.ErrorInfo"]


# --- authentication and project ------------------------------------------------------


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpwdw==", "test-token"])
def test_missing_or_malformed_bearer_is_unauthenticated(backend: FcmBackend, header: str | None) -> None:
    error = rejection(backend, body(), auth=header)
    assert (error.http_status, error.status, error.error_code) == (401, "UNAUTHENTICATED", None)


def test_any_non_empty_bearer_is_accepted_when_none_expected(backend: FcmBackend) -> None:
    assert send(backend, body(), auth="bearer whatever")["name"].startswith(f"projects/{PROJECT}/messages/")


def test_expected_bearer_rejects_a_different_one(backend: FcmBackend) -> None:
    backend.expected_bearer = "right"
    error = rejection(backend, body(), auth="Bearer wrong")
    assert (error.http_status, error.status, error.error_code) == (401, "UNAUTHENTICATED", None)
    assert error.message.startswith("Request had invalid authentication credentials.")


def test_expected_bearer_accepts_itself(backend: FcmBackend) -> None:
    backend.expected_bearer = "right"
    assert "name" in send(backend, body(), auth="Bearer right")


def test_other_project_is_sender_id_mismatch_when_project_restricted(clock: VirtualClock) -> None:
    backend = FcmBackend(project_id="mine", clock=clock)
    error = rejection(backend, body(), project="theirs")
    assert (error.http_status, error.status, fcm_code(error)) == (403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH")


def test_any_project_is_served_when_unrestricted(backend: FcmBackend) -> None:
    assert send(backend, body(), project="other")["name"].startswith("projects/other/messages/")


def test_authentication_is_checked_before_the_body(backend: FcmBackend) -> None:
    error = rejection(backend, "not an object", auth=None)
    assert (error.http_status, error.status, error.error_code) == (401, "UNAUTHENTICATED", None)


# --- body validation -------------------------------------------------------------------


def invalid(backend: FcmBackend, payload: object) -> FcmError:
    error = rejection(backend, payload)
    assert (error.http_status, error.status, fcm_code(error)) == (400, "INVALID_ARGUMENT", "INVALID_ARGUMENT")
    return error


@pytest.mark.parametrize("payload", [None, [], "x", 3])
def test_body_must_be_an_object(backend: FcmBackend, payload: object) -> None:
    invalid(backend, payload)


def test_body_must_have_a_message(backend: FcmBackend) -> None:
    assert "message" in invalid(backend, {"validate_only": True}).message


def test_message_must_be_an_object(backend: FcmBackend) -> None:
    invalid(backend, {"message": "hello"})


def test_unknown_body_field_is_rejected(backend: FcmBackend) -> None:
    assert 'Unknown name "dry_run"' in invalid(backend, {**body(), "dry_run": True}).message


def test_unknown_message_field_is_rejected(backend: FcmBackend) -> None:
    assert 'Unknown name "tokens"' in invalid(backend, body(tokens=["a"])).message


def test_message_without_target_is_rejected(backend: FcmBackend) -> None:
    assert invalid(backend, {"message": {"data": {}}}).message == "Recipient of the message is not set."


@pytest.mark.parametrize("second", ["fid", "topic", "condition"])
def test_message_with_two_targets_is_rejected(backend: FcmBackend, second: str) -> None:
    assert "Oneof field 'target'" in invalid(backend, body(**{second: "x"})).message


@pytest.mark.parametrize("target", ["token", "fid", "topic", "condition"])
def test_each_target_kind_alone_is_accepted(backend: FcmBackend, target: str) -> None:
    assert "name" in send(backend, {"message": {target: "news"}})


@pytest.mark.parametrize("value", ["", 42, None])
def test_target_must_be_a_non_empty_string(backend: FcmBackend, value: object) -> None:
    invalid(backend, {"message": {"token": value}})


def test_topic_name_must_use_allowed_characters(backend: FcmBackend) -> None:
    invalid(backend, {"message": {"topic": "/topics/news"}})


@pytest.mark.parametrize("data", [{"n": 1}, {"flag": True}, {"nested": {"a": "b"}}, {"none": None}])
def test_data_values_must_be_strings(backend: FcmBackend, data: dict[str, Any]) -> None:
    error = invalid(backend, body(data=data))
    assert error.details()[1]["fieldViolations"][0]["field"] == f"message.data[{next(iter(data))}].value"


def test_data_must_be_an_object(backend: FcmBackend) -> None:
    invalid(backend, body(data=["a"]))


@pytest.mark.parametrize("key", ["from", "message_type", "google.sent_time", "gcm_x"])
def test_reserved_data_keys_are_rejected(backend: FcmBackend, key: str) -> None:
    assert f"Invalid data payload key: {key}" == invalid(backend, body(data={key: "v"})).message


def test_string_data_is_accepted(backend: FcmBackend) -> None:
    assert "name" in send(backend, body(data={"type": "chat_message", "session_id": "42"}))


def test_notification_fields_must_be_strings(backend: FcmBackend) -> None:
    invalid(backend, body(notification={"title": 1}))


def test_notification_rejects_unknown_fields(backend: FcmBackend) -> None:
    invalid(backend, body(notification={"title": "t", "sound": "default"}))


def test_notification_with_title_body_image_is_accepted(backend: FcmBackend) -> None:
    notification = {"title": "Bestie", "body": "Halo!", "image": "https://example.test/a.png"}
    assert "name" in send(backend, body(notification=notification))


@pytest.mark.parametrize("priority", ["normal", "high", "HIGH"])
def test_android_priority_normal_or_high_is_accepted(backend: FcmBackend, priority: str) -> None:
    assert "name" in send(backend, body(android={"priority": priority}))


def test_android_priority_other_is_rejected(backend: FcmBackend) -> None:
    assert "message.android.priority" in invalid(backend, body(android={"priority": "urgent"})).message


@pytest.mark.parametrize("ttl", ["3600s", "0s", "3.5s", "1.000000001s"])
def test_android_ttl_duration_is_accepted(backend: FcmBackend, ttl: str) -> None:
    assert "name" in send(backend, body(android={"ttl": ttl}))


@pytest.mark.parametrize("ttl", ["3600", "1h", "-1s", 3600, "1.0000000001s"])
def test_android_ttl_not_a_duration_is_rejected(backend: FcmBackend, ttl: object) -> None:
    assert "message.android.ttl" in invalid(backend, body(android={"ttl": ttl})).message


def test_android_data_values_must_be_strings(backend: FcmBackend) -> None:
    invalid(backend, body(android={"data": {"n": 2}}))


def test_message_of_exactly_4096_bytes_is_accepted(backend: FcmBackend) -> None:
    data = {"k": ""}
    message: dict[str, Any] = {"token": "device-1", "data": data}
    data["k"] = "x" * (4096 - len(json.dumps(message, separators=(",", ":"))))
    assert "name" in send(backend, {"message": message})


def test_message_over_4096_bytes_is_too_big(backend: FcmBackend) -> None:
    assert invalid(backend, body(data={"k": "x" * 4096})).message.startswith("Message is too big")


def test_message_size_counts_utf8_bytes_not_characters(backend: FcmBackend) -> None:
    invalid(backend, body(data={"k": "é" * 2100}))


def test_validate_only_must_be_boolean(backend: FcmBackend) -> None:
    invalid(backend, {**body(), "validate_only": "yes"})


def test_malformed_json_is_invalid_argument(backend: FcmBackend) -> None:
    with pytest.raises(InvalidArgument, match="Invalid JSON payload received"):
        backend.send_json(PROJECT, AUTH, b"{not json")


def test_malformed_json_without_bearer_is_unauthenticated_first(backend: FcmBackend) -> None:
    with pytest.raises(Unauthenticated):
        backend.send_json(PROJECT, None, b"{not json")


# --- delivery, inbox and names ----------------------------------------------------------


def test_success_answers_name_and_stores_message_in_token_inbox(backend: FcmBackend, clock: VirtualClock) -> None:
    payload = body(notification={"title": "Hi"}, data={"a": "b"})
    name = send(backend, payload)["name"]
    assert backend.inbox("device-1") == [
        {
            "name": name,
            "project": PROJECT,
            "target": "device-1",
            "kind": "token",
            "message": payload["message"],
            "received_at": clock.now(),
            "seq": 1,
            "received_at_iso": "2026-01-01T00:00:00.000Z",
        }
    ]


def test_names_are_deterministic_and_increasing(clock: VirtualClock) -> None:
    def three_names() -> list[str]:
        backend = FcmBackend(clock=clock)
        return [send(backend, body())["name"] for _ in range(3)]

    names = three_names()
    assert names == three_names()  # same sends, same names: runs are reproducible
    assert names == sorted(names) and len(set(names)) == 3


def test_received_time_comes_from_the_injected_clock(backend: FcmBackend, clock: VirtualClock) -> None:
    send(backend, body())
    clock.advance(90)
    send(backend, body())
    assert [m["received_at"] for m in backend.inbox()] == [clock.now() - 90, clock.now()]


def test_inbox_per_token_keeps_arrival_order(backend: FcmBackend) -> None:
    for text, token in [("1", "a"), ("2", "b"), ("3", "a")]:
        send(backend, {"message": {"token": token, "data": {"n": text}}})
    assert [m["message"]["data"]["n"] for m in backend.inbox("a")] == ["1", "3"]
    assert [m["message"]["data"]["n"] for m in backend.inbox()] == ["1", "2", "3"]


@pytest.mark.parametrize(
    ("field", "key"), [("fid", "inst-1"), ("topic", "topic:news"), ("condition", "condition:'a' in topics")]
)
def test_inbox_keys_fid_topic_and_condition(backend: FcmBackend, field: str, key: str) -> None:
    send(backend, {"message": {field: key.split(":", 1)[-1]}})
    assert [m["target"] for m in backend.inbox(key)] == [key]


def test_stored_message_is_a_copy_of_the_request(backend: FcmBackend) -> None:
    payload = body(data={"a": "b"})
    send(backend, payload)
    payload["message"]["data"]["a"] = "changed"
    assert backend.inbox("device-1")[0]["message"]["data"] == {"a": "b"}


def test_clear_inbox_for_one_target_keeps_the_others(backend: FcmBackend) -> None:
    send(backend, {"message": {"token": "a"}})
    send(backend, {"message": {"token": "b"}})
    assert backend.clear_inbox("a") == 1
    assert [m["target"] for m in backend.inbox()] == ["b"]


def test_clear_inbox_without_target_empties_all(backend: FcmBackend) -> None:
    send(backend, {"message": {"token": "a"}})
    send(backend, {"message": {"topic": "news"}})
    assert backend.clear_inbox() == 2
    assert backend.inbox() == []


def test_validate_only_answers_fake_name_and_stores_nothing(backend: FcmBackend) -> None:
    result = send(backend, {**body(), "validate_only": True})
    assert result == {"name": f"projects/{PROJECT}/messages/fake_message_id"}
    assert backend.inbox() == []
    assert backend.state()["counters"]["validate_only"] == 1


def test_validate_only_still_validates(backend: FcmBackend) -> None:
    invalid(backend, {"message": {"token": "t", "data": {"n": 1}}, "validate_only": True})


def test_invalid_request_stores_nothing(backend: FcmBackend) -> None:
    rejection(backend, body(data={"n": 1}))
    assert backend.inbox() == []


# --- tokens --------------------------------------------------------------------------------


def test_unregistered_token_is_not_found_unregistered(backend: FcmBackend) -> None:
    backend.unregister("device-1")
    error = rejection(backend, body())
    assert (error.http_status, error.status, fcm_code(error)) == (404, "NOT_FOUND", "UNREGISTERED")
    assert backend.inbox() == []


def test_unregistered_token_fails_even_validate_only(backend: FcmBackend) -> None:
    backend.unregister("device-1")
    assert rejection(backend, {**body(), "validate_only": True}).error_code == "UNREGISTERED"


def test_unregistered_fid_is_unregistered(backend: FcmBackend) -> None:
    backend.unregister("inst-1")
    assert rejection(backend, {"message": {"fid": "inst-1"}}).error_code == "UNREGISTERED"


def test_register_undoes_unregister(backend: FcmBackend) -> None:
    backend.unregister("device-1")
    backend.register("device-1")
    assert "name" in send(backend, body())


def test_strict_tokens_rejects_unknown_and_accepts_registered(clock: VirtualClock) -> None:
    backend = FcmBackend(strict_tokens=True, clock=clock)
    assert rejection(backend, body()).error_code == "UNREGISTERED"
    backend.register("device-1")
    assert "name" in send(backend, body())


def test_strict_tokens_does_not_apply_to_topics(clock: VirtualClock) -> None:
    assert "name" in send(FcmBackend(strict_tokens=True, clock=clock), {"message": {"topic": "news"}})


# --- faults ---------------------------------------------------------------------------------


def test_fail_next_fails_exactly_count_sends_then_recovers(backend: FcmBackend) -> None:
    backend.set_faults({"fail_next": {"count": 2, "error": "QUOTA_EXCEEDED"}})
    errors = [rejection(backend, body()) for _ in range(2)]
    assert [(e.http_status, e.error_code) for e in errors] == [(429, "QUOTA_EXCEEDED")] * 2
    assert "name" in send(backend, body())
    assert backend.faults()["fail_next"] is None


def test_fail_next_counts_down_in_faults(backend: FcmBackend) -> None:
    backend.set_faults({"fail_next": {"count": 3, "error": "INTERNAL"}})
    rejection(backend, body())
    assert backend.faults()["fail_next"] == {"count": 2, "error": "INTERNAL"}


def test_fail_next_defaults_to_unavailable(backend: FcmBackend) -> None:
    backend.set_faults({"fail_next": {"count": 1}})
    assert rejection(backend, body()).http_status == 503


def test_fail_next_with_zero_count_is_no_fault(backend: FcmBackend) -> None:
    assert backend.set_faults({"fail_next": {"count": 0}})["fail_next"] is None


def test_fail_next_does_not_consume_on_unauthenticated_requests(backend: FcmBackend) -> None:
    backend.set_faults({"fail_next": {"count": 1, "error": "INTERNAL"}})
    rejection(backend, body(), auth=None)
    assert backend.faults()["fail_next"] == {"count": 1, "error": "INTERNAL"}


def test_fail_tokens_always_fail_for_those_tokens_only(backend: FcmBackend) -> None:
    backend.set_faults({"fail_tokens": {"device-1": "THIRD_PARTY_AUTH_ERROR"}})
    codes = [rejection(backend, body()).error_code for _ in range(2)]
    assert codes == ["THIRD_PARTY_AUTH_ERROR"] * 2
    assert "name" in send(backend, {"message": {"token": "device-2"}})


def test_fail_tokens_merge_across_calls(backend: FcmBackend) -> None:
    backend.set_faults({"fail_tokens": {"a": "INTERNAL"}})
    assert backend.set_faults({"fail_tokens": {"b": "UNREGISTERED"}})["fail_tokens"] == {
        "a": "INTERNAL",
        "b": "UNREGISTERED",
    }


def test_set_faults_merges_keys_and_keeps_others(backend: FcmBackend) -> None:
    backend.set_faults({"latency_ms": 250})
    faults = backend.set_faults({"fail_next": {"count": 1, "error": "INTERNAL"}})
    assert faults == {"latency_ms": 250, "fail_next": {"count": 1, "error": "INTERNAL"}, "fail_tokens": {}}
    assert backend.latency_seconds() == 0.25


def test_clear_faults_restores_good_behaviour(backend: FcmBackend) -> None:
    backend.set_faults({"latency_ms": 5, "fail_next": {"count": 1}, "fail_tokens": {"device-1": "INTERNAL"}})
    backend.clear_faults()
    assert backend.faults() == {"latency_ms": 0, "fail_next": None, "fail_tokens": {}}
    assert "name" in send(backend, body())


@pytest.mark.parametrize(
    ("spec", "mentions"),
    [
        ({"latency": 5}, "latency"),
        ({"latency_ms": -1}, "latency_ms"),
        ({"latency_ms": "100"}, "latency_ms"),
        ({"fail_next": {"count": 1, "error": "TEAPOT"}}, "fail_next.error"),
        ({"fail_next": {"error": "INTERNAL"}}, "fail_next.count"),
        ({"fail_next": {"count": -2}}, "fail_next.count"),
        ({"fail_tokens": {"t": "NOPE"}}, "fail_tokens.t"),
        ({"fail_tokens": ["t"]}, "fail_tokens"),
    ],
)
def test_bad_fault_spec_is_rejected_with_clear_message(
    backend: FcmBackend, spec: dict[str, Any], mentions: str
) -> None:
    with pytest.raises(ValueError, match="invalid FCM fault spec") as caught:
        backend.set_faults(spec)
    assert mentions in str(caught.value)


def test_bad_fault_spec_changes_nothing(backend: FcmBackend) -> None:
    backend.set_faults({"latency_ms": 10})
    with pytest.raises(ValueError):
        backend.set_faults({"latency_ms": 20, "fail_next": {"count": "x"}})
    assert backend.faults()["latency_ms"] == 10


# --- state and reset ---------------------------------------------------------------------------


def test_state_is_json_serialisable_and_complete(backend: FcmBackend) -> None:
    send(backend, body())
    backend.unregister("gone")
    backend.set_faults({"latency_ms": 1})
    rejection(backend, {"message": {"token": "gone"}})
    state = json.loads(json.dumps(backend.state()))
    assert list(state["inbox"]) == ["device-1"]
    assert state["unregistered_tokens"] == ["gone"]
    assert state["faults"]["latency_ms"] == 1
    assert state["counters"] == {"sent": 1, "validate_only": 0, "errors": {"UNREGISTERED": 1}, "calls": 0}


def test_reset_clears_everything_but_configuration(clock: VirtualClock) -> None:
    backend = FcmBackend(project_id=PROJECT, expected_bearer="test-token", strict_tokens=True, clock=clock)
    backend.register("device-1")
    first = send(backend, body())["name"]
    backend.unregister("other")
    backend.set_faults({"latency_ms": 3, "fail_tokens": {"x": "INTERNAL"}})
    backend.reset()
    state = backend.state()
    assert state["inbox"] == {} and state["unregistered_tokens"] == [] and state["registered_tokens"] == []
    assert state["faults"] == {"latency_ms": 0, "fail_next": None, "fail_tokens": {}}
    assert state["counters"] == {"sent": 0, "validate_only": 0, "errors": {}, "calls": 0}
    assert state["config"] == {"project_id": PROJECT, "bearer_required": True, "strict_tokens": True}
    backend.register("device-1")
    assert send(backend, body())["name"] == first  # the id counter restarts: runs are reproducible


def test_now_reads_the_injected_clock(backend: FcmBackend, clock: VirtualClock) -> None:
    clock.advance(5)
    assert backend.now() == clock.now()
