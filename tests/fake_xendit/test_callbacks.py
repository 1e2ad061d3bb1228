"""The callback dispatcher against a real receiving server, with retries on a virtual clock."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from fake_xendit import CallbackDispatcher, XenditBackend
from fake_xendit.callbacks import DEFAULT_SCHEDULE, XENDIT_REAL_SCHEDULE
from simkit.clock import SystemClock, VirtualClock, isoformat
from simkit.scheduler import Scheduler
from simkit.xendit_wire import EXPIRED_CALLBACK_FIELDS, PAID_CALLBACK_FIELDS

if TYPE_CHECKING:
    from conftest import Receiver

T = TypeVar("T")
TOKEN = "callback-token-under-test"


def make(
    url: str | None, schedule: tuple[float, ...] = DEFAULT_SCHEDULE, timeout: float = 5.0
) -> tuple[XenditBackend, CallbackDispatcher]:
    backend = XenditBackend(Scheduler(VirtualClock()), callback_url=url, callback_token=TOKEN)
    return backend, CallbackDispatcher(backend, schedule, timeout=timeout)


def run(dispatcher: CallbackDispatcher, scenario: Callable[[], Awaitable[T]]) -> T:
    """Run a scenario in a fresh loop, then finish in-flight sends and close the client."""

    async def main() -> T:
        try:
            return await scenario()
        finally:
            await dispatcher.drain()
            await dispatcher.aclose()

    return asyncio.run(main())


def new_invoice(backend: XenditBackend, **extra: Any) -> str:
    body = {
        "external_id": "pay-1",
        "amount": 25000,
        "payer_email": "budi@example.com",
        "description": "Curhat",
        **extra,
    }
    return backend.create_invoice(body).id


def outcomes(dispatcher: CallbackDispatcher) -> list[tuple[str, int, str]]:
    return [(e.status, e.attempt, e.outcome) for e in dispatcher.log]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers: Xendit's 'no answer in time'."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    sock.close()
    return port


# --- delivery --------------------------------------------------------------------------------------


def test_paid_callback_is_posted_as_json_with_the_callback_token_header(receiver: Receiver) -> None:
    backend, dispatcher = make(receiver.callback_url)

    async def scenario() -> None:
        backend.pay_invoice(new_invoice(backend))

    run(dispatcher, scenario)
    [post] = receiver.posts
    assert post.path == "/api/shared/payment/webhooks/xendit"
    assert post.headers["x-callback-token"] == TOKEN
    assert post.headers["content-type"] == "application/json"
    assert post.body == backend.outbox[0].body
    [entry] = dispatcher.log
    assert (entry.attempt, entry.outcome, entry.response_status, entry.url) == (
        1,
        "delivered",
        200,
        receiver.callback_url,
    )


def test_paid_and_expired_bodies_on_the_wire_have_exactly_xendits_field_sets(receiver: Receiver) -> None:
    backend, dispatcher = make(receiver.callback_url)

    async def scenario() -> None:
        backend.pay_invoice(new_invoice(backend))
        backend.expire_invoice(new_invoice(backend, external_id="pay-2"))

    run(dispatcher, scenario)
    by_status = {body["status"]: body for body in receiver.bodies}
    assert list(by_status["PAID"]) == list(PAID_CALLBACK_FIELDS)
    assert list(by_status["EXPIRED"]) == list(EXPIRED_CALLBACK_FIELDS)
    assert by_status["PAID"]["paid_at"].endswith("Z") and by_status["PAID"]["amount"] == 25000


def test_expiry_timer_sends_an_expired_callback(receiver: Receiver) -> None:
    backend, dispatcher = make(receiver.callback_url)
    invoice_id = new_invoice(backend, invoice_duration=60)

    async def scenario() -> None:
        await backend.scheduler.advance(60)

    run(dispatcher, scenario)
    assert [(b["id"], b["status"]) for b in receiver.bodies] == [(invoice_id, "EXPIRED")]


def test_callback_queued_outside_an_event_loop_goes_out_on_the_next_scheduler_tick(receiver: Receiver) -> None:
    backend, dispatcher = make(receiver.callback_url)
    backend.pay_invoice(new_invoice(backend))  # no running loop here
    assert receiver.posts == []

    async def scenario() -> None:
        await backend.scheduler.advance(0)

    run(dispatcher, scenario)
    assert [b["status"] for b in receiver.bodies] == ["PAID"]


def test_without_a_callback_url_the_callback_is_logged_as_skipped_and_not_retried() -> None:
    backend, dispatcher = make(None)

    async def scenario() -> None:
        backend.pay_invoice(new_invoice(backend))
        await dispatcher.drain()
        await backend.scheduler.advance(100)

    run(dispatcher, scenario)
    assert outcomes(dispatcher) == [("PAID", 1, "skipped")]


# --- retries -------------------------------------------------------------------------------------------


def test_non_2xx_answers_are_retried_on_the_schedule_of_the_virtual_clock(receiver: Receiver) -> None:
    backend, dispatcher = make(receiver.callback_url, schedule=(1.0, 3.0, 9.0))
    receiver.fail_next(2, status=503)
    start = backend.now()
    seen: list[int] = []

    async def scenario() -> None:
        backend.pay_invoice(new_invoice(backend))
        await dispatcher.drain()
        seen.append(len(receiver.posts))
        for step in (0.999, 0.001, 2.999, 0.001):
            await backend.scheduler.advance(step)
            seen.append(len(receiver.posts))

    run(dispatcher, scenario)
    assert seen == [1, 1, 2, 2, 3]
    assert outcomes(dispatcher) == [("PAID", 1, "failed"), ("PAID", 2, "failed"), ("PAID", 3, "delivered")]
    assert [e.response_status for e in dispatcher.log] == [503, 503, 200]
    assert [e.at - start for e in dispatcher.log] == pytest.approx([0.0, 1.0, 4.0])
    assert dispatcher.log[0].to_json()["next_attempt_at"] == isoformat(start + 1.0)
    assert len({tuple(sorted(b.items())) for b in receiver.bodies}) == 1  # every retry carries the same body


def test_delivery_gives_up_once_the_schedule_is_exhausted(receiver: Receiver) -> None:
    backend, dispatcher = make(receiver.callback_url, schedule=(1.0, 2.0))
    receiver.fail_next(100)

    async def scenario() -> None:
        backend.pay_invoice(new_invoice(backend))
        await dispatcher.drain()
        await backend.scheduler.advance(3600)

    run(dispatcher, scenario)
    assert len(receiver.posts) == 3
    assert [e.outcome for e in dispatcher.log] == ["failed", "failed", "gave_up"]
    assert dispatcher.log[-1].next_attempt_at is None


def test_xendits_real_ladder_runs_in_virtual_time(receiver: Receiver) -> None:
    assert XENDIT_REAL_SCHEDULE == (900.0, 2700.0, 7200.0, 10800.0, 21600.0, 43200.0)
    backend, dispatcher = make(receiver.callback_url, schedule=XENDIT_REAL_SCHEDULE)
    receiver.fail_next(6)
    start = backend.now()

    async def scenario() -> None:
        backend.pay_invoice(new_invoice(backend))
        await dispatcher.drain()
        await backend.scheduler.advance(2 * 86400)

    run(dispatcher, scenario)
    assert [e.attempt for e in dispatcher.log] == [1, 2, 3, 4, 5, 6, 7]
    assert dispatcher.log[-1].outcome == "delivered"
    offsets = [e.at - start for e in dispatcher.log]
    assert offsets == pytest.approx([0, 900, 3600, 10800, 21600, 43200, 86400])


def test_a_connection_error_is_retried_and_a_retry_uses_the_url_configured_by_then(receiver: Receiver) -> None:
    backend, dispatcher = make(f"http://127.0.0.1:{closed_port()}/hook")

    async def scenario() -> None:
        backend.pay_invoice(new_invoice(backend))
        await dispatcher.drain()
        backend.configure({"callback_url": receiver.callback_url})
        await backend.scheduler.advance(1)

    run(dispatcher, scenario)
    first, second = dispatcher.log
    assert (first.outcome, first.response_status) == ("failed", None)
    assert first.error is not None and "ConnectError" in first.error
    assert (second.outcome, second.url) == ("delivered", receiver.callback_url)


def test_no_answer_within_the_timeout_counts_as_a_failure(silent_port: int) -> None:
    backend, dispatcher = make(f"http://127.0.0.1:{silent_port}/hook", timeout=0.2)

    async def scenario() -> None:
        backend.pay_invoice(new_invoice(backend))

    run(dispatcher, scenario)
    [entry] = dispatcher.log
    assert entry.outcome == "failed" and entry.error is not None and "Timeout" in entry.error


def test_on_the_wall_clock_a_retry_runs_as_a_task_and_never_stalls_the_scheduler(silent_port: int) -> None:
    clock = SystemClock(speed=1e9)  # one clock second passes in a nanosecond
    backend = XenditBackend(Scheduler(clock), callback_url=f"http://127.0.0.1:{silent_port}/hook", callback_token=TOKEN)
    dispatcher = CallbackDispatcher(backend, timeout=0.2)
    backend.set_faults({"delay_s": 1})
    in_flight: list[int] = []

    async def scenario() -> None:
        backend.pay_invoice(new_invoice(backend))
        while await backend.scheduler.run_due() == 0:  # until the clock has passed the delay
            await asyncio.sleep(0)
        # run_due() returned while the receiver still has not answered: the send is a task
        in_flight.append(len(dispatcher.log))
        await dispatcher.drain()

    run(dispatcher, scenario)
    assert in_flight == [0]
    assert dispatcher.log[0].outcome == "failed" and dispatcher.log[0].error is not None


# --- faults ------------------------------------------------------------------------------------------------


def test_duplicate_fault_sends_every_callback_twice(receiver: Receiver) -> None:
    backend, dispatcher = make(receiver.callback_url)
    backend.set_faults({"duplicate": True})

    async def scenario() -> None:
        backend.pay_invoice(new_invoice(backend))

    run(dispatcher, scenario)
    first, second = receiver.bodies
    assert first == second and first["status"] == "PAID"
    assert [e.copy for e in dispatcher.log] == [1, 2]


def test_reorder_fault_holds_callbacks_until_flush_then_delivers_newest_first(receiver: Receiver) -> None:
    backend, dispatcher = make(receiver.callback_url)
    backend.set_faults({"reorder": True})
    first_id, second_id = new_invoice(backend), new_invoice(backend, external_id="pay-2")

    async def scenario() -> int:
        backend.pay_invoice(first_id)
        backend.pay_invoice(second_id)
        backend.settle_invoice(first_id)
        await dispatcher.drain()
        before = len(receiver.posts)
        dispatcher.flush()
        await dispatcher.drain()
        return before

    assert run(dispatcher, scenario) == 0
    assert [(b["id"], b["status"]) for b in receiver.bodies] == [
        (first_id, "SETTLED"),
        (second_id, "PAID"),
        (first_id, "PAID"),
    ]
    assert [e.outcome for e in dispatcher.log] == ["held"] * 3 + ["delivered"] * 3
    assert dispatcher.held == []


def test_drop_fault_logs_callbacks_as_dropped_and_never_sends_them(receiver: Receiver) -> None:
    backend, dispatcher = make(receiver.callback_url)
    backend.set_faults({"drop": True})

    async def scenario() -> None:
        backend.pay_invoice(new_invoice(backend))
        await dispatcher.drain()
        await backend.scheduler.advance(3600)

    run(dispatcher, scenario)
    assert receiver.posts == []
    assert outcomes(dispatcher) == [("PAID", 0, "dropped")]


def test_delay_fault_delivers_only_once_the_delay_has_passed_on_the_scheduler(receiver: Receiver) -> None:
    backend, dispatcher = make(receiver.callback_url)
    backend.set_faults({"delay_s": 30})
    counts: list[int] = []

    async def scenario() -> None:
        backend.pay_invoice(new_invoice(backend))
        await dispatcher.drain()
        counts.append(len(receiver.posts))
        await backend.scheduler.advance(29.5)
        counts.append(len(receiver.posts))
        await backend.scheduler.advance(0.5)
        counts.append(len(receiver.posts))

    run(dispatcher, scenario)
    assert counts == [0, 0, 1]


def test_reset_clears_the_log_and_held_callbacks_and_cancels_pending_retries(receiver: Receiver) -> None:
    backend, dispatcher = make(receiver.callback_url)
    receiver.fail_next(1)

    async def scenario() -> None:
        backend.pay_invoice(new_invoice(backend))
        await dispatcher.drain()
        backend.set_faults({"reorder": True})
        backend.expire_invoice(new_invoice(backend, external_id="pay-2"))
        backend.reset()
        await backend.scheduler.advance(3600)

    run(dispatcher, scenario)
    assert len(receiver.posts) == 1
    assert dispatcher.log == [] and dispatcher.held == []


def test_summary_lists_the_log_held_and_queued_callbacks(receiver: Receiver) -> None:
    backend, dispatcher = make(receiver.callback_url)

    async def scenario() -> None:
        backend.pay_invoice(new_invoice(backend))

    run(dispatcher, scenario)
    summary = dispatcher.summary()
    assert summary["log"][0]["outcome"] == "delivered" and summary["log"][0]["at"].endswith("Z")
    assert summary["callbacks"][0]["body"] == receiver.bodies[0]
    assert summary["held"] == [] and summary["schedule"] == list(DEFAULT_SCHEDULE)


def test_dispatcher_refuses_negative_retry_delays() -> None:
    backend = XenditBackend(Scheduler(VirtualClock()))
    with pytest.raises(ValueError):
        CallbackDispatcher(backend, schedule=(1.0, -1.0))
