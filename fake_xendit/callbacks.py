"""The I/O edge that delivers invoice callbacks the way Xendit does.

The model (``models.py``) decides *what* Xendit would send and queues an
:class:`~fake_xendit.models.OutboundCallback`; this dispatcher decides *how* it
reaches the merchant: a JSON POST to the configured callback URL with the
``x-callback-token`` header, success on any 2xx, and on a non-2xx answer, a
transport error or no answer within ``timeout``, a retry after the next delay of
the schedule.  Every wait is a timer on the injected scheduler, so on a
:class:`~simkit.clock.VirtualClock` a whole retry ladder (even Xendit's real
one of 15 min … 12 h) runs in microseconds and in a reproducible order.

First attempts are sent at once as tasks of the running event loop (the way
Xendit sends right after a payment) rather than on a timer, so they do not wait
for virtual time to move; :meth:`CallbackDispatcher.drain` awaits them.

Faults (set through the control plane, stored on the backend as
:class:`~fake_xendit.models.XenditFaults`) bend delivery the ways real webhooks
go wrong: ``delay_s`` (late), ``duplicate`` (twice), ``reorder`` (held, then
flushed newest first) and ``drop`` (never sent, but logged).

The delivery log keeps the newest ``log_cap`` attempts (a :class:`~simkit.bounded.BoundedLog`,
:data:`LOG_CAP` by default): ``GET /_fake/callbacks`` says how many were dropped, and a reader
can ask for the attempts after a position it saw (``after``, ``limit``) instead of the whole log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from fake_xendit.models import OutboundCallback, XenditBackend
from simkit.bounded import BoundedLog
from simkit.clock import isoformat
from simkit.scheduler import Timer
from simkit.tls import client_context

log = logging.getLogger(__name__)

#: Retry delays suited to a simulator: quick at first (1 s, 3 s, 9 s), then spaced out so that a
#: backend restarting or down for a few minutes still gets the callback (about 9 minutes in all).
DEFAULT_SCHEDULE: tuple[float, ...] = (1.0, 3.0, 9.0, 30.0, 60.0, 120.0, 300.0)
#: Xendit's documented ladder: six retries, +15 min, 45 min, 2 h, 3 h, 6 h, 12 h after the previous try.
XENDIT_REAL_SCHEDULE: tuple[float, ...] = (15 * 60.0, 45 * 60.0, 2 * 3600.0, 3 * 3600.0, 6 * 3600.0, 12 * 3600.0)
#: Xendit counts a callback with no answer within 30 s as failed.
XENDIT_TIMEOUT_S = 30.0
#: Delivery attempts the log keeps (the newest).
LOG_CAP = 5_000


@dataclass(frozen=True)
class DeliveryAttempt:
    """One line of the delivery log.

    ``outcome`` is ``delivered`` (2xx), ``failed`` (a retry is scheduled at
    ``next_attempt_at``), ``gave_up`` (failed, schedule exhausted), ``skipped``
    (no callback URL configured), ``dropped`` (the drop fault) or ``held`` (the
    reorder fault, waiting for a flush).  ``attempt`` counts sends from 1; it
    is 0 for callbacks that were never sent (dropped, held).  ``copy`` is 2 for
    the second send of a duplicated callback.
    """

    callback_id: str
    invoice_id: str
    external_id: str
    status: str
    url: str | None
    attempt: int
    copy: int
    outcome: str
    response_status: int | None
    error: str | None
    at: float
    next_attempt_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON for ``GET /_fake/callbacks``; times as Xendit-style ISO strings."""
        data = asdict(self)
        data["at"] = isoformat(self.at)
        data["next_attempt_at"] = isoformat(self.next_attempt_at) if self.next_attempt_at is not None else None
        return data


class CallbackDispatcher:
    """Delivers the backend's queued callbacks over HTTP, retrying on the scheduler."""

    def __init__(
        self,
        backend: XenditBackend,
        schedule: Sequence[float] = DEFAULT_SCHEDULE,
        timeout: float = XENDIT_TIMEOUT_S,
        log_cap: int = LOG_CAP,
    ) -> None:
        if any(delay < 0 for delay in schedule):
            raise ValueError(f"retry delays must not be negative: {list(schedule)}")
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, not {timeout}")
        self.backend = backend
        self.scheduler = backend.scheduler
        self.schedule = tuple(float(d) for d in schedule)
        self.timeout = timeout
        self.log: BoundedLog[DeliveryAttempt] = BoundedLog(log_cap)
        self.held: list[OutboundCallback] = []
        self._timers: list[Timer] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._clients: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}
        self._generation = 0
        self._pending: dict[tuple[str, int], tuple[int, float]] = {}  # (callback, copy) -> (attempt, due)
        backend.add_callback_listener(self.enqueue)
        backend.add_reset_listener(self.reset)

    # --- intake -------------------------------------------------------------------------

    def enqueue(self, callback: OutboundCallback) -> None:
        """Take one callback from the model, applying the drop and reorder faults."""
        faults = self.backend.fault_spec
        if faults.drop:
            self._record(callback, copy=1, attempt=0, outcome="dropped")
        elif faults.reorder:
            self.held.append(callback)
            self._record(callback, copy=1, attempt=0, outcome="held")
        else:
            self._dispatch([callback])

    def flush(self) -> list[OutboundCallback]:
        """Release held callbacks newest first: the out-of-order delivery Xendit warns about.

        They are sent one after the other (each first attempt finishes before the
        next starts), so the receiver sees exactly this order.
        """
        released = list(reversed(self.held))
        self.held.clear()
        if released:
            self._dispatch(released)
        return released

    async def drain(self) -> None:
        """Wait until every send started in this event loop has finished (retries stay on the scheduler)."""
        loop = asyncio.get_running_loop()
        while pending := [t for t in self._tasks if t.get_loop() is loop and not t.done()]:
            await asyncio.gather(*pending, return_exceptions=True)

    # --- lifecycle ------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget the log and held callbacks, cancel pending retries and in-flight sends."""
        self._generation += 1
        self.log.clear()
        self.log.dropped = 0
        self.held.clear()
        self._pending.clear()
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for task in list(self._tasks):
            task.get_loop().call_soon_threadsafe(task.cancel)

    async def aclose(self) -> None:
        """Close the HTTP client of the running loop; clients of other loops are only forgotten."""
        loop = asyncio.get_running_loop()
        client = self._clients.pop(loop, None)
        if client is not None:
            await client.aclose()
        self._clients = {lp: c for lp, c in self._clients.items() if not lp.is_closed()}

    def snapshot(self) -> dict[str, Any]:
        """What is still to be delivered (the next attempt of each send and when), held callbacks and the log."""
        return {
            "pending": [[cid, copy, attempt, due] for (cid, copy), (attempt, due) in self._pending.items()],
            "held": [cb.callback_id for cb in self.held],
            "log": [asdict(entry) for entry in self.log.newest()],
            "log_dropped": self.log.describe()["dropped"],
        }

    def restore(self, data: dict[str, Any]) -> None:
        """Continue from a :meth:`snapshot` (after the model's ``restore``): every unfinished send is
        attempted again when it was due, or at once if that moment passed while the process was down."""
        outbox = {cb.callback_id: cb for cb in self.backend.outbox}
        entries = [DeliveryAttempt(**entry) for entry in data.get("log", [])] + list(self.log)
        self.log[:] = entries[-self.log.cap :]
        self.log.dropped += int(data.get("log_dropped", 0)) + max(0, len(entries) - self.log.cap)
        self.held[:0] = [outbox[cid] for cid in data.get("held", []) if cid in outbox]
        now = self.scheduler.clock.now()
        for cid, copy, attempt, due in data.get("pending", []):
            if cid in outbox:
                self._retry_at(outbox[cid], copy, attempt, max(0.0, due - now), "restored")

    def summary(self, after: int = 0, limit: int | None = None) -> dict[str, Any]:
        """The delivery log and what is still held, for ``GET /_fake/callbacks``.

        ``after`` skips the attempts a reader already saw (``log_total`` of an earlier answer; it
        starts again from 0 when ``generation`` changed, after a reset), ``limit`` keeps the newest
        of each list; ``bound`` says what the log and the outbox dropped.
        """
        outbox = self.backend.outbox
        limit = max(self.log.cap, outbox.cap) if limit is None else limit
        return {
            "callback_url": self.backend.callback_url,
            "schedule": list(self.schedule),
            "timeout": self.timeout,
            "generation": self._generation,
            "log_total": self.log.total,
            "log": [entry.to_json() for entry in self.log.after(after, limit)],
            "held": [cb.to_json() for cb in self.held[-limit:]] if limit else [],
            "callbacks": [cb.to_json() for cb in outbox.after(0, limit)],
            "bound": {"log": self.log.describe(), "callbacks": outbox.describe()},
        }

    # --- delivery ---------------------------------------------------------------------------

    def _dispatch(self, callbacks: Sequence[OutboundCallback]) -> None:
        """Start sending, in order: each callback once or twice (duplicate fault), now or after ``delay_s``."""
        faults = self.backend.fault_spec
        copies = 2 if faults.duplicate else 1
        sends = [(callback, copy) for callback in callbacks for copy in range(1, copies + 1)]
        due = self.scheduler.clock.now() + faults.delay_s
        self._pending.update({(callback.callback_id, copy): (1, due) for callback, copy in sends})
        generation = self._generation
        name = f"xendit-callback-{callbacks[0].callback_id}"
        if faults.delay_s > 0:
            self._on_timer(faults.delay_s, lambda: self._send_in_order(sends, generation), name)
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            # A synchronous caller outside any loop: the scheduler's next tick sends it.
            self._on_timer(0.0, lambda: self._send_in_order(sends, generation), name)
            return
        self._spawn(self._send_in_order(sends, generation))

    async def _send_in_order(self, sends: Sequence[tuple[OutboundCallback, int]], generation: int) -> None:
        for callback, copy in sends:
            await self._attempt(callback, copy, 1, generation)

    def _spawn(self, send: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(send)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_timer(self, delay: float, make_send: Callable[[], Coroutine[Any, Any, None]], name: str) -> Timer:
        """Send after ``delay`` clock seconds, as a timer on the scheduler."""

        def fire() -> Coroutine[Any, Any, None] | None:
            send = make_send()
            if self.scheduler.is_virtual:
                return send  # advance() awaits it: virtual time stands still while the receiver answers
            self._spawn(send)  # the wall-clock driver must not stall for up to `timeout` on a slow receiver
            return None

        timer = self.scheduler.call_later(delay, fire, name=name)
        self._timers.append(timer)
        return timer

    async def _attempt(self, callback: OutboundCallback, copy: int, attempt: int, generation: int) -> None:
        """One send; on failure, arm the next retry of the schedule or give up."""
        if generation != self._generation:
            return  # queued before a reset
        url = self.backend.callback_url
        if not url:
            self._record(callback, copy, attempt, "skipped", error="no callback_url configured")
            return
        started = self.scheduler.clock.now()
        status, error = await self._post(url, callback.body)
        if generation != self._generation:
            return
        if status is not None and 200 <= status < 300:
            self._record(callback, copy, attempt, "delivered", url=url, response_status=status, at=started)
        elif attempt <= len(self.schedule):
            timer = self._retry_at(callback, copy, attempt + 1, self.schedule[attempt - 1], f"retry-{attempt}")
            self._record(
                callback,
                copy,
                attempt,
                "failed",
                url=url,
                response_status=status,
                error=error,
                at=started,
                next_attempt_at=timer.when,
            )
        else:
            self._record(callback, copy, attempt, "gave_up", url=url, response_status=status, error=error, at=started)

    def _retry_at(self, callback: OutboundCallback, copy: int, attempt: int, delay: float, label: str) -> Timer:
        """Arm attempt number ``attempt`` of one send after ``delay``; it stays pending until then."""
        generation = self._generation
        timer = self._on_timer(
            delay,
            lambda: self._attempt(callback, copy, attempt, generation),
            f"xendit-callback-{callback.callback_id}-{copy}-{label}",
        )
        self._pending[(callback.callback_id, copy)] = (attempt, timer.when)
        return timer

    async def _post(self, url: str, body: dict[str, Any]) -> tuple[int | None, str | None]:
        """POST the body; a status for any answer, an error text when there was none."""
        headers = {"x-callback-token": self.backend.callback_token}
        try:
            response = await self._client().post(url, json=body, headers=headers, timeout=self.timeout)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return None, f"{type(exc).__name__}: {exc}".rstrip(": ")
        return response.status_code, None

    def _client(self) -> httpx.AsyncClient:
        """One client per event loop: an httpx client must not be shared across loops.

        ``trust_env=False`` keeps proxy variables from rerouting loopback callbacks.
        """
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None or client.is_closed:
            client = httpx.AsyncClient(trust_env=False, verify=client_context())
            self._clients = {lp: c for lp, c in self._clients.items() if not lp.is_closed()}
            self._clients[loop] = client
        return client

    def _record(
        self,
        callback: OutboundCallback,
        copy: int,
        attempt: int,
        outcome: str,
        *,
        url: str | None = None,
        response_status: int | None = None,
        error: str | None = None,
        at: float | None = None,
        next_attempt_at: float | None = None,
    ) -> None:
        entry = DeliveryAttempt(
            callback_id=callback.callback_id,
            invoice_id=callback.invoice_id,
            external_id=callback.external_id,
            status=callback.status,
            url=url if url is not None else self.backend.callback_url,
            attempt=attempt,
            copy=copy,
            outcome=outcome,
            response_status=response_status,
            error=error,
            at=self.scheduler.clock.now() if at is None else at,
            next_attempt_at=next_attempt_at,
        )
        self.log.append(entry)
        if outcome in ("delivered", "gave_up", "skipped", "dropped"):
            self._pending.pop((callback.callback_id, copy), None)
        if outcome in ("failed", "gave_up"):
            log.info(
                "xendit callback %s attempt %d %s: %s", callback.callback_id, attempt, outcome, error or response_status
            )
