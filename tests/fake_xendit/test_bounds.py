"""Fake Xendit keeps bounded memory for a days-long ``serve``: the calls, the callback outbox and the
delivery log keep their newest entries; invoices are kept while PENDING and, once finished, only the
newest few, an evicted one answering Xendit's 404 for an unknown id.  The control plane says what was
dropped, and a restart keeps the bounds."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import httpx

from fake_xendit.callbacks import LOG_CAP, CallbackDispatcher
from fake_xendit.errors import XenditError
from fake_xendit.models import CALLS_CAP, FINISHED_INVOICES_CAP, OUTBOX_CAP, XenditBackend
from simkit.clock import VirtualClock
from simkit.scheduler import Scheduler
from tests.fake_xendit.conftest import SECRET, RunningFake

CAP = 4
MANY = 7 * CAP  # well past the caps, and past the twice-the-cap point where a BoundedLog trims
BODY = {"external_id": "pay", "amount": 25000}


def make(**caps: int) -> XenditBackend:
    return XenditBackend(Scheduler(VirtualClock()), **caps)


def paid(backend: XenditBackend, count: int = MANY) -> list[str]:
    """``count`` invoices, each created with an idempotency key and paid; their ids in order."""
    ids = []
    for n in range(count):
        invoice = backend.create_invoice({**BODY, "external_id": f"pay-{n}"}, idempotency_key=f"key-{n}")
        backend.pay_invoice(invoice.id)
        ids.append(invoice.id)
    return ids


def not_found(call: Callable[[], Any]) -> XenditError:
    try:
        call()
    except XenditError as exc:
        return exc
    raise AssertionError("no refusal")


def test_pending_invoices_all_stay_and_only_the_newest_finished_ones_are_kept() -> None:
    backend = make(finished_invoices_cap=CAP)
    waiting = backend.create_invoice(BODY)  # older than every paid one, but PENDING: kept
    ids = paid(backend)
    assert set(backend.invoices) == {waiting.id, *ids[-CAP:]}
    assert backend.bounds()["finished_invoices"] == {"kept": CAP, "cap": CAP, "dropped": MANY - CAP, "pending": 1}
    backend.expire_invoice(waiting.id)  # finishing makes it the newest finished one: the oldest kept goes
    assert set(backend.invoices) == {waiting.id, *ids[-CAP + 1 :]}


def test_an_evicted_invoice_answers_404_like_an_unknown_id_and_its_key_is_forgotten() -> None:
    backend = make(finished_invoices_cap=CAP)
    oldest = paid(backend)[0]
    refusal = not_found(lambda: backend.get_invoice(oldest))
    assert (refusal.status, refusal.error_code) == (404, "INVOICE_NOT_FOUND_ERROR")
    assert not_found(lambda: backend.expire_invoice(oldest)).status == 404
    assert "key-0" not in backend._idempotency and len(backend._idempotency) == CAP
    again = backend.create_invoice({**BODY, "external_id": "pay-0"}, idempotency_key="key-0")
    assert again.id != oldest and again.status == "PENDING"  # the key is free again: a new invoice


def test_an_invoice_paid_then_settled_counts_once_among_the_finished() -> None:
    backend = make(finished_invoices_cap=CAP)
    ids = paid(backend, CAP)
    for invoice_id in ids:
        backend.settle_invoice(invoice_id)
    assert sorted(backend.invoices) == sorted(ids)


def test_calls_and_the_outbox_keep_the_newest_and_count_the_dropped() -> None:
    backend = make(outbox_cap=CAP, finished_invoices_cap=MANY)
    ids = paid(backend)
    assert [cb.invoice_id for cb in backend.outbox.newest()] == ids[-CAP:]
    assert len(backend.outbox) < 2 * CAP
    assert backend.bounds()["callbacks"] == {"kept": CAP, "cap": CAP, "dropped": MANY - CAP}


def test_the_delivery_log_keeps_the_newest_attempts_and_reads_after_a_position() -> None:
    backend = make(finished_invoices_cap=MANY)
    dispatcher = CallbackDispatcher(backend, log_cap=CAP)
    backend.set_faults({"drop": True})  # every callback is logged at once as dropped, without a loop
    ids = paid(backend)
    summary = dispatcher.summary()
    assert [entry["invoice_id"] for entry in summary["log"]] == ids[-CAP:]
    assert (summary["log_total"], summary["bound"]["log"]) == (MANY, {"kept": CAP, "cap": CAP, "dropped": MANY - CAP})
    assert [entry["invoice_id"] for entry in dispatcher.summary(after=MANY - 2)["log"]] == ids[-2:]
    assert [entry["invoice_id"] for entry in dispatcher.summary(after=0, limit=1)["log"]] == ids[-1:]
    generation = summary["generation"]
    backend.reset()
    assert (dispatcher.summary()["log_total"], dispatcher.summary()["generation"]) == (0, generation + 1)


def test_the_default_caps_are_the_documented_ones() -> None:
    backend = make()
    caps = (backend.calls.cap, backend.outbox.cap, backend.finished_invoices_cap, CallbackDispatcher(backend).log.cap)
    assert caps == (CALLS_CAP, OUTBOX_CAP, FINISHED_INVOICES_CAP, LOG_CAP) == (1_000, 5_000, 5_000, 5_000)


def test_the_standalone_fake_takes_how_many_finished_invoices_to_keep() -> None:
    from fake_xendit.__main__ import parse_args

    assert parse_args([]).keep_invoices == FINISHED_INVOICES_CAP
    assert parse_args(["--keep-invoices", "7"]).keep_invoices == 7


# --- a restart (``halo-sim serve --state-file``) ------------------------------------------------------


def restored(saved: dict[str, Any], **caps: int) -> XenditBackend:
    again = make(**caps)
    again.restore(json.loads(json.dumps(saved)))
    return again


def test_a_restart_keeps_the_bounds_and_what_they_dropped() -> None:
    backend = make(outbox_cap=CAP, finished_invoices_cap=CAP)
    waiting = backend.create_invoice(BODY, idempotency_key="waiting")
    ids = paid(backend)
    saved = backend.snapshot()
    assert len(saved["outbox"]) == CAP and len(saved["invoices"]) == CAP + 1
    again = restored(saved, outbox_cap=CAP, finished_invoices_cap=CAP)
    assert set(again.invoices) == {waiting.id, *ids[-CAP:]}
    assert again.bounds() == backend.bounds()
    assert again.create_invoice(BODY, idempotency_key="waiting").id == waiting.id
    newest = paid(again, 1)  # after the restart, the order of finishing goes on: the oldest kept goes
    assert set(again.invoices) == {waiting.id, *ids[-CAP + 1 :], *newest}


def test_a_state_file_from_before_the_bounds_restores_within_them() -> None:
    unbounded = make(outbox_cap=10 * MANY, finished_invoices_cap=10 * MANY)
    ids = paid(unbounded)
    saved = {k: v for k, v in unbounded.snapshot().items() if k not in ("outbox_dropped", "invoices_evicted")}
    again = restored(saved, outbox_cap=CAP, finished_invoices_cap=CAP)
    assert set(again.invoices) == set(ids[-CAP:])
    assert [cb.invoice_id for cb in again.outbox] == ids[-CAP:]
    assert again.bounds()["finished_invoices"]["dropped"] == again.bounds()["callbacks"]["dropped"] == MANY - CAP
    assert set(again._idempotency) == {f"key-{n}" for n in range(MANY - CAP, MANY)}


def test_a_restored_delivery_log_stays_within_its_cap() -> None:
    backend = make(finished_invoices_cap=MANY)
    dispatcher = CallbackDispatcher(backend, log_cap=CAP)
    backend.set_faults({"drop": True})
    ids = paid(backend)
    again = make(finished_invoices_cap=MANY)
    again.restore(json.loads(json.dumps(backend.snapshot())))
    restarted = CallbackDispatcher(again, log_cap=CAP)
    restarted.restore(json.loads(json.dumps(dispatcher.snapshot())))
    assert [entry.invoice_id for entry in restarted.log] == ids[-CAP:]
    assert restarted.summary()["bound"]["log"]["dropped"] == MANY - CAP


# --- over HTTP -------------------------------------------------------------------------------------------


def auth() -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{SECRET}:".encode()).decode()}


def test_over_http_the_control_plane_says_what_was_dropped(fake_factory: Callable[..., RunningFake]) -> None:
    fake = fake_factory(calls_cap=CAP, outbox_cap=CAP, finished_invoices_cap=CAP)
    with httpx.Client(base_url=fake.url, trust_env=False) as http:
        ids = []
        for n in range(MANY):
            ids.append(http.post("/v2/invoices", json={**BODY, "external_id": f"pay-{n}"}, headers=auth()).json()["id"])
            assert http.post(f"/_fake/invoices/{ids[-1]}/pay", json={}).json()["invoice"]["status"] == "PAID"
        callbacks = http.get("/_fake/callbacks").json()
        assert [cb["invoice_id"] for cb in callbacks["callbacks"]] == ids[-CAP:]
        assert callbacks["bound"]["callbacks"] == {"kept": CAP, "cap": CAP, "dropped": MANY - CAP}
        calls = http.get("/_fake/calls").json()
        assert len(calls["calls"]) == CAP and calls["bound"]["dropped"] == MANY - CAP
        evicted = http.get(f"/v2/invoices/{ids[0]}", headers=auth())
        assert (evicted.status_code, evicted.json()["error_code"]) == (404, "INVOICE_NOT_FOUND_ERROR")
        assert http.get(f"/web/invoices/{ids[0]}").status_code == 404
        assert http.get("/_fake/state").json()["bounds"]["finished_invoices"]["dropped"] == MANY - CAP
        wanted = http.get("/_fake/invoices", params=[("id", ids[-1]), ("id", ids[0]), ("id", "nope")]).json()
        assert [inv["id"] for inv in wanted["invoices"]] == [ids[-1]]
        assert http.get("/_fake/callbacks", params={"limit": "x"}).status_code == 400
