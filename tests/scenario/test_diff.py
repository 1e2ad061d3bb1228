"""Differential runs: the same scenario on two targets, compared by status, shape, delivery and frames."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from halo_sim.backend.hub import Encoded, encode
from halo_sim.backend.services.deps import Principal
from halo_sim.cli.app import app
from halo_sim.scenario.diff import Drift, Finding, compare, differential, exchanges, normalise_path
from halo_sim.scenario.loader import load_scenario
from halo_sim.scenario.report import ScenarioResult
from halo_sim.targets.embedded import EmbeddedTarget, start_embedded
from simkit.errors import Conflict

runner = CliRunner()

PROFILE_SCENARIO = """\
name: a customer with a device reads its profile
actors:
  customer: {role: customer, device: {notifications_enabled: true}}
steps:
  - customer.get_profile:
    expect: {status: 200}
"""


@pytest.fixture(scope="module")
def reference() -> Iterator[EmbeddedTarget]:
    target = start_embedded()
    yield target
    target.close()


@pytest.fixture
def other() -> Iterator[EmbeddedTarget]:
    target = start_embedded()
    yield target
    target.close()


def _after_every_reset(monkeypatch: pytest.MonkeyPatch, target: EmbeddedTarget, change: Callable[[Any], None]) -> None:
    """A reset re-wires the services, so an instance-level patch of one is re-applied after each one."""
    backend = target.stack.backend
    wire = backend._wire

    def rewired() -> None:
        wire()
        change(backend)

    monkeypatch.setattr(backend, "_wire", rewired)


def _diff(scenario_path: Path, reference: EmbeddedTarget, other: EmbeddedTarget) -> Drift:
    return asyncio.run(differential(load_scenario(scenario_path), reference, other, seed=7))


def test_a_scenario_against_a_second_embedded_target_has_no_drift(
    reference: EmbeddedTarget, other: EmbeddedTarget, scenarios_dir: Path
) -> None:
    drift = _diff(scenarios_dir / "ts-customer-05-01.yaml", reference, other)
    assert drift.reference.status == drift.other.status == "passed"
    assert drift.empty, drift.findings


def test_a_field_that_changes_json_type_is_found_with_path_field_and_both_types(
    reference: EmbeddedTarget, other: EmbeddedTarget, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def stringly(backend: Any) -> None:
        original = backend.devices.notifications_enabled
        backend.devices.notifications_enabled = lambda who: str(original(who)).lower()

    _after_every_reset(monkeypatch, other, stringly)
    (tmp_path / "profile.yaml").write_text(PROFILE_SCENARIO)
    drift = _diff(tmp_path / "profile.yaml", reference, other)
    assert drift.findings == [
        Finding("body_shape", "GET /api/customer/profile #1 body.notifications_enabled", "boolean", "string")
    ]


def test_the_reference_backend_is_untouched_by_a_patch_of_the_other(
    reference: EmbeddedTarget, other: EmbeddedTarget, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _after_every_reset(monkeypatch, other, lambda b: setattr(b.devices, "notifications_enabled", lambda who: "x"))
    (tmp_path / "profile.yaml").write_text(PROFILE_SCENARIO)
    drift = _diff(tmp_path / "profile.yaml", reference, other)
    profile = next(e for e in drift.reference.transcript if e.get("url", "").endswith("/api/customer/profile"))
    assert profile["response"]["notifications_enabled"] is True


def test_a_changed_status_code_is_found(
    reference: EmbeddedTarget, other: EmbeddedTarget, scenarios_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse_devices(backend: Any) -> None:
        def register(who: Principal, *args: Any) -> Any:
            raise Conflict("no devices today", code="DEVICE_CONFLICT")

        backend.devices.register = register

    _after_every_reset(monkeypatch, other, refuse_devices)
    drift = _diff(scenarios_dir / "ts-customer-05-01.yaml", reference, other)
    assert Finding("http_status", "POST /api/customer/devices #1", "200", "409") in drift.findings
    assert any(f.kind == "status" and f.reference == "passed" and f.other.startswith("failed: ") for f in drift)
    assert any(f.kind == "step" and "register_device" in f.where for f in drift)
    stopped = next(f for f in drift if f.kind == "exchange")
    assert stopped.where.endswith("exchange(s) the other run, failed, never made") and stopped.other == "not made"
    assert "POST /api/customer/payments #1" in stopped.reference


def test_a_ws_frame_the_other_target_does_not_send_is_found_with_the_order_of_both(
    reference: EmbeddedTarget, other: EmbeddedTarget, scenarios_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = other.stack.backend.hub
    send = hub.send

    async def without_searching(user: Any, frame: dict[str, Any] | Encoded) -> int:
        return 0 if encode(frame).frame.get("type") == "pairing_searching" else await send(user, frame)

    monkeypatch.setattr(hub, "send", without_searching)
    drift = _diff(scenarios_dir / "ts-customer-05-01.yaml", reference, other)
    assert drift.other.status == "passed"  # the scenario does not wait for it: only the diff notices
    assert drift.findings == [
        Finding("ws_frames", "ws customer frames from #1", "pairing_searching, pairing_matched", "pairing_matched")
    ]


def test_a_different_delivered_via_is_found(reference: EmbeddedTarget, scenarios_dir: Path) -> None:
    ours = asyncio.run(
        differential(load_scenario(scenarios_dir / "ts-customer-05-01.yaml"), reference, reference, seed=3)
    )
    assert ours.empty
    theirs = _copy_with_delivery(ours.other, "ws")
    findings = compare(ours.reference, theirs)
    assert findings == [
        Finding("delivered_via", "POST /internal/_test/send-chat-message-as-mitra #1 body.delivered_via", "fcm", "ws")
    ]


def _copy_with_delivery(result: ScenarioResult, channel: str) -> ScenarioResult:
    entries = []
    for entry in result.transcript:
        response = entry.get("response")
        if isinstance(response, dict) and "delivered_via" in response:
            entry = {**entry, "response": {**response, "delivered_via": channel}}
        entries.append(entry)
    return ScenarioResult(**{**result.__dict__, "transcript": entries})


def test_ids_in_paths_are_normalised_so_both_runs_share_keys() -> None:
    assert (
        normalise_path("/api/mitra/offers/99db2aad-4132-4554-9563-748fbdd4708c/accept")
        == "/api/mitra/offers/{id}/accept"
    )
    assert (
        normalise_path("/_fake/tokens/46d8545943d5a41d23224315e4958b78c43713cc/unregister")
        == "/_fake/tokens/{id}/unregister"
    )
    assert normalise_path("/internal/_test/reset-phone/+6281234567890") == "/internal/_test/reset-phone/{id}"
    assert normalise_path("/api/customer/payments/pending") == "/api/customer/payments/pending"


def _http(method: str, url: str, status: int, response: Any) -> dict[str, Any]:
    return {"kind": "http", "method": method, "url": url, "status": status, "response": response}


def test_polling_gets_count_once_and_values_do_not_matter_only_shapes() -> None:
    ours = [
        _http("GET", "http://a/_fake/inbox?token=1", 200, {"messages": []}),
        _http("GET", "http://a/_fake/inbox?token=1", 200, {"messages": [{"id": "x", "n": 1}]}),
    ]
    theirs = [_http("GET", "http://b/_fake/inbox?token=2", 200, {"messages": [{"id": "y", "n": 5}]})]
    assert len(exchanges(ours)) == 1
    mine = ScenarioResult("s", "s", "s.yaml", "a", 1, transcript=ours)
    yours = ScenarioResult("s", "s", "s.yaml", "b", 1, transcript=theirs)
    assert compare(mine, yours) == []


def test_the_same_answers_in_another_order_are_not_drift_but_different_ones_are() -> None:
    race = [
        _http("POST", "http://a/api/mitra/offers/1234abcd/accept", 200, {"status": "active"}),
        _http("POST", "http://a/api/mitra/offers/1234abcd/accept", 409, {"error": "OFFER_TAKEN"}),
    ]
    mine = ScenarioResult("s", "s", "s.yaml", "a", 1, transcript=race)
    reordered = ScenarioResult("s", "s", "s.yaml", "b", 1, transcript=race[::-1])
    assert compare(mine, reordered) == []
    both_won = ScenarioResult("s", "s", "s.yaml", "b", 1, transcript=[race[0], race[0]])
    assert Finding("http_status", "POST /api/mitra/offers/{id}/accept #2", "409", "200") in compare(mine, both_won)


def test_cli_diff_exits_0_without_drift(scenarios_dir: Path) -> None:
    result = runner.invoke(app, ["diff", "ts-customer-05-01", "--against", "embedded", "-d", str(scenarios_dir)])
    assert result.exit_code == 0, result.output
    assert "no drift" in result.output


def test_cli_diff_exits_1_and_shows_the_findings_on_drift(scenarios_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import halo_sim.targets.resolve as resolve

    real_open = resolve.open_target

    def open_target(name: str, targets_file: Path | None = None) -> Any:
        if name != "drifty":
            return real_open(name, targets_file)
        target = start_embedded()
        target.name = "drifty"
        send = target.stack.backend.hub.send

        async def without_searching(user: Any, frame: dict[str, Any] | Encoded) -> int:
            return 0 if encode(frame).frame.get("type") == "pairing_searching" else await send(user, frame)

        target.stack.backend.hub.send = without_searching  # type: ignore[method-assign]
        return target

    monkeypatch.setattr(resolve, "open_target", open_target)
    result = runner.invoke(
        app, ["diff", "ts-customer-05-01", "--against", "drifty", "-d", str(scenarios_dir)], terminal_width=200
    )
    assert result.exit_code == 1, result.output
    assert "ws_frames" in result.output and "pairing_searching" in result.output
    assert "1 finding(s)" in result.output


def test_cli_diff_exits_2_on_an_unknown_target_or_scenario(scenarios_dir: Path, tmp_path: Path) -> None:
    unknown_target = runner.invoke(
        app,
        [
            "diff",
            "ts-customer-05-01",
            "--against",
            "nowhere",
            "-d",
            str(scenarios_dir),
            "--targets",
            str(tmp_path / "missing.yaml"),
        ],
    )
    assert unknown_target.exit_code == 2, unknown_target.output
    unknown_scenario = runner.invoke(app, ["diff", "no-such-flow", "--against", "embedded", "-d", str(scenarios_dir)])
    assert unknown_scenario.exit_code == 2, unknown_scenario.output
    assert "no scenario with this id" in unknown_scenario.output


def test_the_runners_extra_cleanup_on_a_live_target_and_ids_in_field_names_are_not_drift() -> None:
    ours = [
        _http(
            "GET",
            "http://a/internal/_test/ws-connection-state",
            200,
            {"by_user": {"mitra:99db2aad-4132-4554-9563-748fbdd4708c": {"connected": True}}},
        ),
        _http("POST", "http://a/internal/_test/reset-phone", 200, {"deleted": True}),
    ]
    theirs = [
        _http(
            "GET",
            "http://b/internal/_test/ws-connection-state",
            200,
            {"by_user": {"mitra:0b5c7f4e-1111-4222-8333-444455556666": {"connected": True}}},
        ),
        _http("POST", "http://b/internal/_test/reset-phone", 200, {"deleted": True}),
        _http("GET", "http://b/api/mitra/profile", 200, {"active_session_id": None}),
        _http("POST", "http://b/api/mitra/status", 200, {"is_online": False}),
    ]
    mine = ScenarioResult("s", "s", "s.yaml", "embedded", 1, transcript=ours)
    yours = ScenarioResult("s", "s", "s.yaml", "staging", 1, transcript=theirs)
    assert compare(mine, yours) == []
    renamed = {"by_user": {"mitra:0b5c7f4e-1111-4222-8333-444455556666": {"online": True}}}
    yours.transcript[0] = {**theirs[0], "response": renamed}
    assert Finding(
        "body_shape",
        "GET /internal/_test/ws-connection-state #1 body.by_user.mitra:{id}.connected",
        "boolean",
        "absent",
    ) in compare(mine, yours)


def test_fake_xendits_delivery_log_is_other_runs_data_on_a_shared_serve_so_only_its_status_counts() -> None:
    paid = {"callbacks": [{"body": {"status": "PAID", "paid_amount": 25000}}]}
    earlier_run = {"callbacks": [{"body": {"status": "EXPIRED"}}, {"body": {"status": "PAID", "paid_amount": 1}}]}
    mine = ScenarioResult("s", "s", "s.yaml", "a", 1, transcript=[_http("GET", "http://a/_fake/callbacks", 200, paid)])
    theirs = [_http("GET", "http://b/_fake/callbacks", 200, earlier_run)]
    assert compare(mine, ScenarioResult("s", "s", "s.yaml", "b", 1, transcript=theirs)) == []
    broken = [_http("GET", "http://b/_fake/callbacks", 500, earlier_run)]
    assert [f.kind for f in compare(mine, ScenarioResult("s", "s", "s.yaml", "b", 1, transcript=broken))] == [
        "http_status"
    ]
