"""Every refusal of the CLI is one line naming the cause and the fix, exit 2, no traceback (``--debug`` shows it)."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from halo_sim.cli.app import app
from halo_sim.stack import Stack, StackOptions
from simkit.clock import VirtualClock

runner = CliRunner()


def _one_line(args: list[str]) -> str:
    """Run the CLI; assert exit 2, no traceback and exactly one non-empty line; return that line."""
    result = runner.invoke(app, args)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.fixture
def suite_dir(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    shutil.copy(data_dir / "passing_short.yaml", folder / "short.yaml")
    monkeypatch.chdir(tmp_path)  # no halo-sim.yaml here or above (tmp_path is outside the checkout)
    return folder


@pytest.fixture(scope="module")
def guarded_stack() -> Iterator[Stack]:
    """A reference backend whose test hooks want the token "right-token"."""
    stack = Stack(VirtualClock(), StackOptions(test_token="right-token"))
    yield stack
    stack.stop()


def _targets_file(folder: Path, base_url: str, extra: str = "") -> Path:
    path = folder / "halo-sim.yaml"
    path.write_text(f"targets:\n  staging:\n    base_url: {base_url}\n    capabilities: [test_endpoints]\n{extra}")
    return path


def test_an_unknown_target_without_a_targets_file_is_one_line(suite_dir: Path) -> None:
    line = _one_line(["suite", str(suite_dir), "-n", "0", "--target", "staging"])
    assert "unknown target 'staging': no halo-sim.yaml" in line


def test_a_half_configured_target_names_the_missing_variable(suite_dir: Path) -> None:
    _targets_file(suite_dir.parent, "http://127.0.0.1:9", "    test_token_env: HALO_SIM_NO_SUCH_VARIABLE\n")
    line = _one_line(["suite", str(suite_dir), "-n", "0", "--target", "staging"])
    assert "$HALO_SIM_NO_SUCH_VARIABLE, which is not set; export it" in line


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends: nothing listens there


def test_an_unreachable_target_names_its_url(suite_dir: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    line = _one_line(["suite", str(suite_dir), "-n", "0", "--target", url])
    assert f"down or unreachable at {url} (connection refused)" in line


def test_the_scenario_command_refuses_an_unreachable_target_too(suite_dir: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    line = _one_line(["scenario", str(suite_dir / "short.yaml"), "--target", url])
    assert f"down or unreachable at {url}" in line


def test_a_missing_test_token_is_one_line(suite_dir: Path, guarded_stack: Stack) -> None:
    _targets_file(suite_dir.parent, guarded_stack.backend_server.url)
    line = _one_line(["suite", str(suite_dir), "-n", "0", "--target", "staging"])
    assert "answered 401" in line and "the test token is missing" in line


def test_a_bad_shard_is_one_line_also_with_workers(suite_dir: Path) -> None:
    line = _one_line(["suite", str(suite_dir), "-n", "2", "--shard", "5/4"])
    assert line == "error: --halo-shard '5/4': K must be between 1 and N"


def test_an_unknown_tag_lists_the_known_ones(suite_dir: Path) -> None:
    line = _one_line(["suite", str(suite_dir), "-n", "0", "--tag", "smok"])
    assert "unknown tag 'smok'" in line and "known: smoke" in line


def test_a_missing_path_is_one_line(suite_dir: Path) -> None:
    line = _one_line(["suite", str(suite_dir / "nope"), "-n", "0"])
    assert "no such file or folder" in line and "nope" in line


def test_a_folder_without_scenarios_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    line = _one_line(["suite", str(tmp_path / "empty"), "-n", "0"])
    assert "no scenario files in" in line


def test_debug_shows_the_traceback_behind_the_line(suite_dir: Path) -> None:
    result = runner.invoke(app, ["--debug", "suite", str(suite_dir), "-n", "0", "--target", "staging"])
    assert result.exit_code == 2
    assert "Traceback" in result.output and "unknown target 'staging'" in result.output


def test_the_debug_variable_shows_it_too(suite_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HALO_SIM_DEBUG", "1")
    result = runner.invoke(app, ["suite", str(suite_dir), "-n", "0", "--target", "staging"])
    assert result.exit_code == 2 and "Traceback" in result.output


def test_serve_on_a_port_in_use_is_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = _one_line(["serve", "--port", str(port)])
    assert f"port {port} on 127.0.0.1 is in use" in line and "--port 0" in line


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "cannot read the saved state"),
        ('{"format": 1, "tables": {"customers": [{"x": 1}]}, "ids": [3, [], null]}', "does not restore"),
    ],
)
def test_serve_with_a_corrupt_state_file_is_one_line(tmp_path: Path, content: str, expected: str) -> None:
    state = tmp_path / "state.json"
    state.write_text(content)
    line = _one_line(["serve", "--port", "0", "--state-file", str(state)])
    assert expected in line and "move it away to start fresh" in line
