"""Webhook speed (issue 9): distinct PAID callbacks per second as payments pile up, and duplicates; anchor GET /health.

    python benchmarks/webhook.py [--payments 10000] [--concurrency 8] [--runs 3] [--quick] [--budget 170]

Callbacks go to POST /api/shared/payment/webhooks/xendit exactly as Xendit sends them (the wire format of
``simkit.xendit_wire``, the ``x-callback-token`` that ``halo-sim serve`` configures), over ``--concurrency``
keep-alive connections. Payments are created (with their fake-Xendit invoices) in batches of 100 outside the
clock, then that batch's callbacks are timed, so the Nth callback meets a store of N payments and N-1 chat
sessions, as in production. Every answer must be 200 ``confirmed`` (``duplicate`` for the duplicates).

Figures: the 1st..1,000th payment on a reset store (``--runs`` times); one run carried on to the
``--payments``th with the rate of each slice of 1,000 (the flatness the issue asks for) and the last three
batches as "around the Nth"; duplicate callbacks for already confirmed payments. The anchor is GET /health on
the same server at the same concurrency. The periodic reconciliation sweep is moved past the run
(HALO_SWEEP_INTERVAL_S) because, O(n^2) in confirmed payments today, it would stop the loop for seconds in the
middle of a slice: a cost of its own, not the webhook's.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import _harness as h

from simkit.xendit_wire import WEBHOOK_PATH, standalone_callback

BATCH = 100
SLICE = 1000


class Payments:
    """Creates payments batch by batch and times their callbacks."""

    def __init__(self, serve: h.Process, concurrency: int) -> None:
        self.base, self.concurrency = serve.urls["backend"], concurrency
        self.customers: list[h.User] = []
        self.confirmed: list[dict[str, Any]] = []
        self.batches: list[float] = []  # seconds per timed batch, in order

    async def reset(self) -> None:
        """An empty store and ten fresh customers."""
        http = await h.Http(self.base).open()
        await http.call("POST", f"{h.TEST}/reset", {})
        self.customers = [await h.new_customer(http) for _ in range(10)]
        self.confirmed, self.batches = [], []
        http.close()

    async def confirm_up_to(self, count: int, budget: h.Budget) -> None:
        """Create and confirm batches until ``count`` payments are confirmed or the budget is spent."""
        while len(self.confirmed) < count and not budget.spent:
            batch = await h.each(self.base, range(BATCH), lambda http, i: h.pay(http, self.customers[i % 10], 15))
            seconds = await self.send(callbacks(batch), b'"confirmed"')
            self.batches.append(seconds)
            self.confirmed += batch

    async def send(self, requests: list[bytes], expect: bytes) -> float:
        """Seconds to get every answer; anything but 200 with ``expect`` stops the script."""
        seconds, answers = await h.hammer(self.base, requests, self.concurrency, expect)
        if set(answers) != {"200"}:
            raise RuntimeError(f"unexpected answers to the callbacks: {dict(answers)}")
        return seconds

    def rate(self, first: int, last: int) -> float:
        """Callbacks per second over batches ``first``..``last`` (0-based, exclusive end)."""
        return (last - first) * BATCH / sum(self.batches[first:last])


def callbacks(payments: list[dict[str, Any]]) -> list[bytes]:
    """One PAID callback per payment, as Xendit sends it."""
    return [
        h.request(
            "POST",
            WEBHOOK_PATH,
            standalone_callback(p["xendit_invoice_id"], p["id"], "PAID", p["amount"], time.time()),
            x_callback_token=h.CALLBACK_TOKEN,
        )
        for p in payments
    ]


async def health(serve: h.Process, count: int, concurrency: int, runs: int) -> list[float]:
    """The anchor: GET /health per second at the same concurrency."""
    probe = [h.request("GET", "/health")] * count
    return [count / (await h.hammer(serve.urls["backend"], probe, concurrency, b'"ok"'))[0] for _ in range(runs)]


async def first_thousand(payments: Payments, runs: int, budget: h.Budget) -> list[float]:
    """The 1st..1,000th confirmation on a reset store, ``runs`` times (the last run's store is kept)."""
    rates = []
    for _ in range(runs):
        await payments.reset()
        await payments.confirm_up_to(SLICE, budget)
        rates.append(payments.rate(0, len(payments.batches)))
    return rates


def slices(payments: Payments) -> str:
    """The rate of each slice of 1,000 payments: flat, or falling as the store grows."""
    per = SLICE // BATCH
    spans = range(0, len(payments.batches) - per + 1, per)
    return ", ".join(f"{i * BATCH + 1:,}..{(i + per) * BATCH:,}: {payments.rate(i, i + per):,.0f}/s" for i in spans)


async def main() -> None:
    parser = h.arguments(__doc__, budget=170.0)
    parser.add_argument("--payments", type=int, default=10000, help="how far the long run grows the store")
    parser.add_argument("--concurrency", type=int, default=8, help="keep-alive connections sending at once")
    parser.add_argument("--duplicates", type=int, default=1000, help="duplicate callbacks per run")
    args = parser.parse_args()
    target, duplicates = (2000, 300) if args.quick else (args.payments, args.duplicates)
    budget, table = h.Budget(args.budget), h.Table(f"webhook (concurrency {args.concurrency})")
    serve = h.start_serve(env={"HALO_SWEEP_INTERVAL_S": "86400"})
    try:
        payments = Payments(serve, args.concurrency)
        anchor = await health(serve, 2000, args.concurrency, args.runs)
        table.add(h.Row("GET /health (the anchor)", anchor, "req/s"))
        first = await first_thousand(payments, args.runs, budget)
        table.add(h.Row("webhook, distinct PAID confirmations, 1st..1,000th payment", first, "/s", anchor))
        await payments.confirm_up_to(target, budget)
        reached = len(payments.confirmed)
        last = len(payments.batches)
        around = [payments.rate(i, i + 1) for i in range(max(0, last - 3), last)]
        note = f"per slice of 1,000: {slices(payments)}" + ("" if reached >= target else " (budget spent)")
        label = f"webhook, distinct PAID confirmations, around the {reached:,}th payment (last 3 batches of 100)"
        table.add(h.Row(label, around, "/s", anchor, note=note))
        dupes = [
            await payments.send(callbacks(payments.confirmed[:duplicates]), b'"duplicate"') for _ in range(args.runs)
        ]
        label = f"webhook, duplicate PAID callbacks ({reached:,} payments in the store)"
        table.add(h.Row(label, [duplicates / s for s in dupes], "/s", anchor))
    finally:
        serve.stop()
    table.print()


if __name__ == "__main__":
    asyncio.run(main())
