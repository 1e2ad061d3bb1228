"""``halo-sim target check``, ``schema`` and ``new``, and the loader's "unreachable wait" check."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from starlette.applications import Starlette
from typer.testing import CliRunner

from halo_sim.cli.app import app
from halo_sim.scenario.loader import discover, load_scenario
from halo_sim.scenario.scaffold import SCHEMA_REF
from halo_sim.targets.base import CAPABILITIES
from simkit.errors import ScenarioFileError
from simkit.server import ServerThread

runner = CliRunner(env={"COLUMNS": "200"})


# --- target check ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nothing_server() -> Iterator[ServerThread]:
    """A plain Starlette app answering 404 everywhere."""
    with ServerThread(Starlette(routes=[]), name="nothing") as server:
        yield server


def _targets_file(folder: Path, base_url: str) -> Path:
    path = folder / "halo-sim.yaml"
    path.write_text(f"""targets:
  bare:
    base_url: {base_url}
    fcm_url: {base_url}
    capabilities: [test_endpoints, state_dump]
""")
    return path


def test_target_check_embedded_lists_every_capability_present_and_exits_0() -> None:
    result = runner.invoke(app, ["target", "check", "embedded"])
    assert result.exit_code == 0, result.output
    for name in ("base_url", "websocket", *CAPABILITIES):
        assert re.search(rf"{name}\s+│ \w+\s+│ ✓ yes", result.output), (name, result.output)
    assert "every declared capability answers" in result.output


def test_target_check_of_a_target_lacking_declared_capabilities_names_them_and_exits_1(
    tmp_path: Path, nothing_server: ServerThread
) -> None:
    targets = _targets_file(tmp_path, nothing_server.url)
    result = runner.invoke(app, ["target", "check", "bare", "--targets", str(targets)])
    assert result.exit_code == 1, result.output
    assert "missing: test_endpoints, state_dump, fcm_inbox" in result.output
    assert re.search(r"otp_readable\s+│ no\s+│ no", result.output), result.output  # not declared: listed, no failure


def test_target_check_of_a_url_target_without_test_hooks_exits_1(nothing_server: ServerThread) -> None:
    result = runner.invoke(app, ["target", "check", nothing_server.url], env={"HALO_TEST_TOKEN": ""})
    assert result.exit_code == 1, result.output
    assert "missing: test_endpoints, otp_readable" in result.output


def test_target_check_of_an_unknown_target_exits_2(tmp_path: Path, nothing_server: ServerThread) -> None:
    targets = _targets_file(tmp_path, nothing_server.url)
    result = runner.invoke(app, ["target", "check", "mars", "--targets", str(targets)])
    assert result.exit_code == 2, result.output
    assert "unknown target 'mars'" in result.output and "known: bare" in result.output


# --- schema ------------------------------------------------------------------------------------


def test_schema_prints_valid_json_describing_actors_and_steps_without_loader_fields() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.output)
    assert schema["$schema"].startswith("https://json-schema.org/") and schema["title"] == "halo-sim scenario"
    assert {"name", "actors", "steps"} <= set(schema["properties"])
    assert not {"id", "path"} & set(schema["properties"])
    assert '"line":' not in json.dumps(schema["$defs"]["Step"]) and "action" not in schema["$defs"]["Step"]


def test_schema_step_is_the_yaml_shape_so_every_repository_action_key_is_allowed(scenarios_dir: Path) -> None:
    schema = json.loads(runner.invoke(app, ["schema"]).output)
    step = schema["$defs"]["Step"]
    shorthand, mapping = step["anyOf"]
    assert shorthand["type"] == "string" and mapping["additionalProperties"] is False
    assert "fcm.expect_push" in mapping["properties"] and "test.force_confirm_payment" in mapping["properties"]
    patterns = [re.compile(p) for p in mapping["patternProperties"]]
    for path in discover(scenarios_dir):
        for raw in yaml.safe_load(path.read_text())["steps"]:
            keys = [raw] if isinstance(raw, str) else list(raw)
            for key in keys:
                assert key in mapping["properties"] or any(p.search(key) for p in patterns), (path.name, key)


def test_schema_out_writes_the_same_schema_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / ".halo-sim" / "scenario.schema.json"
    result = runner.invoke(app, ["schema", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text()) == json.loads(runner.invoke(app, ["schema"]).output)


def test_schema_help_explains_the_vs_code_yaml_modeline() -> None:
    result = runner.invoke(app, ["schema", "--help"])
    assert "yaml-language-server: $schema=" in result.output


# --- new -----------------------------------------------------------------------------------------


def test_new_creates_a_loadable_scenario_that_points_at_the_schema(tmp_path: Path) -> None:
    folder = tmp_path / "scenarios"
    result = runner.invoke(app, ["new", "my-flow_2", "--dir", str(folder)])
    assert result.exit_code == 0, result.output
    path = folder / "my-flow_2.yaml"
    assert path.read_text().splitlines()[0] == f"# yaml-language-server: $schema={SCHEMA_REF}"
    assert "docs/scenarios.md" in path.read_text()
    scenario = load_scenario(path)
    assert scenario.id == "my-flow_2" and set(scenario.actors) == {"customer", "mitra"}
    actions = [s.action for s in scenario.steps]
    for action in (
        "customer.request_payment",
        "test.force_confirm_payment",
        "mitra.expect_frame",
        "mitra.accept_offer",
        "customer.expect_frame",
        "customer.send_message",
    ):
        assert action in actions


def test_new_scenario_passes_when_run_on_the_embedded_target(tmp_path: Path) -> None:
    runner.invoke(app, ["new", "fresh", "--dir", str(tmp_path)])
    result = runner.invoke(app, ["scenario", str(tmp_path / "fresh.yaml"), "--report-dir", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert "PASSED fresh" in result.output


def test_new_refuses_to_overwrite_without_force_and_overwrites_with_it(tmp_path: Path) -> None:
    path = tmp_path / "taken.yaml"
    path.write_text("mine")
    refused = runner.invoke(app, ["new", "taken", "--dir", str(tmp_path)])
    assert refused.exit_code == 2 and "--force" in refused.output
    assert path.read_text() == "mine"
    forced = runner.invoke(app, ["new", "taken", "--dir", str(tmp_path), "--force"])
    assert forced.exit_code == 0, forced.output
    assert load_scenario(path).id == "taken"


@pytest.mark.parametrize("name", ["Bad", "-dash-first", "has.dot", "sub/dir", "spa ce", "_under"])
def test_new_rejects_a_name_that_is_not_a_scenario_id(tmp_path: Path, name: str) -> None:
    result = runner.invoke(app, ["new", "--dir", str(tmp_path), "--", name])
    assert result.exit_code == 2, result.output
    assert "is not a scenario id" in result.output
    assert list(tmp_path.iterdir()) == []


# --- the loader's "unreachable wait" check ----------------------------------------------------------


def _load(tmp_path: Path, text: str) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text(text)
    load_scenario(path)


def _error(tmp_path: Path, text: str) -> ScenarioFileError:
    with pytest.raises(ScenarioFileError) as caught:
        _load(tmp_path, text)
    return caught.value


HEAD = "name: x\nactors:\n  customer: {role: customer}\n  mitra: {role: mitra, foreground: true}\nsteps:\n"


def test_expect_frame_of_an_actor_never_in_the_foreground_is_a_file_error_with_its_line(tmp_path: Path) -> None:
    error = _error(tmp_path, HEAD + "  - customer.get_profile:\n  - customer.expect_frame: {type: pairing_matched}\n")
    assert error.line == 7
    assert error.message == (
        "steps.1 (customer.expect_frame): customer's app is in the background here (no socket): "
        "add customer.foreground before it"
    )


@pytest.mark.parametrize(
    "step", ["customer.expect_no_frame: {type: pairing_offer}", "customer.send_frame: {frame: {type: ping}}"]
)
def test_expect_no_frame_and_send_frame_also_need_the_app_in_the_foreground(tmp_path: Path, step: str) -> None:
    error = _error(tmp_path, HEAD + f"  - {step}\n")
    assert error.line == 6 and "customer's app is in the background here" in error.message


def test_foreground_true_in_the_actor_spec_makes_frame_steps_reachable(tmp_path: Path) -> None:
    _load(
        tmp_path, HEAD + "  - mitra.expect_frame: {type: pairing_offer}\n  - mitra.send_frame: {frame: {type: ping}}\n"
    )


def test_a_foreground_or_resume_step_before_makes_frame_steps_reachable(tmp_path: Path) -> None:
    _load(tmp_path, HEAD + "  - customer.foreground\n  - customer.expect_frame: {type: pairing_matched}\n")
    _load(tmp_path, HEAD + "  - customer.resume\n  - customer.expect_no_frame: {type: pairing_matched}\n")


def test_a_background_step_after_the_last_foreground_makes_a_wait_unreachable(tmp_path: Path) -> None:
    error = _error(tmp_path, HEAD + "  - mitra.background\n  - mitra.expect_frame: {type: pairing_offer}\n")
    assert error.line == 7 and error.message.startswith(
        "steps.1 (mitra.expect_frame): mitra's app is in the background"
    )


def test_resuming_after_a_background_step_makes_the_wait_reachable_again(tmp_path: Path) -> None:
    _load(tmp_path, HEAD + "  - mitra.background\n  - mitra.resume\n  - mitra.expect_frame: {type: pairing_offer}\n")


def test_every_unreachable_wait_of_a_file_is_reported(tmp_path: Path) -> None:
    error = _error(
        tmp_path,
        HEAD
        + "  - customer.expect_frame: {type: pairing_matched}\n  - mitra.background\n"
        + "  - mitra.expect_frame: {type: pairing_offer}\n",
    )
    assert [line for line, _ in error.problems] == [6, 8]


PARALLEL = """\
  - parallel:
      steps:
        - mitra.send_frame: {frame: {type: ping}}
        - customer.expect_frame: {type: pairing_matched}
"""


def test_a_parallel_branch_waiting_on_a_backgrounded_app_is_reported_at_the_parallel_step(tmp_path: Path) -> None:
    error = _error(tmp_path, HEAD + PARALLEL)
    assert error.line == 6
    assert error.message.startswith("steps.0 (customer.expect_frame): customer's app is in the background here")
    assert len(error.problems) == 1  # the mitra branch is fine: its spec says foreground


def test_parallel_branches_are_judged_with_the_state_before_the_parallel_step(tmp_path: Path) -> None:
    _load(tmp_path, HEAD + "  - customer.foreground\n" + PARALLEL)


def test_every_repository_scenario_has_its_waits_reachable(scenarios_dir: Path) -> None:
    result = runner.invoke(app, ["validate", str(scenarios_dir)])
    assert result.exit_code == 0, result.output
    assert "background here" not in result.output
