"""HTML reports from the CLI: ``scenario --html``, ``suite --html`` and ``halo-sim report``."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from typer.testing import CliRunner

from halo_sim.cli.app import app

runner = CliRunner()
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)


def self_contained(html: str) -> bool:
    return EXTERNAL.search(html) is None and "<svg" in html and "<style>" in html


def test_scenario_html_writes_the_failing_run_s_page(data_dir: Path, tmp_path: Path) -> None:
    page = tmp_path / "run.html"
    result = runner.invoke(
        app,
        ["scenario", str(data_dir / "wrong_expectation.yaml"), "--html", str(page), "--report-dir", str(tmp_path)],
    )
    assert result.exit_code == 1, result.output
    html = page.read_text()
    assert self_contained(html)
    assert 'id="failed-step"' in html and "body.delivered_via: expected &#39;ws&#39;, got &#39;fcm&#39;" in html
    assert "POST /internal/_test/send-chat-message-as-mitra" in html


def test_scenario_html_with_several_scenarios_is_a_folder_of_pages(data_dir: Path, tmp_path: Path) -> None:
    shutil.copy(data_dir / "passing_short.yaml", tmp_path / "one.yaml")
    shutil.copy(data_dir / "passing_short.yaml", tmp_path / "two.yaml")
    result = runner.invoke(
        app, ["scenario", str(tmp_path / "one.yaml"), str(tmp_path / "two.yaml"), "--html", str(tmp_path / "pages")]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "pages").iterdir()) == ["one.html", "two.html"]


def test_report_turns_a_json_report_into_its_html_page(data_dir: Path, tmp_path: Path) -> None:
    runner.invoke(app, ["scenario", str(data_dir / "wrong_expectation.yaml"), "--report-dir", str(tmp_path)])
    source = tmp_path / "wrong_expectation.json"
    result = runner.invoke(app, ["report", str(source)])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "wrong_expectation.html").read_text()
    assert self_contained(html) and 'id="failed-step"' in html
    chosen = tmp_path / "elsewhere" / "page.html"
    assert runner.invoke(app, ["report", str(source), "-o", str(chosen)]).exit_code == 0
    assert chosen.read_text() == html


def test_report_of_a_missing_or_foreign_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "other.json").write_text(json.dumps({"hello": 1}))
    for name, said in (("missing.json", "cannot read"), ("other.json", "not a halo-sim scenario report")):
        result = runner.invoke(app, ["report", str(tmp_path / name)])
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert result.exit_code == 2 and len(lines) == 1 and said in lines[0], result.output


def test_suite_html_writes_a_page_per_scenario_and_an_index(data_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    shutil.copy(data_dir / "passing_short.yaml", folder / "short.yaml")
    shutil.copy(data_dir / "wrong_expectation.yaml", folder / "wrong.yaml")
    pages = tmp_path / "html"
    result = runner.invoke(
        app, ["suite", str(folder), "-n", "0", "--html", str(pages), "--report-dir", str(tmp_path / "r")]
    )
    assert result.exit_code == 1, result.output
    assert sorted(p.name for p in pages.iterdir()) == ["index.html", "short.html", "wrong.html"]
    index = (pages / "index.html").read_text()
    assert "1 passed · 1 failed · 0 skipped" in index
    assert 'href="wrong.html"' in index and 'href="short.html"' in index
    assert self_contained((pages / "wrong.html").read_text())
