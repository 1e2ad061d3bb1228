"""The control center's tick with a long history (issue 13): what one refresh of an open page costs.

    python benchmarks/control_tick.py [--pushes 5000] [--invoices 2500] [--ticks 40] [--runs 3] [--quick]

A ``halo-sim serve`` process first takes a history: ``--pushes`` FCM sends (50 devices), ``--invoices``
Xendit invoices created and paid (each one callback and one delivery attempt), and 30 backend payments (the
page joins them with their invoices). Then, per run, ``--ticks`` reads of ``GET /control/snapshot``, what
every tick of an open page computes (the backend's tables and the fakes' logs), one after the other on one
keep-alive connection: the milliseconds per tick and the answer's size. The anchor is ``GET /health`` on the
same server and connection, so a busy machine moves both. With the fakes read in full each tick the cost grows
with the history; read from a cursor (only the newest entries, or what is new since the last tick) it does not.
"""

from __future__ import annotations

import asyncio
import time

import _harness as h
from memory import XENDIT_KEY, invoice_paid, pushes


async def history(serve: h.Process, total_pushes: int, total_invoices: int) -> None:
    """The fakes' history, and a few backend payments with their invoices."""
    await h.hammer(serve.urls["fake_fcm"], pushes(total_pushes, 0), 8)
    await h.each(serve.urls["fake_xendit"], range(total_invoices), invoice_paid)
    http = await h.Http(serve.urls["backend"]).open()
    for _ in range(30):
        await h.pay(http, await h.new_customer(http))
    http.close()


async def timed(http: h.Http, path: str, count: int) -> tuple[float, int]:
    """Milliseconds per request (the mean of ``count`` in a row) and the size of the last answer."""
    raw = h.request("GET", path)
    started, size = time.perf_counter(), 0
    for _ in range(count):
        status, body = await http.exchange(raw)
        assert status == 200, (path, status, body[:200])
        size = len(body)
    return (time.perf_counter() - started) * 1000 / count, size


async def main() -> None:
    parser = h.arguments(__doc__)
    parser.add_argument("--pushes", type=int, default=5000, help="FCM sends before the ticks")
    parser.add_argument("--invoices", type=int, default=2500, help="paid invoices before the ticks")
    parser.add_argument("--ticks", type=int, default=40, help="snapshot reads per run")
    args = parser.parse_args()
    total_pushes, total_invoices = (500, 250) if args.quick else (args.pushes, args.invoices)
    table = h.Table("control center tick")
    serve = h.start_serve(env={"XENDIT_SECRET_KEY": XENDIT_KEY})
    try:
        await history(serve, total_pushes, total_invoices)
        h.log(f"history: {total_pushes:,} pushes, {total_invoices:,} paid invoices, 30 backend payments")
        http = await h.Http(serve.urls["backend"]).open()
        await timed(http, "/control/snapshot", 2)  # warm: the desk's first read takes what is there
        ticks, anchor, size = [], [], 0
        for _ in range(args.runs):
            ms, size = await timed(http, "/control/snapshot", args.ticks)
            ticks.append(ms)
            anchor.append((await timed(http, "/health", args.ticks))[0])
        http.close()
        note = f"history {total_pushes:,} pushes + {total_invoices:,} invoices; answer {size:,} bytes"
        table.add(h.Row("GET /control/snapshot (one tick of an open page)", ticks, "ms", anchor, False, note))
    finally:
        serve.stop()
    table.print()


if __name__ == "__main__":
    asyncio.run(main())
