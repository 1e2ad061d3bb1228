"""Template variables are checked before a run: a misspelled one is a problem with its line and a suggestion."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from halo_sim.cli.app import app
from halo_sim.scenario.actor import Actor
from halo_sim.scenario.schema import ActorSpec
from halo_sim.scenario.variables import ACTOR_FIELDS, unknown_variables

SCENARIO = """name: typo
actors:
  customer: {role: customer}
steps:
  - customer.request_payment: {duration_minutes: 30}
    save: {payment_id: body.id}
  - customer.get_payment: {payment_request_id: "{{ payment_id }}"}
    expect: {body: {customer_phone: "{{ customer.fcm_tokn }}"}}
"""


def test_validate_reports_an_unknown_actor_attribute_with_its_line_and_did_you_mean(tmp_path: Path) -> None:
    path = tmp_path / "typo.yaml"
    path.write_text(SCENARIO)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert f"{path}:7:" in text
    assert "unknown variable customer.fcm_tokn; did you mean customer.fcm_token?" in text


def test_a_misspelled_saved_name_gets_a_suggestion_and_known_names_pass() -> None:
    found = unknown_variables(
        ["paymnt_id", "payment_id", "customer.phone", "customer.id", "faker.first_name", "seed"],
        ["customer"],
        ["payment_id"],
    )
    assert found == ["undefined variable {{ paymnt_id }} (not saved by an earlier step); did you mean payment_id?"]


def test_the_known_actor_attributes_are_what_an_actor_offers_templates() -> None:
    actor = Actor("c", ActorSpec(role="customer"), "+62", "C", "tok")
    assert set(ACTOR_FIELDS) == set(actor.view())
