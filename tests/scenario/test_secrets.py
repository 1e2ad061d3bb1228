"""``{{ secrets.* }}``: usable in a step's arguments, never shown in what a run records."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from halo_sim.scenario.loader import load_scenario
from halo_sim.scenario.report import ScenarioResult, StepRecord
from halo_sim.scenario.secrets import MASK, Secrets, redact
from halo_sim.scenario.template import UndefinedVariable, render
from halo_sim.scenario.transcript import Transcript
from halo_sim.targets.base import Target
from halo_sim.targets.embedded import EmbeddedTarget
from simkit.errors import CapabilityMissing, ScenarioFileError
from tests.scenario.conftest import RunYaml, bare

SECRET = "s3cr3t-callback-token-0123456789"
WEBHOOK = "/api/shared/payment/webhooks/xendit"

# The secret goes out in a header, in a body the transcript records, in a query the URL shows;
# the server echoes none of it, so the last step's expectation (quoting the secret) fails and
# its difference would show the value.
LEAKY = f"""\
name: leaky
actors:
  customer: {{role: customer}}
steps:
  - customer.request_payment: {{duration_minutes: 15}}
    save: {{payment_id: body.id, invoice_id: body.xendit_invoice_id}}
  - http:
      method: POST
      path: {WEBHOOK}
      query: {{echo: "{{{{ secrets.callback_token }}}}"}}
      headers: {{x-callback-token: "{{{{ secrets.callback_token }}}}"}}
      json_body: {{id: "{{{{ invoice_id }}}}", external_id: "{{{{ payment_id }}}}", status: PAID,
                  description: "token {{{{ secrets.callback_token }}}}"}}
    expect: {{status: 200, body: {{result: confirmed}}}}
  - http: {{path: /health, query: {{t: "{{{{ secrets.callback_token }}}}"}}}}
    expect: {{body: {{token: "{{{{ secrets.callback_token }}}}"}}}}
"""


def _with_token(embedded: EmbeddedTarget, token: str | None) -> Target:
    target = bare(embedded, *embedded.capabilities)
    target.xendit_callback_token = token
    return target


def _everything(result: ScenarioResult) -> str:
    return json.dumps(asdict(result), default=str) + result.failure_text()


def test_a_secret_works_in_a_header_and_shows_nowhere_in_the_run(run_yaml: RunYaml, embedded: EmbeddedTarget) -> None:
    secret = embedded.xendit_callback_token
    assert secret
    result = run_yaml(LEAKY)
    assert result.steps[-2].status == "passed"  # the webhook took the token: it reached the server
    assert result.status == "failed"
    text = _everything(result)
    assert secret not in text
    assert f"expected '{MASK}'" in result.failure_text()
    request = next(e for e in result.transcript if e["kind"] == "http" and WEBHOOK in e["url"])
    assert request["request"]["description"] == f"token {MASK}" and f"echo={MASK}" in request["url"].replace("%2A", "*")


def test_the_written_report_and_what_a_reporter_is_told_hold_no_secret(
    run_yaml: RunYaml, embedded: EmbeddedTarget, tmp_path: Path
) -> None:
    told: list[str] = []

    class Recorder:
        def step_done(self, result: ScenarioResult, record: StepRecord) -> None:
            told.extend([record.summary, *record.details])

    result = run_yaml(LEAKY, reporter=Recorder())
    written = result.write(tmp_path).read_text()
    secret = embedded.xendit_callback_token or ""
    assert secret not in written and secret not in "\n".join(told)
    assert MASK in written


def test_any_target_secret_is_hidden_even_when_no_template_used_it(run_yaml: RunYaml, embedded: EmbeddedTarget) -> None:
    """Redaction is by value: the test token echoed by anything (here a query the transcript shows) is hidden."""
    target = _with_token(embedded, embedded.xendit_callback_token)
    target.test_token = "tt-0123456789abcdef"
    result = run_yaml("name: x\nsteps:\n  - http: {path: /health, query: {q: tt-0123456789abcdef}}\n", target)
    assert result.status == "passed"
    assert "tt-0123456789abcdef" not in _everything(result)


def test_a_secret_the_target_lacks_skips_the_scenario_saying_which(run_yaml: RunYaml, embedded: EmbeddedTarget) -> None:
    result = run_yaml(
        "name: x\nsteps:\n  - http: {path: /health, headers: {x-test-token: '{{ secrets.test_token }}'}}\n",
        _with_token(embedded, None),
    )
    assert result.status == "skipped"
    assert "holds no secret 'test_token'" in result.reason


def test_an_unknown_secret_name_is_a_file_error_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "typo.yaml"
    path.write_text(
        "name: x\nsteps:\n  - http: {path: /health}\n  - http: {path: '/x?t={{ secrets.callbak_token }}'}\n"
    )
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario(path)
    assert caught.value.line == 4
    assert "unknown secret {{ secrets.callbak_token }}; did you mean secrets.callback_token?" in caught.value.message


def test_redact_hides_values_everywhere_and_a_secret_cut_by_truncation() -> None:
    data = {"a": [f"x{SECRET}y", {SECRET: 1}], "b": ("ok", 3)}
    assert redact(data, (SECRET,)) == {"a": [f"x{MASK}y", {MASK: 1}], "b": ["ok", 3]}
    assert redact(f'{{"token": "{SECRET[:12]} ...', (SECRET,)) == f'{{"token": "{MASK} ...'
    assert redact(f"abc {SECRET[:10]}...", (SECRET,)) == f"abc {MASK}..."
    assert redact("nothing here", ()) == "nothing here"


def test_the_secrets_mapping_never_shows_a_value_in_an_error(embedded: EmbeddedTarget) -> None:
    secrets = Secrets(_with_token(embedded, SECRET))
    assert SECRET not in repr(secrets)
    with pytest.raises(UndefinedVariable) as caught:
        render("{{ secrets.nope }}", {"secrets": secrets})
    assert SECRET not in str(caught.value)
    with pytest.raises(CapabilityMissing, match="holds no secret 'test_token'"):
        render("{{ secrets.test_token }}", {"secrets": secrets})
    assert render("{{ secrets.callback_token }}", {"secrets": secrets}) == SECRET


def test_frames_that_carry_a_secret_are_hidden_in_the_result(run_yaml: RunYaml, embedded: EmbeddedTarget) -> None:
    text = """\
name: x
actors:
  customer: {role: customer, foreground: true}
  mitra: {role: mitra, online: true, foreground: true}
steps:
  - customer.request_payment: {duration_minutes: 15}
    save: {payment_id: body.id}
  - test.force_confirm_payment: {payment_request_id: "{{ payment_id }}"}
  - mitra.expect_frame: {type: pairing_offer}
    save: {session_id: frame.session_id}
  - mitra.accept_offer: {session_id: "{{ session_id }}"}
  - mitra.send_message: {session_id: "{{ session_id }}", text: "kode {{ secrets.callback_token }}"}
  - customer.expect_frame: {type: chat_message}
"""
    result = run_yaml(text)
    assert result.status == "passed", result.failure_text()
    secret = embedded.xendit_callback_token or ""
    received = [f for f in result.frames["customer"] if f.get("type") == "chat_message"]
    assert received and received[0]["message"]["text"] == f"kode {MASK}"
    assert secret not in _everything(result)


def test_the_transcript_hides_secrets_as_each_event_is_recorded() -> None:
    transcript = Transcript(secrets=(SECRET,))
    transcript.add("http", url=f"/x?t={SECRET}", request={"k": [SECRET]})
    assert transcript.entries[0]["url"] == f"/x?t={MASK}" and transcript.entries[0]["request"] == {"k": [MASK]}
