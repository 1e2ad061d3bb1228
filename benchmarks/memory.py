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

Then (issue 13, the fakes' bounds) the fakes of the same ``serve`` take ``--pushes`` FCM sends and
``--invoices`` Xendit invoices, each paid (so one callback reaches the backend's webhook), in ``--fake-runs``
batches: the RSS growth per push and per invoice, batch by batch. Each fake keeps only its newest entries
(docs/fakes.md, "Bounded memory"), so past the caps the growth falls to about zero (flat); with unbounded
lists it stays at the cost of one entry (growing). ``--fakes-only`` runs this phase alone.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import _harness as h

HEARTBEAT = json.dumps({"type": "heartbeat"})
XENDIT_KEY = "xnd_development_bench_memory"
XENDIT_AUTH = "Basic " + base64.b64encode(f"{XENDIT_KEY}:".encode()).decode()


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


def pushes(count: int, start: int) -> list[bytes]:
    """FCM sends to 50 devices, each a typical Halo push (a notification and a few data keys)."""
    return [
        h.request(
            "POST",
            "/v1/projects/halo-bench/messages:send",
            {
                "message": {
                    "token": f"bench-device-{n % 50:04d}-" + "x" * 120,
                    "notification": {"title": "Pesan baru", "body": f"message number {n} " + "y" * 60},
                    "data": {"type": "chat_message", "session_id": f"sess-{n}", "message_id": f"msg-{n}"},
                }
            },
            token="bench-oauth-token",
        )
        for n in range(start, start + count)
    ]


async def invoice_paid(http: h.Http, number: int) -> None:
    """One invoice created through the Invoice API, then paid: its PAID callback reaches the backend."""
    body = {"external_id": f"bench-{number}", "amount": 25000, "payer_email": "qa@example.com", "description": "x" * 40}
    invoice = await http.call("POST", "/v2/invoices", body, authorization=XENDIT_AUTH)
    await http.call("POST", f"/_fake/invoices/{invoice['id']}/pay", {})


async def fakes_kept(serve: h.Process, total_pushes: int, total_invoices: int, runs: int) -> tuple[Any, Any, str]:
    """KiB of RSS per FCM push and per paid invoice, one sample per batch, and the RSS after each batch."""
    per_push, per_invoice, trail = [], [], []
    push_size, invoice_size = total_pushes // runs, total_invoices // runs
    for run in range(runs):
        before = await settle(serve)
        await h.hammer(serve.urls["fake_fcm"], pushes(push_size, run * push_size), 8)
        middle = await settle(serve)
        numbers = range(run * invoice_size, (run + 1) * invoice_size)
        await h.each(serve.urls["fake_xendit"], numbers, invoice_paid)
        after = await settle(serve)
        per_push.append((middle - before) / push_size)
        per_invoice.append((after - middle) / invoice_size)
        trail.append(after)
        h.log(f"fakes batch {run + 1}/{runs}: RSS {before:,} -> {middle:,} (pushes) -> {after:,} KiB (invoices)")
    return per_push, per_invoice, "RSS after each batch (KiB): " + ", ".join(f"{r:,}" for r in trail)


def verdict(samples: list[float]) -> str:
    """Flat when the last two batches grow by under a tenth of what the first one grew (the caps are
    reached after a few batches; before that every bounded log still fills up)."""
    last = sum(samples[-2:]) / len(samples[-2:])
    return "flat" if last <= max(0.1 * samples[0], 0.05) else "growing"


async def fakes_phase(serve: h.Process, args: Any, table: h.Table) -> None:
    """The fakes' own logs and invoices under a days-long load, in batches."""
    per_push, per_invoice, trail = await fakes_kept(serve, args.pushes, args.invoices, args.fake_runs)
    label = f"server RSS per FCM push ({args.pushes // args.fake_runs} per batch)"
    table.add(h.Row(label, per_push, "KiB", higher_is_better=False, note=f"{verdict(per_push)}; {trail}"))
    label = f"server RSS per paid invoice + callback ({args.invoices // args.fake_runs} per batch)"
    table.add(h.Row(label, per_invoice, "KiB", higher_is_better=False, note=verdict(per_invoice)))


async def main() -> None:
    parser = h.arguments(__doc__)
    parser.add_argument("--mitras", type=int, default=900, help="mitra sockets in all (split over the runs)")
    parser.add_argument("--frames", type=int, default=3000, help="chat frames relayed in all (split over the runs)")
    parser.add_argument("--pushes", type=int, default=40_000, help="FCM sends in all (split over --fake-runs)")
    parser.add_argument("--invoices", type=int, default=20_000, help="paid invoices in all (split over --fake-runs)")
    parser.add_argument("--fake-runs", type=int, default=5, help="batches of the fakes phase")
    parser.add_argument("--fakes-only", action="store_true", help="run only the fakes phase")
    args = parser.parse_args()
    if args.fakes_only:
        await fakes_only(args)
        return
    mitras, frames = (90, 300) if args.quick else (args.mitras, args.frames)
    budget, table = h.Budget(args.budget), h.Table("memory")
    size = mitras // args.runs
    anchor = await bare_batches(size, args.runs)
    serve = h.start_serve(env={"XENDIT_SECRET_KEY": XENDIT_KEY})
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
        await fakes_phase(serve, args, table)
        await fakes_phase(serve, args, table)
    finally:
        serve.stop()
    table.print()


async def fakes_only(args: Any) -> None:
    """``--fakes-only``: a fresh ``serve`` for the fakes phase alone."""
    table, serve = h.Table("memory (fakes)"), h.start_serve(env={"XENDIT_SECRET_KEY": XENDIT_KEY})
    try:
        print(f"  serve RSS at start: {serve.rss_kib():,} KiB", flush=True)
        await fakes_phase(serve, args, table)
    finally:
        serve.stop()
    table.print()


if __name__ == "__main__":
    asyncio.run(main())
