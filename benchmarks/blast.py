"""Blast speed (issue 9): confirmation to the last ``pairing_offer`` on N open mitra sockets, against a bare fan-out.

    python benchmarks/blast.py [--sizes 100,300,1000] [--history 2000] [--messages 10000] [--runs 3] [--quick]

Mitras are added as the app adds them (seeded, logged in, online, FCM device registered with
POST /api/mitra/devices, /ws open with permessage-deflate) until the store holds 100, then 300, then 1,000 of
them; at each size a verified customer pays and ``_test/force-confirm-payment`` confirms, and the figure is
the time from sending that request to the last mitra socket receiving its ``pairing_offer`` (the attempt is
then timed out through ``_test/force-pairing-timeout``, so every blast starts with the mitras free). Then the
store grows by ``--history`` past sessions (``_test/seed-history-session``, spread over the mitras) and
``--messages`` chat messages (a real matched pair over /ws) and the largest blast is measured again. The
anchor is a bare ``websockets`` server in its own process sending one frame to the same number of sockets.
Growing (mitras, past sessions, messages) stops when ``--budget`` is spent; the output says how far it got.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from typing import Any

import _harness as h

CUSTOMER_PHONE = "+6281299990001"
HEARTBEAT = json.dumps({"type": "heartbeat"})
OFFER = json.dumps(
    {
        "type": "pairing_offer",
        "session_id": "00000000-0000-4000-8000-000000000000",
        "mode": "blast",
        "customer_name": "Customer",
        "duration_minutes": 60,
        "topic_sensitivity": None,
        "expires_in_s": 300.0,
    }
)


class Inbox:
    """Counts frames of the armed types across many sockets, each type since it was last armed."""

    def __init__(self) -> None:
        self.expected: dict[str, int] = {}
        self.count: dict[str, int] = {}
        self.last: dict[str, float] = {}
        self.done: dict[str, asyncio.Event] = {}

    def arm(self, kind: str, expected: int) -> None:
        self.expected[kind], self.count[kind], self.last[kind] = expected, 0, 0.0
        self.done[kind] = asyncio.Event()

    def listen(self, ws: Any) -> asyncio.Task[None]:
        """A reader for one socket (every frame parsed, as an app would)."""

        async def read() -> None:
            async for raw in ws:
                kind = json.loads(raw).get("type")
                if kind in self.expected:
                    self.count[kind] += 1
                    self.last[kind] = time.perf_counter()
                    if self.count[kind] == self.expected[kind]:
                        self.done[kind].set()

        return asyncio.create_task(read())

    async def wait(self, kind: str, started: float, cap: float) -> float | None:
        """Milliseconds from ``started`` to the last expected frame, or None if they did not all come in time."""
        try:
            await asyncio.wait_for(self.done[kind].wait(), cap)
        except TimeoutError:
            print(f"    only {self.count[kind]} of {self.expected[kind]} {kind} within {cap:.0f} s", flush=True)
            return None
        return (self.last[kind] - started) * 1000


class Fleet:
    """The mitras of the backend, each with its socket and reader, and the customer who pays."""

    def __init__(self, serve: h.Process, http: h.Http, customer: h.User) -> None:
        self.serve, self.http, self.customer = serve, http, customer
        self.mitras: list[h.User] = []
        self.inbox = Inbox()
        self.sockets: list[Any] = []
        self.readers: list[asyncio.Task[None]] = []

    async def grow(self, size: int) -> None:
        """Add mitras as the app does until there are ``size``, each with its socket open and read."""
        numbers = range(len(self.mitras), size)
        added = await h.each(self.serve.urls["backend"], numbers, h.new_mitra)
        sockets = await h.ws_open_many([(self.serve.urls["websocket"], m.token) for m in added])
        self.mitras += added
        self.sockets += sockets
        self.readers += [self.inbox.listen(ws) for ws in sockets]

    async def heartbeat(self, cap: float) -> None:
        """Every app heartbeats over its socket (presence lapses after 90 s without one); waits for the acks."""
        self.inbox.arm("heartbeat_ack", len(self.sockets))
        await asyncio.gather(*(ws.send(HEARTBEAT) for ws in self.sockets))
        await self.inbox.wait("heartbeat_ack", time.perf_counter(), cap)

    async def blast(self, cap: float) -> float | None:
        """One timed blast to every mitra, then the attempt timed out so the mitras are free again."""
        await self.heartbeat(cap)
        payment = await h.pay(self.http, self.customer)
        self.inbox.arm("pairing_offer", len(self.mitras))
        started = time.perf_counter()
        await h.confirm(self.http, payment["id"])
        ms = await self.inbox.wait("pairing_offer", started, cap)
        await self.http.call("POST", f"{h.TEST}/force-pairing-timeout", {"payment_request_id": payment["id"]})
        await asyncio.sleep(0.2)  # let the readers take the withdrawals before the next clock starts
        return ms


async def bare_fanout(bare: h.Process, size: int, runs: int, cap: float) -> list[float]:
    """The anchor: one frame to ``size`` sockets of the bare server, ``runs`` times."""
    inbox = Inbox()
    sockets = await h.ws_open_many([(f"{bare.urls['ws']}/ws", None)] * size)
    readers = [inbox.listen(ws) for ws in sockets]
    go = await h.ws_open(f"{bare.urls['ws']}/go")
    await asyncio.sleep(0.1)  # every socket registered on the server's side
    samples = []
    for _ in range(runs):
        inbox.arm("pairing_offer", size)
        started = time.perf_counter()
        await go.send(OFFER)
        await go.recv()
        ms = await inbox.wait("pairing_offer", started, cap)
        samples += [ms] if ms is not None else []
    await h.ws_close_all([go, *sockets])
    for reader in readers:
        reader.cancel()
    return samples


async def blasts(fleet: Fleet, runs: int, cap: float) -> list[float]:
    samples = [await fleet.blast(cap) for _ in range(runs)]
    return [s for s in samples if s is not None]


async def fill_history(fleet: Fleet, sessions: int, messages: int, budget: h.Budget) -> tuple[int, int]:
    """Past sessions and real chat messages in the store: how many of each went in before the budget ran out."""
    base = fleet.serve.urls["backend"]

    async def past(http: h.Http, i: int) -> Any:
        body = {"customer_phone": fleet.customer.phone, "mitra_phone": fleet.mitras[i % len(fleet.mitras)].phone}
        return None if budget.spent else await http.call("POST", f"{h.TEST}/seed-history-session", body)

    seeded = sum(r is not None for r in await h.each(base, range(sessions), past))
    h.log(f"{seeded:,} past sessions seeded")
    customer, mitra, session_id = await h.matched_pair(fleet.http, 900_000)
    sender, receiver = await h.ws_open_many([(fleet.serve.urls["websocket"], u.token) for u in (customer, mitra)])
    await asyncio.gather(sender.recv(), receiver.recv())
    sent, _ = await h.relay([(sender, receiver, h.chat_frames(session_id, messages))], max(1.0, budget.left()))
    await h.ws_close_all([sender, receiver])
    h.log(f"{sent:,} messages sent")
    return seeded, sent


async def main() -> None:
    parser = h.arguments(__doc__, budget=120.0)
    parser.add_argument("--sizes", default="100,300,1000", help="mitra counts, ascending")
    parser.add_argument("--history", type=int, default=2000, help="past sessions before the last blasts")
    parser.add_argument("--messages", type=int, default=10000, help="chat messages before the last blasts")
    parser.add_argument("--run-cap", type=float, default=20.0, help="seconds one blast may take")
    args = parser.parse_args()
    sizes = [20, 60] if args.quick else [int(s) for s in args.sizes.split(",")]
    history, messages = (200, 500) if args.quick else (args.history, args.messages)
    budget, table = h.Budget(args.budget), h.Table("blast")
    serve, bare = h.start_serve(), h.start_bare("fanout")
    try:
        http = await h.Http(serve.urls["backend"]).open()
        fleet = Fleet(serve, http, await h.new_customer(http, CUSTOMER_PHONE))
        fresh: dict[int, tuple[list[float], list[float]]] = {}
        for size in sizes:
            if budget.spent:
                print(f"  budget spent: no blast to {size} mitras", flush=True)
                break
            await fleet.grow(size)
            h.log(f"{size} mitras online, sockets open")
            anchor = await bare_fanout(bare, size, args.runs, args.run_cap)
            mine = await blasts(fleet, args.runs, args.run_cap)
            fresh[size] = (mine, anchor)
            table.add(h.Row(f"blast to {size:,} online mitras (socket + FCM device each)", mine, "ms", anchor, False))
        if fresh:
            size = max(fresh)
            seeded, sent = await fill_history(fleet, history, messages, budget)
            mine = await blasts(fleet, args.runs, args.run_cap)
            vs_fresh = statistics.median(mine) / statistics.median(fresh[size][0]) if mine and fresh[size][0] else 0
            cut = "" if (seeded, sent) == (history, messages) else f" (budget spent: {history:,} / {messages:,} asked)"
            note = f"{vs_fresh:.2f}x the fresh store{cut}"
            label = f"the same blast to {size:,} after {seeded:,} past sessions and {sent:,} messages"
            table.add(h.Row(label, mine, "ms", fresh[size][1], False, note))
    finally:
        serve.stop()
        bare.stop()
    table.print()


if __name__ == "__main__":
    asyncio.run(main())
