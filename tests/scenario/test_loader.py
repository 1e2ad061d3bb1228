"""Loading scenario files: every problem names the file, the line and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from halo_sim.scenario.loader import discover, find_scenario, load_scenario
from simkit.errors import ScenarioFileError


def _error(path: Path) -> ScenarioFileError:
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario(path)
    return caught.value


def test_every_repository_scenario_loads(scenarios_dir: Path) -> None:
    files = discover(scenarios_dir)
    assert len(files) >= 5
    for path in files:
        assert load_scenario(path).id == path.stem


def test_unknown_action_names_line_and_suggests_the_close_one(data_dir: Path) -> None:
    error = _error(data_dir / "bad_step_name.yaml")
    assert error.line == 6
    assert "unknown action 'send_mesage'" in error.message
    assert "did you mean 'send_message'" in error.message
    assert str(error).startswith(f"{data_dir / 'bad_step_name.yaml'}:6: ")


def test_argument_of_wrong_type_points_at_the_argument_line(data_dir: Path) -> None:
    error = _error(data_dir / "wrong_type.yaml")
    assert error.line == 7
    assert "timeout" in error.message and "valid number" in error.message


def test_bad_yaml_reports_the_line_of_the_syntax_error(data_dir: Path) -> None:
    error = _error(data_dir / "bad_yaml.yaml")
    assert error.line == 6
    assert "not valid YAML" in error.message


def test_unknown_key_is_an_error_not_ignored(data_dir: Path) -> None:
    error = _error(data_dir / "unknown_key.yaml")
    assert error.line == 3
    assert "actors.customer.foregound: unknown key" in error.message


def test_variable_used_before_any_step_saved_it_is_reported(data_dir: Path) -> None:
    error = _error(data_dir / "undefined_variable.yaml")
    assert error.line == 5
    assert "undefined variable {{ payment_id }}" in error.message


def test_all_problems_of_a_file_are_reported_together(tmp_path: Path) -> None:
    path = tmp_path / "two.yaml"
    path.write_text("name: x\nactors: {c: {role: customer}}\nsteps:\n  - c.nope:\n  - c.nada:\n")
    error = _error(path)
    assert [line for line, _ in error.problems] == [4, 5]


def test_a_customer_cannot_be_online(tmp_path: Path) -> None:
    path = tmp_path / "online.yaml"
    path.write_text("name: x\nactors:\n  c: {role: customer, online: true}\nsteps:\n  - c.get_profile:\n")
    assert "only a mitra can be online" in _error(path).message


def test_route_placeholders_must_be_given(tmp_path: Path) -> None:
    path = tmp_path / "placeholder.yaml"
    path.write_text("name: x\nactors:\n  c: {role: customer}\nsteps:\n  - c.get_payment: {}\n")
    assert "missing argument(s) ['payment_request_id']" in _error(path).message


def test_reserved_actor_names_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "reserved.yaml"
    path.write_text("name: x\nactors:\n  test: {role: customer}\nsteps:\n  - http: {path: /health}\n")
    assert "reserved" in _error(path).message


def test_find_scenario_by_id_or_path(scenarios_dir: Path) -> None:
    assert find_scenario("ts-customer-05-01", scenarios_dir) == scenarios_dir / "ts-customer-05-01.yaml"
    direct = scenarios_dir / "01_smoke.yaml"
    assert find_scenario(str(direct), None) == direct


def test_unknown_scenario_id_lists_the_known_ones(scenarios_dir: Path) -> None:
    with pytest.raises(ScenarioFileError, match="known: .*ts-customer-05-01"):
        find_scenario("ts-nope", scenarios_dir)


def test_without_a_scenarios_folder_the_error_says_what_to_do() -> None:
    with pytest.raises(ScenarioFileError, match="pass --scenarios-dir"):
        find_scenario("ts-customer-05-01", None)


def test_branches_of_a_parallel_step_are_checked_like_steps(tmp_path: Path) -> None:
    path = tmp_path / "race.yaml"
    path.write_text(
        "name: x\nactors:\n  m: {role: mitra}\nsteps:\n  - parallel:\n      steps:\n"
        "        - m.accept_offer: {session_id: s}\n        - m.acept_offer: {session_id: s}\n"
    )
    error = _error(path)
    assert error.line == 8  # the branch's own line
    assert "unknown action 'acept_offer'" in error.message and "did you mean 'accept_offer'" in error.message


def test_a_parallel_step_needs_at_least_two_branches(tmp_path: Path) -> None:
    path = tmp_path / "single.yaml"
    path.write_text(
        "name: x\nactors:\n  m: {role: mitra}\nsteps:\n  - parallel:\n      steps:\n"
        "        - m.accept_offer: {session_id: s}\n"
    )
    assert "at least 2" in _error(path).message


def test_malformed_matchers_are_reported_at_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "matchers.yaml"
    path.write_text(
        "name: x\n"
        "actors: {c: {role: customer, foreground: true}}\n"
        "steps:\n"
        "  - c.get_profile:\n"
        "    expect:\n"
        "      body:\n"
        "        phone: {$startswth: '+62'}\n"  # line 7
        "        display_name: {$matches: '(', x: 1}\n"  # line 8
        "        id: {$matches: '('}\n"  # line 9
        "  - c.expect_frame: {type: pairing_matched, match: {session_id: {$len: x}}}\n"  # line 10
        "  - parallel:\n"
        "      steps:\n"
        "        - c.get_profile:\n"
        "          expect: {body: {id: {$in: 3}}}\n"  # line 14
        "        - c.get_profile:\n"
    )
    error = _error(path)
    assert error.problems == [
        (7, "steps.0 (c.get_profile): expect.body.phone: unknown matcher $startswth; did you mean $startswith?"),
        (
            8,
            "steps.0 (c.get_profile): expect.body.display_name: mixes matcher keys ($matches) with plain keys (x); "
            "a matcher has only $ keys",
        ),
        (9, "steps.0 (c.get_profile): expect.body.id: $matches needs a regular expression, got '('"),
        (
            10,
            "steps.1 (c.expect_frame): c.expect_frame.match.session_id: "
            "$len needs a non-negative integer or a matcher, got 'x'",
        ),
        (14, "steps.2 (parallel): branch 0 (c.get_profile): expect.body.id: $in needs a list of values, got 3"),
    ]


def test_matchers_on_frame_fields_are_not_taken_for_fields(tmp_path: Path) -> None:
    path = tmp_path / "frame.yaml"
    path.write_text(
        "name: x\nactors: {c: {role: customer, foreground: true}}\nsteps:\n"
        "  - c.expect_frame: {type: chat_message, match: {message: {text: {$contains: halo}}}}\n"
        "    expect: {frame: {message: {$not: {sender_role: customer}}}}\n"
    )
    assert load_scenario(path).steps[0].expect == {"frame": {"message": {"$not": {"sender_role": "customer"}}}}
