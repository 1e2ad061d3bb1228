"""``repeat``: N iterations with ``{{ i }}``, ``every`` on the virtual clock, checks at each inner step's line."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from halo_sim.scenario.loader import load_scenario
from halo_sim.scenario.report import ScenarioResult
from halo_sim.scenario.steps import REGISTRY
from halo_sim.targets.embedded import EmbeddedTarget
from simkit.errors import ScenarioFileError
from tests.scenario.conftest import RunYaml, bare

CLOCK = "  - http: {path: /internal/_test/clock}\n    save: {start: body.now}\n"


def _queries(result: ScenarioResult, name: str) -> list[str]:
    """The values of query parameter ``name`` in the run's requests, in order."""
    urls = [urlparse(e["url"]) for e in result.transcript if e["kind"] == "http"]
    return [v for u in urls for v in parse_qs(u.query).get(name, [])]


def _error(tmp_path: Path, steps: str) -> ScenarioFileError:
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nactors: {m: {role: mitra}}\nsteps:\n" + steps)
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario(path)
    return caught.value


def test_each_iteration_sees_its_index_and_the_result_counts_them(run_yaml: RunYaml) -> None:
    text = """\
name: x
steps:
  - repeat:
      times: 3
      steps:
        - http: {path: /health, query: {n: "{{ i * 10 }}"}}
          save: {last_n: status}
    expect: {count: 3, last: {status: 200}, results: [[{status: 200}], [{status: 200}], [{status: 200}]]}
    save: {seen: count}
  - http: {path: /health, query: {seen: "{{ seen }}", after: "{{ last_n }}"}}
"""
    result = run_yaml(text)
    assert result.status == "passed", result.failure_text()
    assert _queries(result, "n") == ["0", "10", "20"]
    assert _queries(result, "seen") == ["3"] and _queries(result, "after") == ["200"]
    assert result.steps[-2].summary == "3 × 1 step(s)"


def test_every_advances_the_virtual_clock_between_iterations(run_yaml: RunYaml) -> None:
    text = f"""\
name: x
steps:
{CLOCK}  - repeat:
      times: 4
      every: 60
      steps:
        - http: {{path: /internal/_test/clock}}
          expect: {{body: {{now: "{{{{ start + 60 * i }}}}"}}}}
  - http: {{path: /internal/_test/clock}}
    expect: {{body: {{now: "{{{{ start + 3m }}}}"}}}}
"""
    result = run_yaml(text)
    assert result.status == "passed", result.failure_text()
    assert result.steps[-2].summary == "4 × 1 step(s), clock +180 s"


def test_every_on_a_target_without_a_virtual_clock_skips_with_the_reason(
    run_yaml: RunYaml, embedded: EmbeddedTarget
) -> None:
    text = (
        "name: x\nsteps:\n  - repeat:\n      times: 2\n      every: 30\n      steps:\n        - http: {path: /health}\n"
    )
    result = run_yaml(text, bare(embedded, "test_endpoints"))
    assert result.status == "skipped"
    assert "lacks virtual_clock" in result.reason
    assert run_yaml(text.replace("      every: 30\n", ""), bare(embedded)).status == "passed"  # no clock needed


def test_a_failing_iteration_is_named_with_its_index(run_yaml: RunYaml) -> None:
    text = """\
name: x
steps:
  - repeat:
      times: 3
      steps:
        - http: {path: /health}
        - http: {path: /health}
          expect: {status: "{{ 200 + i }}"}
"""
    result = run_yaml(text)
    assert result.status == "failed"
    assert result.reason == "iteration i=1, step 2 (http): http: expectation not met"
    assert "  ✗ status: expected 201, got 200" in result.steps[-1].details


def test_a_nested_repeat_has_its_own_i_and_gives_the_outer_one_back(run_yaml: RunYaml) -> None:
    text = """\
name: x
steps:
  - repeat:
      times: 2
      steps:
        - repeat:
            times: 2
            steps:
              - http: {path: /health, query: {at: "inner {{ i }}"}}
        - http: {path: /health, query: {at: "outer {{ i }}"}}
"""
    result = run_yaml(text)
    assert result.status == "passed", result.failure_text()
    assert _queries(result, "at") == ["inner 0", "inner 1", "outer 0", "inner 0", "inner 1", "outer 1"]


def test_inner_steps_are_checked_at_their_own_lines(tmp_path: Path) -> None:
    error = _error(
        tmp_path,
        "  - repeat:\n      times: 2\n      steps:\n        - m.get_profile:\n"
        "        - m.hartbeat:\n        - m.get_profile: {x: '{{ nope }}'}\n",
    )
    assert [line for line, _ in error.problems] == [8, 9]
    assert "unknown action 'hartbeat' for m (mitra); did you mean 'heartbeat'?" in error.problems[0][1]
    assert "undefined variable {{ nope }}" in error.problems[1][1]


def test_i_exists_only_inside_a_repeat_and_inner_saves_outlive_it(tmp_path: Path) -> None:
    steps = (
        "  - repeat:\n      times: 2\n      steps:\n        - m.get_profile:\n          save: {profile_id: body.id}\n"
        "  - m.get_profile: {x: '{{ profile_id }}'}\n  - m.get_profile: {y: '{{ i + 1 }}'}\n"
    )
    error = _error(tmp_path, steps)
    assert error.line == 10 and len(error.problems) == 1
    assert "undefined variable {{ i }}" in error.message


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("times: 0", "times: Input should be greater than or equal to 1"),
        ("times: 2, every: 0", "every: Input should be greater than 0"),
    ],
)
def test_bad_times_and_every_are_file_errors(tmp_path: Path, args: str, message: str) -> None:
    error = _error(tmp_path, f"  - repeat: {{{args}, steps: [m.get_profile]}}\n")
    assert error.line == 4 and message in error.message


def test_a_malformed_expression_inside_a_repeat_is_a_file_error(tmp_path: Path) -> None:
    error = _error(tmp_path, "  - repeat:\n      times: 2\n      steps:\n        - m.get_profile: {x: '{{ i + }}'}\n")
    assert error.line == 7 and "bad template {{ i + }}: expected a value after '+'" in error.message


def test_repeat_docstring_names_its_result_keys() -> None:
    doc = (REGISTRY[("repeat", "")].run.__doc__ or "").strip().splitlines()[-1].strip()
    assert doc == "Result: {results, count, last}"


def test_a_wait_inside_a_repeat_on_a_backgrounded_app_is_reported_at_its_line(tmp_path: Path) -> None:
    error = _error(
        tmp_path,
        "  - m.foreground\n  - repeat:\n      times: 2\n      steps:\n        - m.background\n"
        "        - m.expect_frame: {type: pairing_offer}\n",
    )
    assert error.line == 9 and "m's app is in the background here" in error.message
