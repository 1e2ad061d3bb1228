"""The arguments of the event waits are checked when the file is loaded, each mistake at its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from halo_sim.scenario.loader import load_scenario
from simkit.errors import ScenarioFileError

HEAD = "name: x\nactors:\n  customer: {role: customer, foreground: true}\n  mitra: {role: mitra}\nsteps:\n"


def _problems(tmp_path: Path, steps: str) -> list[tuple[int | None, str]]:
    path = tmp_path / "flow.yaml"
    path.write_text(HEAD + steps)
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario(path)
    return caught.value.problems


@pytest.mark.parametrize(
    ("step", "problem"),
    [
        ("customer.expect_frame: {count: -1}", "count: Input should be greater than or equal to 0"),
        ("customer.expect_frame: {count: 2, within: 1}", "within: only with count: 0 (none within that many seconds)"),
        ("customer.expect_frame: {within: 1}", "within: only with count: 0"),
        ("customer.expect_frame: {count: 0, timeout: 1}", "timeout: count: 0 waits `within` seconds, not a timeout"),
        ("customer.expect_frames: {frames: []}", "frames: List should have at least 1 item"),
        ("customer.expect_frames: {frames: [{type: pairing_matched, when: 1}]}", "frames.0.when: unknown argument"),
        ("fcm.expect_pushes: {token: t, count: 1, within: 0.2}", "within: only with count: 0"),
        ("fcm.expect_pushes: {token: t, count: 0, timeout: 1}", "timeout: count: 0 waits `within` seconds"),
        ("xendit.expect_callback: {count: -2}", "count: Input should be greater than or equal to 0"),
        ("xendit.expect_callback: {count: 3, within: 1}", "within: only with count: 0"),
    ],
)
def test_counts_and_windows_are_checked(tmp_path: Path, step: str, problem: str) -> None:
    (found,) = _problems(tmp_path, f"  - {step}\n")
    assert found[0] == 6 and problem in found[1], found


def test_expect_frames_patterns_are_checked_against_the_frame_catalogue_at_their_lines(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        "  - customer.expect_frames:\n"
        "      frames:\n"
        "        - {type: pairing_matched}\n"
        "        - type: pairing_matchd\n"
        "        - type: session_tick\n"
        "          match: {remaining_second: 5}\n",
    )
    assert problems == [
        (
            9,
            "steps.0 (customer.expect_frames): frames.1.type: unknown server frame type 'pairing_matchd'; "
            "did you mean 'pairing_matched' or 'pairing_failed' or 'pairing_searching'?",
        ),
        (
            11,
            "steps.0 (customer.expect_frames): frames.2.match.remaining_second: frame 'session_tick' has no field "
            "'remaining_second'; did you mean 'remaining_seconds'?",
        ),
    ]


def test_expect_frames_needs_the_app_in_the_foreground(tmp_path: Path) -> None:
    (problem,) = _problems(tmp_path, "  - mitra.expect_frames: {frames: [{type: pairing_offer}]}\n")
    assert "mitra's app is in the background here (no socket)" in problem[1]


def test_the_new_steps_load(tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text(
        HEAD
        + "  - customer.expect_frames: {frames: [{type: pairing_matched}, {type: pairing_searching}], timeout: 2}\n"
        + "  - customer.expect_frame: {type: pairing_failed, count: 0, within: 0.1}\n"
        + "  - customer.expect_frame: {type: session_tick, count: 3}\n"
        + "  - fcm.expect_pushes: {token: t, match: {data: {type: chat_message}}, count: 2, timeout: 1}\n"
        + "  - xendit.expect_callback: {count: 0, within: 0.5}\n"
    )
    assert len(load_scenario(path).steps) == 5
