"""Frame, push and callback waits end to end on the embedded target: consumption, order, counts, messages."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from halo_sim.scenario.loader import load_scenario
from halo_sim.scenario.report import ScenarioResult
from halo_sim.scenario.runner import run_scenario
from halo_sim.targets.embedded import EmbeddedTarget, start_embedded

ACTORS = (
    "name: x\nactors:\n"
    "  customer: {role: customer, foreground: true, device: {notifications_enabled: true}}\n"
    "  mitra: {role: mitra, online: true, foreground: true}\nsteps:\n"
)
PAIRED = """\
  - customer.request_payment: {duration_minutes: 15}
    save: {payment_id: body.id}
  - test.force_confirm_payment: {payment_request_id: "{{ payment_id }}"}
  - mitra.expect_frame: {type: pairing_offer}
    save: {session_id: frame.session_id}
  - mitra.accept_offer: {session_id: "{{ session_id }}"}
"""
BACKGROUNDED = (
    PAIRED
    + """\
  - customer.expect_frame: {type: pairing_matched}
  - customer.background:
  - mitra.send_message: {session_id: "{{ session_id }}", text: satu}
  - mitra.send_message: {session_id: "{{ session_id }}", text: dua}
"""
)
PAID = """\
  - customer.request_payment: {duration_minutes: 30}
    save: {payment_id: body.id, invoice_id: body.xendit_invoice_id}
  - xendit.pay: {invoice_id: "{{ invoice_id }}"}
"""
TIME = re.compile(r"^    \+\d+\.\d{3} s  ")


@pytest.fixture(scope="module")
def target() -> Iterator[EmbeddedTarget]:
    embedded = start_embedded()
    yield embedded
    embedded.close()


def _run(tmp_path: Path, target: EmbeddedTarget, steps: str) -> ScenarioResult:
    path = tmp_path / "flow.yaml"
    path.write_text(ACTORS + steps)
    return asyncio.run(run_scenario(load_scenario(path), target))


def _passes(tmp_path: Path, target: EmbeddedTarget, steps: str) -> ScenarioResult:
    result = _run(tmp_path, target, steps)
    assert result.status == "passed", result.failure_text()
    return result


def _fails(tmp_path: Path, target: EmbeddedTarget, steps: str) -> tuple[str, list[str]]:
    result = _run(tmp_path, target, steps)
    assert result.status == "failed", result.status
    failed = result.failed_step
    assert failed is not None
    return failed.summary, failed.details


def test_two_frames_awaited_in_reverse_order_of_their_arrival(tmp_path: Path, target: EmbeddedTarget) -> None:
    result = _passes(
        tmp_path,
        target,
        PAIRED
        + "  - customer.expect_frame: {type: pairing_matched}\n"
        + "  - customer.expect_frame: {type: pairing_searching}\n",
    )
    assert [f["type"] for f in result.frames["customer"]] == ["pairing_searching", "pairing_matched"]


def test_expect_frames_gives_pattern_order_and_arrival_order(tmp_path: Path, target: EmbeddedTarget) -> None:
    _passes(
        tmp_path,
        target,
        PAIRED
        + """\
  - customer.expect_frames:
      frames: [{type: pairing_matched, match: {session_id: "{{ session_id }}"}}, {type: pairing_searching}]
    expect:
      frames: [{type: pairing_matched}, {type: pairing_searching}]
      arrived: [{type: pairing_searching}, {type: pairing_matched}]
  - customer.expect_no_frame: {within: 0}
""",
    )


def test_expect_frames_names_the_pattern_nothing_fits(tmp_path: Path, target: EmbeddedTarget) -> None:
    summary, details = _fails(
        tmp_path,
        target,
        PAIRED
        + "  - customer.expect_frames: {frames: [{type: pairing_matched}, {type: pairing_failed}], timeout: 0.1}\n",
    )
    assert summary.startswith('1 of 2 frames never came for customer within 0.1 s: #1 {"type": "pairing_failed"}')
    assert "      ✗ #1 type: expected 'pairing_failed', got 'pairing_searching'" in details


def test_expect_frames_needs_a_distinct_frame_for_each_pattern(tmp_path: Path, target: EmbeddedTarget) -> None:
    summary, details = _fails(
        tmp_path,
        target,
        PAIRED + "  - customer.expect_frames: {frames: [{type: pairing_searching}, {type: pairing_searching}], "
        "timeout: 0.1}\n",
    )
    assert summary == "too few frames for customer within 0.1 s: 2 patterns compete for them"
    assert "      ✓ #0 fits" in details and "      ✓ #1 fits" in details


def test_count_waits_for_that_many_frames(tmp_path: Path, target: EmbeddedTarget) -> None:
    _passes(
        tmp_path,
        target,
        PAIRED
        + """\
  - customer.expect_frame: {count: 2}
    expect: {frames: [{type: pairing_searching}, {type: pairing_matched}]}
""",
    )


def test_count_zero_passes_when_no_such_frame_is_pending_or_comes(tmp_path: Path, target: EmbeddedTarget) -> None:
    _passes(tmp_path, target, PAIRED + "  - customer.expect_frame: {type: pairing_failed, count: 0, within: 0.1}\n")


def test_count_zero_fails_on_an_older_frame_no_wait_consumed(tmp_path: Path, target: EmbeddedTarget) -> None:
    summary, details = _fails(
        tmp_path,
        target,
        PAIRED
        # the pong comes after pairing_matched on the same socket: the frame is surely there before the step
        + "  - customer.send_frame: {frame: {type: ping}, reply: pong}\n"
        + "  - customer.expect_frame: {type: pairing_matched, count: 0, within: 0.1}\n",
    )
    assert summary == "customer received a pairing_matched frame it should not have"
    assert re.match(
        r"  \+\d+\.\d{3} s \(before this step, and no wait consumed it\)  \{\"type\": \"pairing_matched\"", details[0]
    )


def test_a_wait_that_finds_nothing_lists_every_frame_with_its_time_and_why(
    tmp_path: Path, target: EmbeddedTarget
) -> None:
    summary, details = _fails(
        tmp_path,
        target,
        PAIRED
        + "  - customer.expect_frame: {type: pairing_matched}\n"
        + "  - customer.expect_frame: {type: pairing_failed, timeout: 0.1}\n",
    )
    assert summary == "no pairing_failed frame for customer within 0.1 s"
    assert details[0] == "  frames for customer that arrived (2; 1 consumed by earlier waits):"
    assert TIME.match(details[1]) and 'pending   {"type": "pairing_searching"' in details[1]
    assert details[2] == "      ✗ type: expected 'pairing_failed', got 'pairing_searching'"
    assert TIME.match(details[3]) and 'consumed  {"type": "pairing_matched"' in details[3]
    assert len(details) == 4  # a consumed frame is listed without a verdict: it was not what this wait looked for
    searching, matched = (float(line.split("+")[1].split(" ")[0]) for line in (details[1], details[3]))
    assert searching <= matched


def test_a_count_that_is_not_reached_says_how_many_came(tmp_path: Path, target: EmbeddedTarget) -> None:
    summary, details = _fails(
        tmp_path, target, PAIRED + "  - customer.expect_frame: {type: pairing_matched, count: 2, timeout: 0.1}\n"
    )
    assert summary == "1 of 2 pairing_matched frames for customer within 0.1 s"
    assert "      ✓ fits" in details


def test_expect_push_consumes_the_push_it_matched(tmp_path: Path, target: EmbeddedTarget) -> None:
    token = "{{ customer.fcm_token }}"
    summary, details = _fails(
        tmp_path,
        target,
        BACKGROUNDED
        + f"""\
  - fcm.expect_push: {{token: "{token}"}}
    expect: {{push: {{message: {{notification: {{body: satu}}}}}}}}
  - fcm.expect_push: {{token: "{token}"}}
    expect: {{push: {{message: {{notification: {{body: dua}}}}}}}}
  - fcm.expect_no_push: {{token: "{token}"}}
  - fcm.expect_push: {{token: "{token}", timeout: 0.1}}
""",
    )
    assert summary.startswith("no matching push to ") and summary.endswith(" within 0.1 s")
    assert details[0].startswith("  pushes to ")
    assert details[0].endswith(" that arrived (2; 2 consumed by earlier waits):")
    assert all(TIME.match(line) and "consumed" in line for line in details[1:])


def test_expect_pushes_lists_a_tokens_pushes_in_order(tmp_path: Path, target: EmbeddedTarget) -> None:
    _passes(
        tmp_path,
        target,
        BACKGROUNDED
        + """\
  - fcm.expect_pushes: {token: "{{ customer.fcm_token }}", count: 2}
    expect: {pushes: [{message: {notification: {body: satu}}}, {message: {notification: {body: dua}}}]}
  - fcm.expect_pushes: {token: "{{ customer.fcm_token }}", count: 0, within: 0.1}
""",
    )


def test_expect_pushes_count_zero_fails_on_a_push_no_wait_took(tmp_path: Path, target: EmbeddedTarget) -> None:
    summary, details = _fails(
        tmp_path,
        target,
        BACKGROUNDED
        + '  - fcm.expect_pushes: {token: "{{ customer.fcm_token }}", match: {notification: {body: dua}}}\n'
        + '  - fcm.expect_pushes: {token: "{{ customer.fcm_token }}", count: 0, within: 0.1}\n',
    )
    assert summary.startswith("1 push(es) to ") and summary.endswith("that should not exist")
    assert len(details) == 1 and '"body": "satu"' in details[0]


def test_expect_callback_count_zero_passes_when_none_is_sent(tmp_path: Path, target: EmbeddedTarget) -> None:
    _passes(
        tmp_path,
        target,
        PAID
        + "  - test.advance_clock: {seconds: 86401}\n"
        + "  - xendit.expect_callback:\n"
        + '      {match: {invoice_id: "{{ invoice_id }}", status: EXPIRED}, count: 0, within: 0.1}\n',
    )


def test_expect_callback_count_zero_fails_on_a_sent_callback(tmp_path: Path, target: EmbeddedTarget) -> None:
    summary, details = _fails(
        tmp_path,
        target,
        PAID + '  - xendit.expect_callback: {match: {invoice_id: "{{ invoice_id }}"}, count: 0, within: 0.1}\n',
    )
    assert summary == "1 matching callback(s) sent where none should be"
    assert len(details) == 1 and re.match(r"  \+\d+\.\d{3} s  \{.*\"status\": \"PAID\"", details[0])


def test_expect_callback_that_finds_too_few_lists_the_log_with_why(tmp_path: Path, target: EmbeddedTarget) -> None:
    summary, details = _fails(
        tmp_path,
        target,
        PAID + '  - xendit.expect_callback: {match: {invoice_id: "{{ invoice_id }}", status: EXPIRED}, timeout: 0.1}\n',
    )
    assert summary == "expected some matching callback(s), found 0 within 0.1 s"
    assert details[0].startswith("  callbacks that arrived (")
    assert "      ✗ status: expected 'EXPIRED', got 'PAID'" in details
