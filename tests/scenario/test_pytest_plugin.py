"""The pytest plugin: scenario files become items; bad files and failures are reported by pytest."""

from __future__ import annotations

from pathlib import Path

import pytest

# In-process runs, without the plugins this project does not use, keep these tests fast.
LEAN = ("-p", "no:anyio", "-p", "no:hypothesispytest", "-p", "no:cacheprovider")


def _copy(pytester: pytest.Pytester, source: Path, name: str) -> None:
    folder = pytester.path / "scenarios"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(source.read_text())


def test_each_scenario_file_is_one_item_with_its_tags_as_markers(pytester: pytest.Pytester, data_dir: Path) -> None:
    _copy(pytester, data_dir / "passing_short.yaml", "short.yaml")
    result = pytester.runpytest(*LEAN, "-m", "smoke", "-q", "scenarios")
    result.assert_outcomes(passed=1)


def test_a_broken_file_is_a_collection_error_naming_file_and_line(pytester: pytest.Pytester, data_dir: Path) -> None:
    _copy(pytester, data_dir / "bad_step_name.yaml", "broken.yaml")
    result = pytester.runpytest(*LEAN, "-q", "scenarios")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*broken.yaml:6: *unknown action 'send_mesage'*"])


def test_a_failing_scenario_fails_with_the_diff_and_writes_junit(pytester: pytest.Pytester, data_dir: Path) -> None:
    _copy(pytester, data_dir / "wrong_expectation.yaml", "wrong.yaml")
    result = pytester.runpytest(*LEAN, "-q", "scenarios", "--junitxml=out.xml")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*body.delivered_via: expected 'ws', got 'fcm'*"])
    junit = (pytester.path / "out.xml").read_text()
    assert 'tests="1"' in junit and 'failures="1"' in junit and 'name="wrong"' in junit


def test_yaml_outside_a_scenarios_folder_is_not_collected(pytester: pytest.Pytester, data_dir: Path) -> None:
    (pytester.path / "config").mkdir()
    (pytester.path / "config" / "app.yaml").write_text("name: not a scenario\n")
    result = pytester.runpytest(*LEAN, "-q", "config")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
