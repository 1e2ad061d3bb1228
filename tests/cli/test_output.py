"""CLI output people can use: whole ids, a progress bar that moves, failures with file:line and YAML, skips."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from halo_sim.cli.app import app
from halo_sim.cli.console import ConsoleReporter
from halo_sim.cli.listing import Row, stacked, table
from halo_sim.cli.progress import SuiteProgress
from halo_sim.cli.suite import LEAN
from halo_sim.scenario.report import ScenarioResult, StepRecord
from halo_sim.stack import Stack
from simkit.clock import VirtualClock

runner = CliRunner()
LONG_ID = "a-scenario-whose-id-is-far-longer-than-any-terminal-column-would-allow-for-it-to-show"


@pytest.fixture
def long_ids(tmp_path: Path, data_dir: Path) -> Path:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    shutil.copy(data_dir / "passing_short.yaml", folder / f"{LONG_ID}.yaml")
    shutil.copy(data_dir / "passing_short.yaml", folder / "short.yaml")
    return folder


def test_list_piped_prints_whole_ids_as_tab_separated_rows(long_ids: Path) -> None:
    result = runner.invoke(app, ["list", "-d", str(long_ids)])
    assert result.exit_code == 0, result.output
    rows = [line.split("\t") for line in result.output.splitlines()]
    assert rows == [
        [LONG_ID, "smoke", "1", "a short passing scenario"],
        ["short", "smoke", "1", "a short passing scenario"],
    ]


def test_list_json_has_every_id_whole(long_ids: Path) -> None:
    result = runner.invoke(app, ["list", "-d", str(long_ids), "--json"])
    assert [r["id"] for r in json.loads(result.output)] == [LONG_ID, "short"]


ROWS = [Row(LONG_ID, ["smoke", "payments"], 3, "a name long enough to need wrapping " * 3, "x.yaml")]


@pytest.mark.parametrize("render", [lambda: table(ROWS, "t"), lambda: stacked(ROWS)])
def test_the_terminal_views_never_cut_an_id(render: object) -> None:
    console = Console(width=140, record=True)
    console.print(render())  # type: ignore[operator]
    assert LONG_ID in console.export_text()


def _run_suite(folder: Path, workers: str) -> SuiteProgress:
    progress = SuiteProgress(Console(file=open("/dev/null", "w")))  # noqa: SIM115 - closed with the console
    args = [str(folder), "-q", *LEAN, "-n", workers] if workers != "0" else [str(folder), "-q", *LEAN, "-p", "no:xdist"]
    pytest.main(args, plugins=[progress])
    return progress


@pytest.mark.parametrize("workers", ["0", "2"])
def test_the_progress_bar_advances_to_the_total_as_scenarios_finish(long_ids: Path, workers: str) -> None:
    progress = _run_suite(long_ids, workers)
    assert (progress.done, progress.total) == (2, 2)


def test_a_failing_scenario_prints_the_step_file_line_and_yaml(data_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["scenario", str(data_dir / "wrong_expectation.yaml"), "--report-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert f"at {data_dir / 'wrong_expectation.yaml'}:13" in result.output
    lines = [line.strip() for line in result.output.splitlines()]
    assert '- test.send_chat_message_as_mitra: {session_id: "{{ session_id }}", text: halo}' in lines
    assert "expect: {status: 201, body: {delivered_via: ws}}" in lines


def test_the_failure_text_names_the_step_once_with_its_line_and_yaml(data_dir: Path) -> None:
    path = str(data_dir / "wrong_expectation.yaml")
    result = ScenarioResult("w", "w", path, "embedded", 1, status="failed")
    result.steps.append(StepRecord(5, "step", "test.send_chat_message_as_mitra", 13, "failed", "not met"))
    text = result.failure_text()
    assert text.startswith(f"step 6 'test.send_chat_message_as_mitra' failed at {path}:13: not met")
    assert "step step" not in text and "    expect: {status: 201, body: {delivered_via: ws}}" in text


def test_step_details_wrap_at_word_boundaries() -> None:
    words = [f"word{i:02d}" for i in range(60)]
    console = Console(width=50, record=True)
    record = StepRecord(0, "step", "x", None, "passed", " ".join(words), details=["  " + " ".join(words)])
    ConsoleReporter(console).step_done(ScenarioResult("s", "s", "s.yaml", "t", 1), record)
    printed = console.export_text().split()
    assert set(words) <= set(printed)
    assert all(len(token) == 6 for token in printed if token.startswith("word"))  # none cut in two


@pytest.fixture(scope="module")
def open_stack() -> Iterator[Stack]:
    stack = Stack(VirtualClock())
    yield stack
    stack.stop()


@pytest.fixture
def mitra_scenario(tmp_path: Path, scenarios_dir: Path, open_stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Path:
    """01_smoke (it needs a mitra) against a target that cannot create mitras and has none: it skips."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    shutil.copy(scenarios_dir / "01_smoke.yaml", folder)
    (tmp_path / "halo-sim.yaml").write_text(
        f"targets:\n  nomitras:\n    base_url: {open_stack.backend_server.url}\n"
        "    capabilities: [test_endpoints, otp_readable]\n"
    )
    monkeypatch.chdir(tmp_path)
    return folder


def test_a_suite_where_everything_skipped_exits_1_with_the_reasons_grouped(mitra_scenario: Path) -> None:
    result = runner.invoke(app, ["suite", str(mitra_scenario), "-n", "0", "--target", "nomitras"])
    assert result.exit_code == 1, result.output
    assert "skipped 1: target 'nomitras' cannot create mitras" in result.output
    assert "every selected scenario skipped" in result.output


def test_allow_skips_accepts_it(mitra_scenario: Path) -> None:
    result = runner.invoke(app, ["suite", str(mitra_scenario), "-n", "0", "--target", "nomitras", "--allow-skips"])
    assert result.exit_code == 0, result.output


def test_the_scenario_command_fails_a_run_that_only_skipped_unless_allowed(mitra_scenario: Path) -> None:
    ref = str(mitra_scenario / "01_smoke.yaml")
    skipped = runner.invoke(app, ["scenario", ref, "--target", "nomitras"])
    allowed = runner.invoke(app, ["scenario", ref, "--target", "nomitras", "--allow-skips"])
    assert (skipped.exit_code, allowed.exit_code) == (1, 0), skipped.output + allowed.output
    assert "every scenario skipped" in skipped.output
