"""``{{ now }}``: the target's (virtual) time, as an ISO time templates can compute with."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from halo_sim.scenario.loader import load_scenario
from halo_sim.scenario.report import ScenarioResult
from halo_sim.targets.embedded import EmbeddedTarget
from simkit.clock import isoformat, parse_iso
from simkit.errors import ScenarioFileError
from tests.scenario.conftest import RunYaml, bare

TEXT = """\
name: x
steps:
  - test.advance_clock: {seconds: 3600}
  - http: {path: /health, query: {at: "{{ now }}", later: "{{ now + 15m }}"}}
"""


def _query(result: ScenarioResult, name: str) -> str:
    entry = next(e for e in result.transcript if e["kind"] == "http" and f"{name}=" in e["url"])
    return parse_qs(urlparse(entry["url"]).query)[name][0]


def test_now_is_the_targets_virtual_time_read_when_a_step_names_it(run_yaml: RunYaml) -> None:
    result = run_yaml(TEXT)
    assert result.status == "passed", result.failure_text()
    advanced = next(e for e in result.transcript if e["kind"] == "http" and e["url"].endswith("/_test/clock"))
    clock = advanced["response"]["now"]  # the time after the advance: what the next step's now must be
    assert _query(result, "at") == isoformat(clock)
    assert _query(result, "later") == isoformat(clock + 900)
    notes = [e["text"] for e in result.transcript if e["kind"] == "note" and e["text"].startswith("now = ")]
    assert notes == [f"now = {isoformat(clock)} (the target's clock)"]  # one read, noted, not an exchange


def test_a_target_without_a_virtual_clock_gives_the_wall_time(run_yaml: RunYaml, embedded: EmbeddedTarget) -> None:
    before = time.time()
    result = run_yaml("name: x\nsteps:\n  - http: {path: /health, query: {at: '{{ now }}'}}\n", bare(embedded))
    after = time.time()
    assert result.status == "passed", result.failure_text()
    assert not any("/internal/_test/clock" in e.get("url", "") for e in result.transcript)
    assert any(e["kind"] == "note" and e["text"].endswith("(the wall clock)") for e in result.transcript)
    assert int(before) - 1 <= parse_iso(_query(result, "at")) <= after + 1


@pytest.mark.parametrize(
    ("template", "message"),
    [("{{ now + 15x }}", "bad template {{ now + 15x }}: cannot read '15x'"), ("{{ nw }}", "did you mean now?")],
)
def test_a_mistake_around_now_is_a_file_error_with_its_line(tmp_path: Path, template: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(f"name: x\nsteps:\n  - http: {{path: /health}}\n  - http: {{path: '/x?t={template}'}}\n")
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario(path)
    assert caught.value.line == 4 and message in caught.value.message
