"""``halo-sim suite`` (a front over the pytest plugin) and ``--halo-shard``."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from halo_sim.cli.app import app
from halo_sim.cli.suite import pytest_args

runner = CliRunner()
LEAN = ("-p", "no:anyio", "-p", "no:hypothesispytest", "-p", "no:cacheprovider")


@pytest.fixture
def small_suite(tmp_path: Path, data_dir: Path) -> Path:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    shutil.copy(data_dir / "passing_short.yaml", folder / "short.yaml")
    shutil.copy(data_dir / "wrong_expectation.yaml", folder / "wrong.yaml")
    return folder


def test_suite_runs_everything_shows_a_summary_writes_junit_and_exits_1_on_a_failure(
    small_suite: Path, tmp_path: Path
) -> None:
    junit = tmp_path / "junit.xml"
    result = runner.invoke(
        app, ["suite", str(small_suite), "-n", "0", "--junit", str(junit), "--report-dir", str(tmp_path / "reports")]
    )
    assert result.exit_code == 1, result.output
    assert "short" in result.output and "wrong" in result.output and "failed" in result.output
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == "2" and suite.get("failures") == "1"
    assert {case.get("name") for case in suite.iter("testcase")} == {"short", "wrong"}
    assert (tmp_path / "reports" / "wrong.json").exists()


def test_suite_selects_by_tag_and_passes(small_suite: Path) -> None:
    result = runner.invoke(app, ["suite", str(small_suite), "-n", "0", "--tag", "smoke"])
    assert result.exit_code == 0, result.output
    assert "short" in result.output and "wrong" not in result.output


def test_suite_with_nothing_selected_exits_2(small_suite: Path) -> None:
    result = runner.invoke(app, ["suite", str(small_suite), "-n", "0", "--tag", "no-such-tag"])
    assert result.exit_code == 2


def test_tags_and_excluded_tags_become_one_marker_expression() -> None:
    args = pytest_args([Path("s")], ["fcm", "chat"], ["slow"], "2", None, 7, "embedded", None, "1/3", Path("r"), None)
    assert args[args.index("-m") + 1] == "(fcm or chat) and not (slow)"
    assert args[args.index("-n") + 1] == "2"
    assert args[args.index("--halo-seed") + 1] == "7" and args[args.index("--halo-shard") + 1] == "1/3"


def _collected(pytester: pytest.Pytester, *extra: str) -> set[str]:
    result = pytester.runpytest(*LEAN, "--collect-only", "-q", "scenarios", *extra)
    return {line.split("::")[-1] for line in result.outlines if "::" in line}


def test_every_scenario_lands_in_exactly_one_shard(pytester: pytest.Pytester, scenarios_dir: Path) -> None:
    shutil.copytree(scenarios_dir, pytester.path / "scenarios")
    everything = _collected(pytester)
    shards = [_collected(pytester, "--halo-shard", f"{k}/3") for k in (1, 2, 3)]
    assert len(everything) >= 20
    assert set().union(*shards) == everything
    assert sum(len(s) for s in shards) == len(everything)
    assert all(shards)


def test_a_malformed_shard_is_a_usage_error(pytester: pytest.Pytester, scenarios_dir: Path) -> None:
    shutil.copytree(scenarios_dir, pytester.path / "scenarios")
    result = pytester.runpytest(*LEAN, "scenarios", "--halo-shard", "4/3")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
