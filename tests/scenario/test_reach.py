"""Reaching the fakes (``http`` with ``service``), raw webhooks and per-scenario backend settings.

Through the embedded target, and through a plain :class:`Target` on the same servers that never
resets the backend between runs: what a shared ``halo-sim serve`` is, where only the runner's
restore puts the settings back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from halo_sim.contract.settings import SETTINGS
from halo_sim.scenario import settings as settings_module
from halo_sim.scenario.loader import load_scenario
from halo_sim.scenario.report import ScenarioResult
from halo_sim.scenario.runner import run_scenario
from halo_sim.targets.base import Target
from halo_sim.targets.embedded import EmbeddedTarget, start_embedded
from simkit.errors import ScenarioFileError

SETTINGS_URL = "/internal/_test/settings"


@pytest.fixture(scope="module")
def target() -> Iterator[EmbeddedTarget]:
    embedded = start_embedded()
    yield embedded
    embedded.close()


@pytest.fixture
def shared(target: EmbeddedTarget) -> Target:
    """The embedded servers as a live target sees them: no reset before a scenario."""
    return Target(
        name="shared",
        base_url=target.base_url,
        ws_url=target.ws_url,
        capabilities=target.capabilities,
        fcm_url=target.fcm_url,
        xendit_url=target.xendit_url,
        xendit_callback_token=target.xendit_callback_token,
        live=True,
    )


def _scenario(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


def _run(path: Path, target: Target) -> ScenarioResult:
    return asyncio.run(run_scenario(load_scenario(path), target))


def _settings(target: Target) -> dict[str, object]:
    return httpx.get(target.base_url + SETTINGS_URL).json()  # type: ignore[no-any-return]


# --- http: the fakes' own APIs ------------------------------------------------------------------------


def test_http_reaches_fake_xendits_control_plane_and_invoice_api(tmp_path: Path, target: EmbeddedTarget) -> None:
    path = _scenario(
        tmp_path,
        "name: x\nactors: {c: {role: customer}}\nsteps:\n"
        "  - c.request_payment: {duration_minutes: 15}\n    save: {invoice: body.xendit_invoice_id}\n"
        "  - http: {service: xendit, path: '/v2/invoices/{{ invoice }}', xendit_key: true}\n"
        "    expect: {status: 200, body: {id: '{{ invoice }}', status: PENDING, amount: 15000}}\n"
        "  - http: {service: xendit, path: '/v2/invoices/{{ invoice }}'}\n"
        "    expect: {status: 401, body: {error_code: INVALID_API_KEY}}\n"
        "  - http: {service: xendit, method: POST, path: '/_fake/invoices/{{ invoice }}/pay', json_body: {}}\n"
        "    expect: {status: 200, body: {invoice: {status: PAID}}}\n",
    )
    result = _run(path, target)
    assert result.status == "passed", result.failure_text()


def test_http_reaches_fake_fcms_send_api_and_inbox(tmp_path: Path, target: EmbeddedTarget) -> None:
    send = {"message": {"token": "tok-reach", "notification": {"title": "t", "body": "b"}}}
    path = _scenario(
        tmp_path,
        "name: x\nsteps:\n"
        f"  - http: {{service: fcm, method: POST, path: /v1/projects/halo-dev/messages:send, json_body: {send},"
        " headers: {Authorization: Bearer any}}\n"
        "    expect: {status: 200}\n"
        "  - http: {service: fcm, path: /_fake/inbox}\n"
        "    expect: {status: 200}\n"
        "    save: {inbox: body}\n",
    )
    result = _run(path, target)
    assert result.status == "passed", result.failure_text()
    assert "tok-reach" in str(result.transcript[-1])


@pytest.mark.parametrize(("service", "capability"), [("xendit", "xendit_fake"), ("fcm", "fcm_inbox")])
def test_a_target_without_the_fakes_url_skips_the_http_step(
    tmp_path: Path, target: EmbeddedTarget, service: str, capability: str
) -> None:
    bare = Target(name="bare", base_url=target.base_url, ws_url=target.ws_url, capabilities=frozenset())
    path = _scenario(tmp_path, f"name: x\nsteps:\n  - http: {{service: {service}, path: /_fake/state}}\n")
    result = _run(path, bare)
    assert result.status == "skipped" and f"lacks {capability}" in result.reason


def test_a_fake_capability_without_its_url_skips_too(tmp_path: Path, target: EmbeddedTarget) -> None:
    claimed = Target(
        name="claims", base_url=target.base_url, ws_url=target.ws_url, capabilities=frozenset({"fcm_inbox"})
    )
    result = _run(_scenario(tmp_path, "name: x\nsteps:\n  - http: {service: fcm, path: /_fake/inbox}\n"), claimed)
    assert result.status == "skipped" and "has no fcm_url" in result.reason


def test_the_xendit_key_never_shows_in_what_a_run_records(tmp_path: Path, target: EmbeddedTarget) -> None:
    path = _scenario(
        tmp_path,
        "name: x\nsteps:\n  - http: {service: xendit, path: /v2/invoices, xendit_key: true,"
        " query: {echo: '{{ secrets.xendit_secret_key }}'}}\n    expect: {status: 599}\n",
    )
    result = _run(path, target)
    assert result.status == "failed" and target.xendit_secret_key
    assert target.xendit_secret_key not in str(result.transcript) + str([s.summary for s in result.steps])


def test_the_xendit_key_needs_a_target_that_knows_it(tmp_path: Path, shared: Target) -> None:
    path = _scenario(tmp_path, "name: x\nsteps:\n  - http: {service: xendit, path: /v2/invoices, xendit_key: true}\n")
    result = _run(path, shared)
    assert result.status == "skipped" and "no Xendit secret key" in result.reason


def test_http_rejects_an_unknown_service_at_load_time(tmp_path: Path) -> None:
    path = _scenario(tmp_path, "name: x\nsteps:\n  - http: {service: stripe, path: /x}\n")
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario(path)
    assert caught.value.line == 3 and "service" in str(caught.value)


# --- fire_webhook: fields, drop, raw ------------------------------------------------------------------------


def test_fire_webhook_sends_the_raw_body_byte_for_byte_with_the_valid_token(
    tmp_path: Path, target: EmbeddedTarget
) -> None:
    path = _scenario(
        tmp_path,
        "name: x\nsteps:\n  - xendit.fire_webhook: {external_id: p-1, raw: '{\"id\": '}\n"
        "    expect: {status: 400, body: {error: VALIDATION_ERROR}}\n",
    )
    result = _run(path, target)
    assert result.status == "passed", result.failure_text()
    sent = next(e for e in result.transcript if e.get("kind") == "http" or "request" in e)
    assert sent["request"] == '{"id": '


def test_fire_webhook_fields_override_and_drop_removes(tmp_path: Path, target: EmbeddedTarget) -> None:
    path = _scenario(
        tmp_path,
        "name: x\nsteps:\n  - xendit.fire_webhook: {external_id: p-1, fields: {currency: USD, extra: 1}, "
        "drop: [paid_amount, bank_code]}\n"
        "    expect: {status: 200, body: {result: ignored, reason: UNKNOWN_PAYMENT}}\n",
    )
    result = _run(path, target)
    assert result.status == "passed", result.failure_text()
    sent = str(next(e for e in result.transcript if "request" in e)["request"])
    assert '"currency": "USD"' in sent and '"extra": 1' in sent
    assert '"paid_amount"' not in sent and '"bank_code"' not in sent and '"fees_paid_amount"' in sent


@pytest.mark.parametrize(
    ("args", "why"),
    [("{status: PAID}", "external_id is required"), ("{raw: '{}', drop: [id]}", "fields and drop do not apply")],
)
def test_fire_webhook_arguments_that_cannot_make_a_body_fail_at_load_time(tmp_path: Path, args: str, why: str) -> None:
    path = _scenario(tmp_path, f"name: x\nsteps:\n  - http: {{path: /health}}\n  - xendit.fire_webhook: {args}\n")
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario(path)
    assert caught.value.line == 4 and why in str(caught.value)


def test_a_raw_body_needs_no_external_id(tmp_path: Path, target: EmbeddedTarget) -> None:
    path = _scenario(tmp_path, "name: x\nsteps:\n  - xendit.fire_webhook: {raw: '[]'}\n    expect: {status: 400}\n")
    result = _run(path, target)
    assert result.status == "passed", result.failure_text()


# --- settings: load-time checks ------------------------------------------------------------------------------


def test_an_unknown_setting_is_a_file_line_error(tmp_path: Path) -> None:
    path = _scenario(
        tmp_path,
        "name: x\nsettings:\n  max_pairing_attempts: 1\n  max_paring_atempts: 2\nsteps:\n  - http: {path: /health}\n",
    )
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario(path)
    assert caught.value.line == 4 and "settings.max_paring_atempts: unknown setting (known: " in str(caught.value)
    assert "max_pairing_attempts" in str(caught.value)


def test_a_setting_of_the_wrong_type_is_a_file_line_error(tmp_path: Path) -> None:
    path = _scenario(tmp_path, "name: x\nsettings:\n  pairing_timeout_s: soon\nsteps:\n  - http: {path: /health}\n")
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario(path)
    assert caught.value.line == 3 and "settings.pairing_timeout_s" in str(caught.value)


# --- settings: applied, restored, skipped ------------------------------------------------------------------------

PINNED = "name: x\nsettings: {max_pairing_attempts: 1, support_telegram: 'tg://resolve?domain=x'}\nsteps:\n"


def test_settings_apply_before_the_steps_and_are_restored_after_a_pass(tmp_path: Path, shared: Target) -> None:
    before = _settings(shared)
    path = _scenario(
        tmp_path,
        PINNED
        + "  - test.settings:\n    expect: {body: {max_pairing_attempts: 1, support_telegram: 'tg://resolve?domain=x'}}\n",
    )
    result = _run(path, shared)
    assert result.status == "passed", result.failure_text()
    assert _settings(shared) == before


def test_settings_are_restored_after_a_failure(tmp_path: Path, shared: Target) -> None:
    before = _settings(shared)
    result = _run(_scenario(tmp_path, PINNED + "  - http: {path: /health}\n    expect: {status: 599}\n"), shared)
    assert result.status == "failed"
    assert _settings(shared) == before


def test_settings_changed_by_a_step_are_all_restored(tmp_path: Path, shared: Target) -> None:
    before = _settings(shared)
    path = _scenario(
        tmp_path, "name: x\nsteps:\n  - test.update_settings: {otp_max_attempts: 2, session_warning_s: 5}\n"
    )
    result = _run(path, shared)
    assert result.status == "passed", result.failure_text()
    assert _settings(shared) == before


def test_a_target_without_the_settings_capability_skips_with_the_reason(tmp_path: Path, shared: Target) -> None:
    lacking = Target(
        name="old", base_url=shared.base_url, ws_url=shared.ws_url, capabilities=frozenset({"test_endpoints"})
    )
    result = _run(_scenario(tmp_path, PINNED + "  - http: {path: /health}\n"), lacking)
    assert result.status == "skipped" and "lacks settings" in result.reason
    assert result.steps == []


def test_a_target_refusing_the_settings_skips_with_its_answer(tmp_path: Path, target: EmbeddedTarget) -> None:
    elsewhere = Target(
        name="no-route", base_url=target.fcm_url or "", ws_url=target.ws_url, capabilities=frozenset({"settings"})
    )
    result = _run(_scenario(tmp_path, PINNED + "  - http: {path: /health}\n"), elsewhere)
    assert result.status == "skipped" and "refused GET /internal/_test/settings: 404" in result.reason


def test_a_failed_restore_turns_a_pass_into_an_error(
    tmp_path: Path, shared: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = settings_module._exchange

    async def failing_restore(ctx: Any, method: str, body: Any) -> dict[str, Any]:
        calls.append(method)
        if calls.count("PUT") == 2:
            raise httpx.ConnectError("gone")
        return await real(ctx, method, body)

    before = _settings(shared)
    monkeypatch.setattr(settings_module, "_exchange", failing_restore)
    result = _run(_scenario(tmp_path, PINNED + "  - http: {path: /health}\n"), shared)
    httpx.put(shared.base_url + SETTINGS_URL, json=before).raise_for_status()  # what the runner could not do
    assert calls == ["GET", "PUT", "PUT"]
    assert result.status == "error" and "restoring the backend settings failed" in result.reason


def test_the_catalogue_is_what_the_backend_reads_back(target: EmbeddedTarget) -> None:
    assert set(_settings(target)) == set(SETTINGS)
