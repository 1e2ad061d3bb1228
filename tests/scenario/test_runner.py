"""The runner against the embedded target: verdicts, readable diffs, skips, crash reports."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from halo_sim.scenario.loader import load_scenario
from halo_sim.scenario.report import ScenarioResult
from halo_sim.scenario.runner import default_seed, run_scenario, setup_steps
from halo_sim.scenario.schema import Scenario
from halo_sim.targets.base import Target
from halo_sim.targets.embedded import EmbeddedTarget, start_embedded


@pytest.fixture(scope="module")
def target() -> Iterator[EmbeddedTarget]:
    embedded = start_embedded()
    yield embedded
    embedded.close()


def _run(scenario: Scenario, target: Target, seed: int | None = None) -> ScenarioResult:
    return asyncio.run(run_scenario(scenario, target, seed=seed))


def test_wrong_expectation_fails_with_a_readable_diff(data_dir: Path, target: EmbeddedTarget) -> None:
    result = _run(load_scenario(data_dir / "wrong_expectation.yaml"), target)
    assert result.status == "failed"
    failed = result.failed_step
    assert failed is not None and failed.title == "test.send_chat_message_as_mitra"
    assert "  ✗ body.delivered_via: expected 'ws', got 'fcm'" in failed.details
    text = result.failure_text()
    assert f"{data_dir / 'wrong_expectation.yaml'}:13" in text and "expected 'ws', got 'fcm'" in text


def test_steps_after_a_failure_do_not_run(tmp_path: Path, target: EmbeddedTarget) -> None:
    path = tmp_path / "stop.yaml"
    path.write_text(
        "name: x\nactors: {c: {role: customer}}\nsteps:\n"
        "  - http: {path: /health}\n    expect: {status: 500}\n  - c.get_profile:\n"
    )
    result = _run(load_scenario(path), target)
    assert [s.title for s in result.steps if s.phase == "step"] == ["http"]


def test_missing_capability_skips_with_the_reason(data_dir: Path, target: EmbeddedTarget) -> None:
    bare = Target(name="bare", base_url=target.base_url, ws_url=target.ws_url, capabilities=frozenset())
    result = _run(load_scenario(data_dir / "passing_short.yaml"), bare)
    assert result.status == "skipped"
    assert "lacks otp_readable" in result.reason


def test_a_live_target_without_enough_test_mitras_skips_with_the_reason(data_dir: Path, target: EmbeddedTarget) -> None:
    live = Target(
        name="live",
        base_url=target.base_url,
        ws_url=target.ws_url,
        live=True,
        capabilities=frozenset({"test_endpoints", "otp_readable"}),
        mitras=(),
    )
    result = _run(load_scenario(data_dir / "wrong_expectation.yaml"), live)
    assert result.status == "skipped" and "too few test mitras" in result.reason


def test_a_live_target_gets_a_fresh_random_seed_unless_one_is_given(data_dir: Path, target: EmbeddedTarget) -> None:
    live = Target(name="live", base_url=target.base_url, ws_url=target.ws_url, live=True)
    scenario = load_scenario(data_dir / "passing_short.yaml")
    assert len({default_seed(scenario, live) for _ in range(5)}) > 1
    assert default_seed(scenario.model_copy(update={"seed": 9}), live) == 9


def test_a_crash_mid_run_is_an_error_with_a_written_report(
    tmp_path: Path, target: EmbeddedTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def crash(*_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("halo_sim.scenario.runner.perform", crash)  # a bug in a step, not a target problem
    scenario = load_scenario(Path(__file__).parent / "data" / "passing_short.yaml")
    result = _run(scenario, target)
    assert result.status == "error"
    assert result.reason == "RuntimeError: boom"
    report = json.loads(result.write(tmp_path).read_text())
    assert report["status"] == "error" and report["steps"][0]["details"]


def test_same_seed_gives_the_same_actors_and_ids(data_dir: Path, target: EmbeddedTarget) -> None:
    scenario = load_scenario(data_dir / "passing_short.yaml")
    first, second = _run(scenario, target, seed=7), _run(scenario, target, seed=7)
    assert first.status == second.status == "passed"
    assert first.steps[0].summary == second.steps[0].summary  # includes the customer id


def test_default_seed_is_stable_per_scenario_id(data_dir: Path) -> None:
    scenario = load_scenario(data_dir / "passing_short.yaml")
    assert default_seed(scenario) == default_seed(scenario.model_copy())
    assert default_seed(scenario.model_copy(update={"seed": 5})) == 5


def test_actor_spec_becomes_visible_setup_steps(scenarios_dir: Path) -> None:
    steps = setup_steps(load_scenario(scenarios_dir / "ts-customer-05-02.yaml"))
    assert [s.action for s in steps] == [
        "customer.login",
        "customer.foreground",
        "mitra.login",
        "mitra.register_device",
        "mitra.go_online",
        "mitra.foreground",
    ]


def test_transcript_records_http_exchanges_and_frames(scenarios_dir: Path, target: EmbeddedTarget) -> None:
    result = _run(load_scenario(scenarios_dir / "ts-customer-05-01.yaml"), target)
    assert result.status == "passed"
    kinds = {entry["kind"] for entry in result.transcript}
    assert {"http", "ws_open", "ws_close"} <= kinds
    assert any(f["type"] == "pairing_offer" for f in result.frames["mitra"])


def test_a_required_step_the_target_cannot_run_fails_instead_of_skipping(
    tmp_path: Path, target: EmbeddedTarget
) -> None:
    path = tmp_path / "required.yaml"
    path.write_text("name: x\nactors: {}\nsteps:\n  - test.state:\n    required: true\n")
    no_dump = Target(
        name="no-dump", base_url=target.base_url, ws_url=target.ws_url, capabilities=frozenset({"test_endpoints"})
    )
    result = _run(load_scenario(path), no_dump)
    assert result.status == "failed"
    assert "required step cannot run" in result.reason and "state_dump" in result.reason


def test_faults_a_scenario_injects_into_a_live_targets_fake_xendit_end_with_it(
    tmp_path: Path, target: EmbeddedTarget
) -> None:
    """The next scenario on a shared serve would otherwise get every callback twice."""
    path = tmp_path / "faulty.yaml"
    path.write_text("name: x\nsteps:\n  - xendit.faults: {duplicate: true}\n")
    live = Target(
        name="live",
        base_url=target.base_url,
        ws_url=target.ws_url,
        live=True,
        capabilities=frozenset({"xendit_fake"}),
        xendit_url=target.xendit_url,
    )
    assert _run(load_scenario(path), live).status == "passed"
    assert target.stack.xendit.faults()["duplicate"] is False
    try:
        assert _run(load_scenario(path), target).status == "passed"
        assert target.stack.xendit.faults()["duplicate"] is True  # embedded: the next reset clears them
    finally:
        target.stack.xendit.clear_faults()


# --- matchers and the status mismatch ------------------------------------------------------------


def test_matchers_check_bodies_frames_and_the_state_dump_end_to_end(data_dir: Path, target: EmbeddedTarget) -> None:
    result = _run(load_scenario(data_dir / "matchers.yaml"), target)
    assert result.status == "passed", result.failure_text()


def test_a_failing_matcher_names_the_operator_and_the_value(tmp_path: Path, target: EmbeddedTarget) -> None:
    path = tmp_path / "gt.yaml"
    path.write_text(
        "name: x\nactors: {c: {role: customer}}\nsteps:\n"
        "  - c.request_payment: {duration_minutes: 30}\n"
        "    expect: {body: {amount: {$gt: 1000000}, status: {$not: pending}, metadata: {$exists: false}}}\n"
    )
    failed = _run(load_scenario(path), target).failed_step
    assert failed is not None
    assert failed.details[:3] == [
        "  ✗ body.amount: $gt 1000000 failed: got 25000",
        "  ✗ body.status: $not 'pending' failed: got 'pending' (it matches)",
        "  ✗ body.metadata: expected absent ($exists: false), got {}",
    ]


def test_a_wrong_status_shows_the_body_received_not_every_key_it_lacks(tmp_path: Path, target: EmbeddedTarget) -> None:
    path = tmp_path / "status.yaml"
    path.write_text(
        "name: x\nactors: {c: {role: customer}}\nsteps:\n"
        "  - c.get_payment: {payment_request_id: nope}\n"
        "    expect: {status: 200, body: {id: nope, status: pending, amount: 25000}}\n"
    )
    failed = _run(load_scenario(path), target).failed_step
    assert failed is not None
    assert failed.details[0] == "  ✗ status: expected 200, got 404"
    assert failed.details[1] == '  body received: {"error": "NOT_FOUND", "message": "payment_request nope not found"}'
    assert len(failed.details) == 2 and not any("missing" in line for line in failed.details)
