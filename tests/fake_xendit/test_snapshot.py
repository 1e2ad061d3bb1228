"""Fake Xendit's state survives a restart (``halo-sim serve --state-file``): snapshot, JSON, restore."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fake_xendit.callbacks import CallbackDispatcher
from fake_xendit.models import XenditBackend
from simkit.clock import VirtualClock
from simkit.scheduler import Scheduler
from tests.fake_xendit.conftest import Receiver

BODY = {"external_id": "pay-1", "amount": 25000, "invoice_duration": 60}


def _through_json(data: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(data))
    return loaded


def _restored(backend: XenditBackend, skip: int = 0) -> XenditBackend:
    again = XenditBackend(Scheduler(VirtualClock(backend.now())), callback_url=backend.callback_url)
    again.restore(_through_json(backend.snapshot()), skip)
    return again


def test_invoices_payments_and_idempotency_keys_come_back() -> None:
    backend = XenditBackend(Scheduler(VirtualClock()))
    paid = backend.create_invoice(BODY, idempotency_key="k1")
    backend.pay_invoice(paid.id, "EWALLET")
    again = _restored(backend)
    assert again.get_invoice(paid.id).to_json() == paid.to_json()
    assert again.create_invoice(BODY, idempotency_key="k1").id == paid.id
    assert [cb.callback_id for cb in again.outbox] == [cb.callback_id for cb in backend.outbox]


def test_invoice_ids_continue_after_a_drain_and_jump_after_a_checkpoint() -> None:
    backend = XenditBackend(Scheduler(VirtualClock()))
    first = backend.create_invoice(BODY)
    after_drain = _restored(backend).create_invoice(BODY)
    assert after_drain.seq == first.seq + 1
    lost = backend.create_invoice(BODY)  # handed out after the checkpoint, then a crash
    after_crash = _restored(backend, skip=1000).create_invoice(BODY)
    assert after_crash.id not in (first.id, lost.id) and after_crash.seq > lost.seq


def test_a_restored_pending_invoice_still_expires_once_rearmed() -> None:
    backend = XenditBackend(Scheduler(VirtualClock()))
    invoice = backend.create_invoice(BODY)
    again = _restored(backend)
    again.rearm_expiry()
    asyncio.run(again.scheduler.advance(61))
    assert again.get_invoice(invoice.id).status == "EXPIRED"


def test_a_callback_still_being_retried_is_delivered_after_a_restore(receiver: Receiver) -> None:
    backend = XenditBackend(Scheduler(VirtualClock()), callback_url=receiver.callback_url)
    dispatcher = CallbackDispatcher(backend, schedule=(5.0,))
    receiver.fail_next(1)

    async def before() -> dict[str, Any]:
        backend.pay_invoice(backend.create_invoice(BODY).id)
        await dispatcher.drain()
        await dispatcher.aclose()
        return _through_json(dispatcher.snapshot())

    delivery = asyncio.run(before())
    assert delivery["pending"] != [] and len(receiver.bodies) == 1  # the one that failed
    again = _restored(backend)
    redelivery = CallbackDispatcher(again, schedule=(5.0,))

    async def after() -> None:
        redelivery.restore(delivery)
        await again.scheduler.advance(5.0)
        await redelivery.drain()
        await redelivery.aclose()

    asyncio.run(after())
    assert [body["status"] for body in receiver.bodies] == ["PAID", "PAID"]
    assert redelivery.snapshot()["pending"] == []
