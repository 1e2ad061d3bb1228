"""``validate`` checks frame steps against the catalogue: unknown frame types and fields, with line and hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from halo_sim.scenario.loader import load_scenario
from simkit.errors import ScenarioFileError

HEAD = (
    "name: x\nactors:\n  customer: {role: customer, foreground: true}\n"
    "  mitra: {role: mitra, foreground: true}\nsteps:\n"
)


def _problems(tmp_path: Path, steps: str) -> list[tuple[int | None, str]]:
    path = tmp_path / "flow.yaml"
    path.write_text(HEAD + steps)
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario(path)
    return caught.value.problems


def _loads(tmp_path: Path, steps: str) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text(HEAD + steps)
    load_scenario(path)


def test_unknown_server_frame_type_names_the_line_and_the_close_one(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "  - mitra.expect_frame: {type: pairing_ofer}\n")
    assert [line for line, _ in problems] == [6]
    assert problems[0][1].startswith(
        "steps.0 (mitra.expect_frame): type: unknown server frame type 'pairing_ofer'; did you mean 'pairing_offer'"
    )


def test_a_client_frame_type_is_not_a_server_frame(tmp_path: Path) -> None:
    (problem,) = _problems(tmp_path, "  - mitra.expect_no_frame: {type: accept_offer, within: 0.1}\n")
    assert "unknown server frame type 'accept_offer'" in problem[1]


def test_match_field_the_frame_does_not_have_is_reported_at_its_own_line(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path, "  - customer.expect_frame:\n      type: session_tick\n      match:\n        remaining_second: 5\n"
    )
    assert problems == [
        (
            9,
            "steps.0 (customer.expect_frame): match.remaining_second: frame 'session_tick' has no field "
            "'remaining_second'; did you mean 'remaining_seconds'?",
        )
    ]


def test_nested_match_fields_are_checked_against_the_nested_object(tmp_path: Path) -> None:
    (problem,) = _problems(tmp_path, "  - customer.expect_frame: {type: pairing_matched, match: {mitra: {idd: m}}}\n")
    assert "match.mitra.idd: Party has no field 'idd'; did you mean 'id'?" in problem[1]


def test_match_without_a_type_needs_a_field_some_server_frame_has(tmp_path: Path) -> None:
    (problem,) = _problems(tmp_path, "  - customer.expect_frame: {match: {sesion_id: s}}\n")
    assert "match.sesion_id: no server frame has a field 'sesion_id'; did you mean 'session_id'?" in problem[1]


def test_send_frame_must_send_a_client_frame_with_its_fields_and_wait_for_a_server_frame(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        "  - mitra.send_frame: {frame: {type: accept_ofer, session_id: s}}\n"
        "  - mitra.send_frame: {frame: {type: chat_message, session_id: s, txt: hi}, reply: mesage_ack}\n",
    )
    assert [line for line, _ in problems] == [6, 7, 7]
    assert "frame.type: unknown client frame type 'accept_ofer'; did you mean 'accept_offer'" in problems[0][1]
    assert "frame.txt: frame 'chat_message' has no field 'txt'; did you mean 'text'?" in problems[1][1]
    assert "reply: unknown server frame type 'mesage_ack'; did you mean 'message_ack'" in problems[2][1]


def test_expected_fields_of_the_awaited_frame_are_checked_too(tmp_path: Path) -> None:
    (problem,) = _problems(
        tmp_path,
        "  - customer.send_frame: {frame: {type: ping}, reply: pong}\n    expect: {frame: {delivered_via: ws}}\n",
    )
    assert problem[0] == 7 and "expect.frame.delivered_via: frame 'pong' has no field 'delivered_via'" in problem[1]


def test_an_unknown_type_without_a_close_one_lists_the_known_types(tmp_path: Path) -> None:
    (problem,) = _problems(tmp_path, "  - mitra.expect_frame: {type: zzz}\n")
    assert "unknown server frame type 'zzz' (known: chat_message, connected," in problem[1]


def test_branches_of_a_parallel_step_are_checked(tmp_path: Path) -> None:
    (problem,) = _problems(
        tmp_path,
        "  - parallel:\n      steps:\n        - mitra.expect_frame: {type: pairing_offer}\n"
        "        - customer.expect_frame: {type: pairing_macthed}\n",
    )
    assert problem[0] == 9
    assert "branch 1 (customer.expect_frame): type: unknown server frame type 'pairing_macthed'" in problem[1]


def test_templated_types_and_well_formed_frame_steps_load(tmp_path: Path) -> None:
    _loads(
        tmp_path,
        "  - mitra.expect_frame: {type: pairing_offer, match: {mode: blast}}\n"
        "    save: {kind: frame.type}\n"
        "  - mitra.expect_no_frame: {type: '{{ kind }}', match: {session_id: s}}\n"
        "  - customer.expect_frame: {type: pairing_matched, match: {mitra: {id: m}}}\n"
        "  - customer.send_frame:\n"
        "      {frame: {type: chat_message, session_id: s, text: hi, client_id: c}, reply: message_ack}\n"
        "    expect: {frame: {client_id: c, delivered_via: ws}}\n",
    )
