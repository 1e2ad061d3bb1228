"""Server memory (issue 9): RSS per connected mitra, and what the server keeps per relayed chat frame.

    python benchmarks/memory.py [--mitras 900] [--frames 3000] [--runs 3] [--quick]

The serve process's resident memory is read from /proc. Mitras join in ``--runs`` batches: seeded, logged
in, online, FCM device registered, then /ws opened with permessage-deflate as the apps negotiate, and one
``heartbeat`` frame each way (the first frame is what makes the deflate state resident). Per batch: the RSS
growth per socket (after the rows) and per whole mitra (rows + socket). The anchor is a bare ``websockets``
server in its own process with the same sockets, the same compression and the same heartbeat round trip.

Then one matched pair relays ``--frames`` chat messages in ``--runs`` chunks: the RSS growth per frame and the
growth of the state dump (``_test/state``) per frame, with the dump's lists that grew. The hub's own list of
sent frames is not in the state dump, so it shows only inside the RSS figure (together with the stored
message rows).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import _harness as h

HEARTBEAT = json.dumps({"type": "heartbeat"})


async def settle(server: h.Process) -> int:
    """RSS once the loop had a moment to finish what the last step queued."""
    await asyncio.sleep(0.5)
    return server.rss_kib()


async def heartbeat_all(sockets: list[Any]) -> None:
    """One frame each way on every socket (past the ``connected`` frame of the backend's sockets)."""

    async def beat(ws: Any) -> None:
        await ws.send(HEARTBEAT)
        while json.loads(await ws.recv()).get("type") != "heartbeat_ack":
            pass

    await asyncio.gather(*(beat(ws) for ws in sockets))


async def backend_batches(serve: h.Process, size: int, runs: int) -> tuple[list[float], list[float], list[Any]]:
    """KiB per socket and per whole mitra, one sample per batch; the sockets stay open."""
    per_socket, per_mitra, sockets = [], [], []
    for run in range(runs):
        before = await settle(serve)
        numbers = range(run * size, (run + 1) * size)
        mitras = await h.each(serve.urls["backend"], numbers, h.new_mitra)
        rows = await settle(serve)
        opened = await h.ws_open_many([(serve.urls["websocket"], m.token) for m in mitras])
        await heartbeat_all(opened)
        after = await settle(serve)
        per_socket.append((after - rows) / size)
        per_mitra.append((after - before) / size)
        sockets += opened
    return per_socket, per_mitra, sockets


async def bare_batches(size: int, runs: int) -> list[float]:
    """The anchor: KiB per socket on the bare server, one sample per batch."""
    bare = h.start_bare("fanout")
    samples, sockets = [], []
    try:
        for _ in range(runs):
            before = await settle(bare)
            opened = await h.ws_open_many([(f"{bare.urls['ws']}/ws", None)] * size)
            await heartbeat_all(opened)
            samples.append((await settle(bare) - before) / size)
            sockets += opened
        await h.ws_close_all(sockets)
    finally:
        bare.stop()
    return samples


async def dump(base_url: str) -> tuple[int, dict[str, int]]:
    """The state dump's size in bytes and the length of each of its lists (tables flattened)."""
    http = await h.Http(base_url).open()  # a new connection: uvicorn drops one idle while frames flowed
    _, raw = await http.exchange(h.request("GET", f"{h.TEST}/state"))
    http.close()
    state = json.loads(raw)
    lists = {f"tables.{k}": len(v) for k, v in state.pop("tables").items()}
    lists.update({k: len(v) for k, v in state.items() if isinstance(v, list | dict)})
    return len(raw), lists


async def frames_kept(
    serve: h.Process, frames: int, runs: int, budget: h.Budget
) -> tuple[list[float], list[float], str]:
    """KiB of RSS and bytes of state dump per relayed chat frame, one sample per chunk; the lists that grew."""
    http = await h.Http(serve.urls["backend"]).open()
    customer, mitra, session_id = await h.matched_pair(http, 800_000)
    sender, receiver = await h.ws_open_many([(serve.urls["websocket"], u.token) for u in (customer, mitra)])
    await asyncio.gather(sender.recv(), receiver.recv())
    rss_per, dump_per = [], []
    size, lists = await dump(serve.urls["backend"])
    first_size, first_lists = size, lists
    for _ in range(runs):
        rss = await settle(serve)
        sent, _ = await h.relay(
            [(sender, receiver, h.chat_frames(session_id, frames // runs))], max(1.0, budget.left())
        )
        new_size, lists = await dump(serve.urls["backend"])
        rss_per.append((await settle(serve) - rss) / max(1, sent))
        dump_per.append((new_size - size) / max(1, sent))
        size = new_size
    await h.ws_close_all([sender, receiver])
    http.close()
    grew = ", ".join(f"{k} +{lists[k] - first_lists.get(k, 0):,}" for k in lists if lists[k] != first_lists.get(k, 0))
    return rss_per, dump_per, f"dump {first_size:,} -> {size:,} bytes; grew: {grew}"


async def main() -> None:
    parser = h.arguments(__doc__)
    parser.add_argument("--mitras", type=int, default=900, help="mitra sockets in all (split over the runs)")
    parser.add_argument("--frames", type=int, default=3000, help="chat frames relayed in all (split over the runs)")
    args = parser.parse_args()
    mitras, frames = (90, 300) if args.quick else (args.mitras, args.frames)
    budget, table = h.Budget(args.budget), h.Table("memory")
    size = mitras // args.runs
    anchor = await bare_batches(size, args.runs)
    serve = h.start_serve()
    try:
        print(f"  serve RSS at start: {serve.rss_kib():,} KiB", flush=True)
        per_socket, per_mitra, sockets = await backend_batches(serve, size, args.runs)
        deflate = "permessage-deflate negotiated" if h.deflate_negotiated(sockets[0]) else "NO permessage-deflate"
        label = f"server RSS per connected mitra socket ({size} per batch, one heartbeat each way)"
        table.add(h.Row(label, per_socket, "KiB", anchor, False, deflate))
        table.add(h.Row("server RSS per mitra, rows + device + socket", per_mitra, "KiB", higher_is_better=False))
        rss, dumped, note = await frames_kept(serve, frames, args.runs, budget)
        table.add(
            h.Row(f"server RSS kept per relayed chat frame ({frames // args.runs} per run)", rss, "KiB", note=note)
        )
        table.add(h.Row("state dump growth per relayed chat frame", dumped, "bytes"))
        await h.ws_close_all(sockets)
    finally:
        serve.stop()
    table.print()


if __name__ == "__main__":
    asyncio.run(main())
