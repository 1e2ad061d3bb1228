"""``halo-sim scenario``, ``list`` and ``validate`` through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from halo_sim.cli.app import app

runner = CliRunner()


def test_scenario_prints_each_step_and_exits_0(scenarios_dir: Path) -> None:
    result = runner.invoke(app, ["scenario", "ts-customer-05-01", "-d", str(scenarios_dir)])
    assert result.exit_code == 0, result.output
    assert "✓ setup customer.login" in result.output
    assert "✓ fcm.expect_push" in result.output
    assert "PASSED ts-customer-05-01" in result.output


def test_failing_scenario_exits_1_with_the_diff_and_a_report(data_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["scenario", str(data_dir / "wrong_expectation.yaml"), "--report-dir", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert "body.delivered_via: expected 'ws', got 'fcm'" in result.output
    assert "FAILED wrong_expectation" in result.output
    report = json.loads((tmp_path / "wrong_expectation.json").read_text())
    assert report["status"] == "failed" and report["transcript"]


def test_broken_file_exits_2_naming_file_and_line(data_dir: Path) -> None:
    result = runner.invoke(app, ["scenario", str(data_dir / "bad_step_name.yaml")])
    assert result.exit_code == 2
    assert "bad_step_name.yaml:6:" in result.output.replace("\n", "")


def test_bad_yaml_exits_2(data_dir: Path) -> None:
    result = runner.invoke(app, ["scenario", str(data_dir / "bad_yaml.yaml")])
    assert result.exit_code == 2
    assert "not valid YAML" in result.output


def test_unknown_scenario_id_exits_2(scenarios_dir: Path) -> None:
    result = runner.invoke(app, ["scenario", "no-such-flow", "-d", str(scenarios_dir)])
    assert result.exit_code == 2
    assert "no scenario with this id" in result.output


def test_unknown_target_exits_2(scenarios_dir: Path) -> None:
    result = runner.invoke(app, ["scenario", "01_smoke", "-d", str(scenarios_dir), "--target", "mars"])
    assert result.exit_code == 2
    assert "unknown target 'mars'" in result.output


def test_list_shows_every_scenario(scenarios_dir: Path) -> None:
    result = runner.invoke(app, ["list", "-d", str(scenarios_dir)])
    assert result.exit_code == 0, result.output
    for scenario_id in ("ts-customer-05-01", "ts-customer-05-02", "ts-customer-01-01", "01_smoke"):
        assert scenario_id in result.output


def test_validate_passes_the_repository_scenarios(scenarios_dir: Path) -> None:
    result = runner.invoke(app, ["validate", str(scenarios_dir)])
    assert result.exit_code == 0, result.output
    assert "0 problem(s)" in result.output


def test_validate_reports_every_broken_file_and_exits_2(data_dir: Path) -> None:
    result = runner.invoke(app, ["validate", str(data_dir / "bad_yaml.yaml"), str(data_dir / "unknown_key.yaml")])
    assert result.exit_code == 2
    assert "2 file(s), 2 problem(s)" in result.output
