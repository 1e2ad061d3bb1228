"""docs/scenarios.md carries the engine's reference tables, generated, never hand-edited."""

from __future__ import annotations

from pathlib import Path

from halo_sim.scenario import docs
from halo_sim.scenario.steps import REGISTRY
from halo_sim.targets.routes import DEFAULT_ROUTES

SCENARIOS_MD = Path(__file__).resolve().parents[2] / "docs" / "scenarios.md"


def test_docs_scenarios_md_is_generated_from_the_registries() -> None:
    assert docs.is_current(SCENARIOS_MD), f"docs/scenarios.md is out of date with the engine; run: {docs.COMMAND}"


def test_every_step_type_documents_the_shape_of_its_result() -> None:
    assert docs.missing_results() == [], "end these step runners' docstrings with a 'Result: ...' line"


def test_the_step_table_names_every_step_type_with_its_arguments_and_result() -> None:
    table = docs.step_table()
    for entry in REGISTRY.values():
        row = next(line for line in table.splitlines() if line.startswith(f"| `{docs.step_title(entry)}`"))
        for name, info in entry.args.model_fields.items():
            assert f"`{name}`" in row and (f"**`{name}`" in row) == info.is_required(), (row, name)
        assert docs.docstring_parts(entry)[1].replace("|", "\\|") in row


def test_the_action_table_names_every_route_with_its_request() -> None:
    table = docs.action_table()
    for key, route in DEFAULT_ROUTES.items():
        assert f"| `{key}` | `{route.method} {route.path}`" in table


def test_the_reference_carries_the_contract_catalogues() -> None:
    text = SCENARIOS_MD.read_text(encoding="utf-8")
    assert docs.contract_docs.frame_table() in text and docs.contract_docs.code_table() in text


def test_check_mode_reports_a_stale_file_and_rewriting_fixes_it(tmp_path: Path) -> None:
    stale = tmp_path / "scenarios.md"
    stale.write_text(SCENARIOS_MD.read_text(encoding="utf-8").replace("`fcm.expect_push`", "`fcm.gone`"))
    assert docs.main([str(stale), "--check"]) == 1
    assert docs.main([str(stale)]) == 0 and docs.is_current(stale)
