"""Chat relay speed (issue 9): WS ``chat_message`` frames between matched pairs, against a bare relay.

    python benchmarks/chat_relay.py [--messages 1000] [--pairs 50] [--runs 3] [--quick] [--budget 150]

Each run starts from a reset store: the pairs are matched through the real flow (payment, confirmation, the
mitra accepts), both sides open /ws with permessage-deflate, then every customer sends its share of the
messages over its socket without waiting (acks drained as they come) while its mitra's socket counts the
``chat_message`` frames. The figure is messages per second from the first send to the last frame received,
for one pair sending ``--messages`` and for ``--pairs`` pairs sending ``--messages`` in all. The anchor is a
bare ``websockets`` relay in its own process (forward to the peer, ack the sender) with the same frames.
A run still going after ``--run-cap`` seconds stops and reports the rate it reached and how far it got.
"""

from __future__ import annotations

import asyncio
from typing import Any

import _harness as h


async def backend_pairs(serve: h.Process, pairs: int, per_pair: int) -> list[h.Pair]:
    """A reset store, ``pairs`` matched pairs, each side's socket open and past its ``connected`` frame."""
    http = await h.Http(serve.urls["backend"]).open()
    await http.call("POST", f"{h.TEST}/reset", {})
    matched = [await h.matched_pair(http, n) for n in range(pairs)]
    http.close()
    url = serve.urls["websocket"]
    sockets = await h.ws_open_many([(url, user.token) for c, m, _ in matched for user in (c, m)])
    await asyncio.gather(*(ws.recv() for ws in sockets))
    return [(sockets[2 * i], sockets[2 * i + 1], h.chat_frames(sid, per_pair)) for i, (_, _, sid) in enumerate(matched)]


async def bare_pairs(bare: h.Process, pairs: int, per_pair: int) -> list[h.Pair]:
    """The same frames through the bare relay: role a sends, role b receives."""
    url = bare.urls["ws"]
    sockets = await h.ws_open_many([(f"{url}/relay?pair={i}&role={r}", None) for i in range(pairs) for r in "ab"])
    await asyncio.sleep(0.05)  # the relay registers each socket on its side of the handshake
    return [(sockets[2 * i], sockets[2 * i + 1], h.chat_frames(f"bare-{i}", per_pair)) for i in range(pairs)]


async def measure(label: str, setup: Any, runs: int, cap: float, budget: h.Budget) -> tuple[list[float], str]:
    """``runs`` runs of one relay figure (msgs/s); the note says when a run hit the cap."""
    rates, notes = [], []
    for run in range(runs):
        if budget.spent:
            notes.append(f"budget spent after {run} runs")
            break
        pairs = await setup()
        got, elapsed = await h.relay(pairs, cap)
        await h.ws_close_all(ws for s, r, _ in pairs for ws in (s, r))
        total = sum(len(f) for _, _, f in pairs)
        rates.append(got / elapsed)
        if got < total:
            notes.append(f"run {run + 1} stopped at the {cap:.0f} s cap: {got} of {total} received")
    print(f"  {label}: " + ", ".join(f"{r:,.0f}" for r in rates) + " msg/s", flush=True)
    return rates, "; ".join(notes)


async def main() -> None:
    parser = h.arguments(__doc__)
    parser.add_argument("--messages", type=int, default=1000, help="messages per run (one pair; and all pairs)")
    parser.add_argument("--pairs", type=int, default=50)
    parser.add_argument("--run-cap", type=float, default=20.0, help="seconds a single run may take")
    args = parser.parse_args()
    messages, pairs = (200, 10) if args.quick else (args.messages, args.pairs)
    budget, table = h.Budget(args.budget), h.Table("chat relay")
    serve, bare = h.start_serve(), h.start_bare("relay")
    try:
        for count, per in ((1, messages), (pairs, max(1, messages // pairs))):
            anchor, _ = await measure(
                f"bare relay, {count} pair(s)",
                lambda c=count, p=per: bare_pairs(bare, c, p),
                args.runs,
                args.run_cap,
                budget,
            )
            mine, note = await measure(
                f"backend, {count} pair(s)",
                lambda c=count, p=per: backend_pairs(serve, c, p),
                args.runs,
                args.run_cap,
                budget,
            )
            label = f"chat relay, {count} matched pair(s), {count * per} WS chat_message frames per run"
            table.add(h.Row(label, mine, "msg/s", anchor, note=note))
    finally:
        serve.stop()
        bare.stop()
    table.print()


if __name__ == "__main__":
    asyncio.run(main())
