"""The diagram's model: who talks to whom, in time order, with virtual times and the failed step."""

from __future__ import annotations

from typing import Any

from halo_sim.report.sequence import HARNESS, Message, sequence, server_of


def arrows(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(m.source, m.target, m.label) for m in sequence(report).messages]


def test_lanes_are_the_harness_the_apps_then_the_backend_and_the_fakes(conversation: dict[str, Any]) -> None:
    lanes = [lane.label for lane in sequence(conversation).lanes]
    assert lanes == [HARNESS, "customer", "mitra", "backend", "fake Xendit", "fake FCM"]


def test_every_event_is_an_arrow_in_time_order(conversation: dict[str, Any]) -> None:
    seq = sequence(conversation)
    times = [m.t for m in seq.messages]
    assert times == sorted(times)
    assert arrows(conversation)[:4] == [
        ("customer", "backend", "WS open (hello)"),
        ("customer", "backend", "POST /api/customer/payments"),
        ("backend", "customer", "WS pairing_searching"),  # arrived while the call was under way
        ("backend", "customer", "201 status=pending"),
    ]
    assert [m.index for m in seq.messages] == list(range(len(seq.messages)))


def test_hooks_and_fake_control_calls_are_the_harness_s(conversation: dict[str, Any]) -> None:
    drawn = arrows(conversation)
    assert (HARNESS, "backend", "POST /internal/_test/clock") in drawn
    assert (HARNESS, "xendit", "GET /_fake/callbacks") in drawn
    assert ("fcm", HARNESS, "200 ") not in drawn and (HARNESS, "fcm", "GET /_fake/inbox") in drawn


def test_a_push_read_twice_is_drawn_once_backend_to_fcm_to_the_app(conversation: dict[str, Any]) -> None:
    pushes = [(s, t) for s, t, label in arrows(conversation) if label == "push chat_message"]
    assert pushes == [("backend", "fcm"), ("fcm", "customer")]


def test_a_xendit_callback_is_drawn_from_the_fake_to_the_backend(conversation: dict[str, Any]) -> None:
    assert ("xendit", "backend", "callback PAID → delivered") in arrows(conversation)


def test_frames_of_one_kind_in_a_burst_are_one_arrow_with_a_count(conversation: dict[str, Any]) -> None:
    ticks = [m for m in sequence(conversation).messages if m.label == "WS session_tick"]
    assert len(ticks) == 1 and ticks[0].count == 3 and ticks[0].payload["count"] == 3


def test_virtual_time_moves_with_the_clock_hook_answer_only(conversation: dict[str, Any]) -> None:
    seq = sequence(conversation)
    before = next(m for m in seq.messages if m.label == "POST /internal/_test/clock")
    after = next(m for m in seq.messages if m.label == "WS session_tick")
    assert before.virtual == conversation["virtual_start"]
    assert after.virtual == conversation["virtual_start"] + 840


def test_no_virtual_clock_means_no_virtual_times(conversation: dict[str, Any]) -> None:
    conversation["virtual_start"] = None
    conversation["transcript"] = [e for e in conversation["transcript"] if "clock" not in e.get("url", "")]
    assert {m.virtual for m in sequence(conversation).messages} == {None}


def test_each_message_belongs_to_the_step_running_then_and_the_failed_step_is_marked(
    conversation: dict[str, Any],
) -> None:
    seq = sequence(conversation)
    failed = [s for s in seq.steps if s.failed]
    assert [s.title for s in failed] == ["fcm.expect_push"] and failed[0].details == ["  ✗ no matching push"]
    in_failed = [m.label for m in seq.messages if m.step == failed[0].index]
    assert "GET /_fake/inbox" in in_failed and "push chat_message" in in_failed
    reset = next(m for m in seq.messages if m.label == "POST /internal/_test/reset-phone")
    assert reset.step is None  # after the last step: the clean-up


def test_an_answer_belongs_to_its_call_s_step_even_when_it_returns_later(conversation: dict[str, Any]) -> None:
    seq = sequence(conversation)
    answer = next(m for m in seq.messages if m.label == "201 status=pending")
    assert seq.steps[answer.step or 0].title == "customer.request_payment"


def test_a_call_without_a_recorded_actor_is_the_app_its_step_is_named_after(conversation: dict[str, Any]) -> None:
    conversation["transcript"][1]["actor"] = None
    assert ("customer", "backend", "POST /api/customer/payments") in arrows(conversation)


def test_a_report_from_before_frame_times_still_draws_its_frames_last(conversation: dict[str, Any]) -> None:
    del conversation["frame_times"]
    last: Message = sequence(conversation).messages[-1]
    assert last.t is None and last.kind == "frame"


def test_a_url_belongs_to_the_longest_matching_endpoint() -> None:
    endpoints = {"backend": "http://h:1", "xendit": "http://h:1/xendit"}
    assert server_of(endpoints, "http://h:1/xendit/v2/invoices") == ("xendit", "/v2/invoices")
    assert server_of(endpoints, "http://h:1/api/x?y=1") == ("backend", "/api/x")
    assert server_of({}, "http://elsewhere/api") == ("backend", "/api")
