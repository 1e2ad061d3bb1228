"""``parallel`` names its winner, and later steps continue as the winning (or losing) actor."""

from __future__ import annotations

from pathlib import Path

import pytest

from halo_sim.scenario.loader import load_scenario
from halo_sim.scenario.steps import REGISTRY
from simkit.errors import ScenarioFileError
from tests.scenario.conftest import RunYaml

RACE = """\
name: race
actors:
  customer: {role: customer, foreground: true}
  mitra_a: {role: mitra, online: true, foreground: true}
  mitra_b: {role: mitra, online: true, foreground: true}
steps:
  - customer.request_payment: {duration_minutes: 15}
    save: {payment_id: body.id}
  - test.force_confirm_payment: {payment_request_id: "{{ payment_id }}"}
  - mitra_a.expect_frame: {type: pairing_offer}
    save: {session_id: frame.session_id}
  - mitra_b.expect_frame: {type: pairing_offer}
  - parallel:
      steps:
        - mitra_a.accept_offer: {session_id: "{{ session_id }}"}
        - mitra_b.accept_offer: {session_id: "{{ session_id }}"}
"""
SAVE = "    save: {winner: winner_actor, loser: loser_actors.0}\n"
AFTER = """\
  - "{{ winner }}.send_message": {session_id: "{{ session_id }}", text: halo}
    expect: {status: 201}
  - "{{ loser }}.expect_frame": {type: offer_taken, match: {session_id: "{{ session_id }}"}}
  - "{{ loser }}.send_message": {session_id: "{{ session_id }}", text: halo}
    expect: {status: 404}
"""


def _error(tmp_path: Path, text: str) -> ScenarioFileError:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario(path)
    return caught.value


def test_the_first_2xx_branch_wins_and_the_steps_after_continue_as_its_actor(run_yaml: RunYaml) -> None:
    result = run_yaml(RACE + SAVE + AFTER)
    assert result.status == "passed", result.failure_text()
    race = result.steps[-4]
    assert race.summary.startswith("1× 200, 1× 409; won by mitra_")
    winner = race.summary.rsplit(" ", 1)[1]
    loser = {"mitra_a": "mitra_b", "mitra_b": "mitra_a"}[winner]
    assert result.steps[-3].summary.startswith(f"as {winner}: 201")
    assert result.steps[-2].summary.startswith(f"as {loser}: ")
    assert result.steps[-1].summary.startswith(f"as {loser}: 404")


def test_the_result_has_the_winner_its_result_and_the_losers(run_yaml: RunYaml) -> None:
    known_outcome = """\
  - mitra_a.accept_offer: {session_id: "{{ session_id }}"}
  - parallel:
      steps:
        - mitra_a.get_session: {session_id: "{{ session_id }}"}
        - mitra_b.accept_offer: {session_id: "{{ session_id }}"}
    expect:
      winner: 0
      won: {status: 200, body: {status: active, mitra_id: "{{ mitra_a.id }}"}}
      winner_actor: mitra_a
      lost: [{status: 409, body: {error: OFFER_TAKEN}}]
      loser_actors: [mitra_b]
      status_counts: {"200": 1, "409": 1}
"""
    result = run_yaml(RACE.split("  - parallel:")[0] + known_outcome)
    assert result.status == "passed", result.failure_text()


def test_a_winner_predicate_chooses_which_branch_won(run_yaml: RunYaml) -> None:
    text = RACE + "      winner: {status: 409, body: {error: OFFER_TAKEN}}\n"
    text += "    expect: {won: {status: 409}, lost: [{status: 200}]}\n"
    text += SAVE + '  - "{{ loser }}.send_message": {session_id: "{{ session_id }}", text: halo}\n'
    text += "    expect: {status: 201}\n"  # the loser by this predicate is the one that got the session
    result = run_yaml(text)
    assert result.status == "passed", result.failure_text()


def test_when_no_branch_wins_the_winner_is_none_and_a_templated_actor_says_so(run_yaml: RunYaml) -> None:
    text = RACE + "      winner: {status: 418}\n    expect: {winner: null, won: null, winner_actor: null}\n"
    result = run_yaml(text + SAVE + '  - "{{ winner }}.get_profile":\n')
    assert result.status == "failed"
    assert "{{ winner }} is None, not an actor of this scenario" in result.reason
    assert "did no branch of the race win?" in result.reason


def test_a_templated_actor_must_be_able_to_do_the_action_as_every_racer(tmp_path: Path) -> None:
    text = """\
name: x
actors:
  customer: {role: customer}
  mitra: {role: mitra}
steps:
  - parallel:
      steps:
        - customer.get_profile:
        - mitra.get_profile:
    save: {first: winner_actor}
  - "{{ first }}.heartbeat":
"""
    error = _error(tmp_path, text)
    assert error.line == 11
    assert (
        "steps.1 ({{ first }}.heartbeat as customer): unknown action 'heartbeat' for customer (customer)"
        in error.message
    )
    assert len(error.problems) == 1  # the mitra racer can


def test_a_templated_actor_names_a_variable_saved_before_it(tmp_path: Path) -> None:
    text = "name: x\nactors: {m: {role: mitra}}\nsteps:\n  - m.get_profile:\n  - '{{ winer }}.get_profile':\n"
    error = _error(tmp_path, text)
    assert error.line == 5
    assert "undefined variable {{ winer }}" in error.message


def test_a_name_saved_from_elsewhere_may_be_any_actor_one_that_can_do_it_suffices(tmp_path: Path) -> None:
    head = "name: x\nactors: {c: {role: customer}, m: {role: mitra}}\nsteps:\n"
    head += "  - m.get_profile:\n    save: {who: body.id}\n"
    path = tmp_path / "ok.yaml"
    path.write_text(head + "  - '{{ who }}.heartbeat':\n")
    load_scenario(path)
    error = _error(tmp_path, head + "  - '{{ who }}.fly':\n")
    assert error.line == 6 and "unknown action 'fly'" in error.message


def test_parallel_docstring_names_its_result_keys() -> None:
    doc = (REGISTRY[("parallel", "")].run.__doc__ or "").strip().splitlines()[-1].strip()
    assert doc == "Result: {results, status_counts, winner, won, winner_actor, lost, loser_actors}"


def test_a_templated_wait_is_checked_for_every_racers_app(tmp_path: Path) -> None:
    text = """\
name: x
actors:
  a: {role: mitra, foreground: true}
  b: {role: mitra}
steps:
  - parallel:
      steps:
        - a.get_profile:
        - b.get_profile:
    save: {first: winner_actor}
  - "{{ first }}.expect_frame": {type: pairing_offer}
"""
    error = _error(tmp_path, text)
    assert error.line == 11 and len(error.problems) == 1
    assert "steps.1 ({{ first }}.expect_frame): b's app is in the background here" in error.message
    path = tmp_path / "ok.yaml"
    path.write_text(
        text.replace('  - "{{ first }}.expect_frame"', '  - "{{ first }}.foreground"\n  - "{{ first }}.expect_frame"')
    )
    load_scenario(path)
