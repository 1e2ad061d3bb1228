"""What the speed benchmarks of issue 9 share: a `halo-sim serve` process, the bare anchors, a lean client, figures.

The benchmarks measure the server as a deployment sees it: `halo-sim serve` runs as a separate process on
loopback, and every figure is printed beside an anchor run in the same script (a bare `websockets` server or
`GET /health`), so a slow machine or a busy neighbour moves both and the ratio stays meaningful.

The HTTP client here is a few lines over asyncio streams (one keep-alive connection per worker, requests
pre-encoded): httpx would spend more CPU per request than the server does on a 2-core machine, and the
figures would measure the client.

Run alone, this module is one of the anchors, in a process of its own like the server it is compared with:

    python benchmarks/_harness.py relay PORT    # forwards each frame of /relay?pair=K&role=a to role=b, acks a
    python benchmarks/_harness.py fanout PORT   # a frame sent on /go is broadcast to every /ws socket; /ws acks
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # this worktree's code, not the venv's editable install
    sys.path.insert(0, str(ROOT))

CLI = [sys.executable, "-c", "from halo_sim.cli.app import main; main()"]
TEST = "/internal/_test"
T = TypeVar("T")
R = TypeVar("R")


# --- processes ----------------------------------------------------------------------------------------------


def free_port() -> int:
    """A port nothing listens on right now (the OS's pick)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def raise_fd_limit() -> None:
    """A thousand sockets on each side need more than the usual 1,024 descriptors (children inherit it)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# A benchmark server's configuration: a known webhook token, and login limits out of the way of a load test.
CALLBACK_TOKEN = "bench-callback-token"
SERVE_SETTINGS = {
    "XENDIT_CALLBACK_TOKEN": CALLBACK_TOKEN,
    "HALO_ANON_LOGIN_LIMIT": "100000000",
    "HALO_OTP_REQUEST_LIMIT": "100000000",
}


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a child: this worktree first on PYTHONPATH, wide lines for rich, bench settings."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, **SERVE_SETTINGS, "PYTHONPATH": path, "COLUMNS": "200", **(extra or {})}


@dataclass
class Process:
    """A server started by a benchmark: its URLs (as it printed them) and its memory."""

    proc: subprocess.Popen[str]
    urls: dict[str, str] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss_kib(self) -> int:
        """Resident memory now, from /proc (what the kernel charges the process)."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]

    def stop(self) -> None:
        """SIGTERM (serve's clean stop), then wait; kill only if it hangs."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _started(cmd: list[str], ready: str, env: dict[str, str]) -> Process:
    """Start ``cmd`` and read its output until the line containing ``ready``; keep draining it after."""
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    assert proc.stdout is not None
    process = Process(proc)
    for line in proc.stdout:
        found = re.match(r"\s*([\w ]+?)\s+((?:https?|wss?)://\S+)", line)
        if found:
            process.urls[found.group(1).strip()] = found.group(2)
        if ready in line:
            threading.Thread(target=proc.stdout.read, daemon=True).start()  # never let a full pipe stall it
            return process
    raise RuntimeError(f"{cmd[-1]} exited before it was ready (code {proc.wait()})")


def start_serve(*args: str, env: dict[str, str] | None = None) -> Process:
    """`halo-sim serve` on a free loopback port, as a separate process; returns once it printed its URLs."""
    raise_fd_limit()
    cmd = [*CLI, "serve", "--host", "127.0.0.1", "--port", str(free_port()), *args]
    return _started(cmd, "test hooks", child_env(env))


def start_bare(kind: str) -> Process:
    """One of the bare anchors of this module (``relay`` or ``fanout``) in its own process."""
    raise_fd_limit()
    port = free_port()
    process = _started([sys.executable, __file__, kind, str(port)], "ready", child_env())
    process.urls["ws"] = f"ws://127.0.0.1:{port}"
    return process


# --- a lean HTTP/1.1 client ---------------------------------------------------------------------------------


def request(method: str, path: str, body: Any = None, token: str | None = None, **headers: str) -> bytes:
    """One HTTP/1.1 request, encoded once (so a timed loop only writes bytes)."""
    payload = b"" if body is None else json.dumps(body).encode()
    head = [f"{method} {path} HTTP/1.1", "host: 127.0.0.1", f"content-length: {len(payload)}"]
    if payload:
        head.append("content-type: application/json")
    if token:
        head.append(f"authorization: Bearer {token}")
    head += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + payload


class Http:
    """One keep-alive connection; one request at a time."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80

    async def open(self) -> Http:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def exchange(self, raw: bytes) -> tuple[int, bytes]:
        """Send one encoded request; the status and the body of the answer."""
        self.writer.write(raw)
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        length = next((int(h.split(":", 1)[1]) for h in head if h.lower().startswith("content-length:")), 0)
        return int(head[0].split()[1]), await self.reader.readexactly(length)

    async def call(self, method: str, path: str, body: Any = None, token: str | None = None, **headers: str) -> Any:
        """A JSON call that must succeed (setup steps, never timed).

        uvicorn closes a keep-alive connection idle for 5 s, unanswered: such a call is sent again once
        on a new connection.
        """
        raw = request(method, path, body, token, **headers)
        try:
            status, data = await self.exchange(raw)
        except (asyncio.IncompleteReadError, ConnectionError):
            self.close()
            status, data = await (await self.open()).exchange(raw)
        if status >= 400:
            raise RuntimeError(f"{method} {path} -> {status}: {data[:300]!r}")
        return json.loads(data) if data else None

    def close(self) -> None:
        self.writer.close()


async def connections(base_url: str, count: int) -> list[Http]:
    """``count`` open connections (opened before any timer starts)."""
    return list(await asyncio.gather(*(Http(base_url).open() for _ in range(count))))


async def hammer(
    base_url: str, requests: Sequence[bytes], concurrency: int, expect: bytes = b""
) -> tuple[float, Counter[str]]:
    """Send ``requests`` over ``concurrency`` keep-alive connections; wall seconds and what came back.

    Answers are counted by status; a 200 whose body lacks ``expect`` counts apart, so a fast wrong
    answer (``ignored`` instead of ``confirmed``) never passes for speed.
    """
    pool = await connections(base_url, concurrency)
    answers: Counter[str] = Counter()
    queue = iter(requests)

    async def worker(http: Http) -> None:
        for raw in queue:  # a shared iterator: each request is taken by exactly one worker
            status, body = await http.exchange(raw)
            answers[str(status) if expect in body else f"{status} without {expect.decode()}"] += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(h) for h in pool))
    elapsed = time.perf_counter() - started
    for http in pool:
        http.close()
    return elapsed, answers


async def each(base_url: str, items: Iterable[T], step: Callable[[Http, T], Awaitable[R]], width: int = 8) -> list[R]:
    """``step(http, item)`` for every item over ``width`` connections, results in item order (setup only)."""
    pool = await connections(base_url, width)
    todo = list(enumerate(items))
    results: dict[int, R] = {}

    async def worker(http: Http) -> None:
        while todo:
            index, item = todo.pop()
            results[index] = await step(http, item)

    await asyncio.gather(*(worker(h) for h in pool))
    for http in pool:
        http.close()
    return [results[i] for i in range(len(results))]


# --- the app's flows, through the same endpoints the apps and the Maestro flows use ----------------------


@dataclass
class User:
    """A logged-in customer or mitra."""

    role: str
    id: str
    token: str
    phone: str | None = None


async def new_mitra(http: Http, number: int, device: bool = True) -> User:
    """Seed, log in, go online and (as the app does) register the FCM device of mitra ``number``."""
    phone = f"+62877{number:07d}"
    await http.call("POST", f"{TEST}/seed-mitra", {"phone": phone, "display_name": f"Bench {number}"})
    login = await http.call("POST", "/api/mitra/auth/login", {"phone": phone, "password": "bestie123"})
    mitra = User("mitra", login["mitra"]["id"], login["token"], phone)
    await http.call("POST", "/api/mitra/status", {"online": True}, mitra.token)
    if device:
        body = {"fcm_token": f"bench-fcm-mitra-{number}", "platform": "android"}
        await http.call("POST", "/api/mitra/devices", body, mitra.token)
    return mitra


async def new_customer(http: Http, phone: str | None = None) -> User:
    """An anonymous customer, or a verified one when ``phone`` is given (OTP read through the test hook)."""
    if phone is None:
        login = await http.call("POST", "/api/customer/auth/anonymous")
    else:
        await http.call("POST", "/api/customer/auth/otp/request", {"phone": phone})
        code = (await http.call("GET", f"{TEST}/otp?phone={phone.replace('+', '%2B')}"))["code"]
        login = await http.call("POST", "/api/customer/auth/otp/verify", {"phone": phone, "code": code})
    return User("customer", login["customer"]["id"], login["token"], phone)


async def pay(http: Http, customer: User, minutes: int = 60) -> dict[str, Any]:
    """A pending payment (with its fake Xendit invoice)."""
    return await http.call("POST", "/api/customer/payments", {"duration_minutes": minutes}, customer.token)  # type: ignore[no-any-return]


async def confirm(http: Http, payment_id: str) -> Any:
    """Confirm through the real confirm path: the blast runs before this returns."""
    return await http.call("POST", f"{TEST}/force-confirm-payment", {"payment_request_id": payment_id})


async def matched_pair(http: Http, number: int) -> tuple[User, User, str]:
    """A customer and a fresh mitra in an active session: the mitra alone is free when the blast goes out."""
    mitra = await new_mitra(http, number, device=False)
    customer = await new_customer(http)
    payment = await pay(http, customer)
    await confirm(http, payment["id"])
    session = await http.call("POST", f"{TEST}/accept-latest-pending", {"mitra_id": mitra.id})
    return customer, mitra, session["id"]


# --- WebSockets ---------------------------------------------------------------------------------------------


async def ws_open(url: str, token: str | None = None) -> Any:
    """A client socket as the apps open it: permessage-deflate offered, the bearer token in the header."""
    from websockets.asyncio.client import connect

    headers = {"Authorization": f"Bearer {token}"} if token else None
    return await connect(
        url, additional_headers=headers, compression="deflate", ping_interval=None, max_size=None, open_timeout=60
    )


async def ws_open_many(urls_and_tokens: Sequence[tuple[str, str | None]], width: int = 50) -> list[Any]:
    """Many sockets, ``width`` handshakes at a time (a thousand at once would only queue in the kernel)."""
    sockets: list[Any] = []
    for start in range(0, len(urls_and_tokens), width):
        chunk = urls_and_tokens[start : start + width]
        sockets += await asyncio.gather(*(ws_open(url, token) for url, token in chunk))
    return sockets


async def ws_close_all(sockets: Iterable[Any]) -> None:
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


def deflate_negotiated(ws: Any) -> bool:
    """Did the server accept permessage-deflate on this socket?"""
    return "permessage-deflate" in (ws.response.headers.get("Sec-WebSocket-Extensions") or "")


Pair = tuple[Any, Any, list[str]]  # sender socket, receiver socket, the frames the sender sends


def chat_frames(session_id: str, count: int) -> list[str]:
    """What the app sends over /ws for ``count`` messages, numbered."""
    return [
        json.dumps(
            {
                "type": "chat_message",
                "session_id": session_id,
                "text": f"pesan nomor {i} dari bench",
                "client_id": str(i),
            }
        )
        for i in range(count)
    ]


WINDOW = 64  # messages a sender has in flight (sent, not yet acked), as a chatty app might


async def relay(pairs: Sequence[Pair], cap: float) -> tuple[int, float]:
    """Every sender streams its frames; (chat frames received, seconds) when all arrived or at the cap.

    Each sender keeps up to :data:`WINDOW` messages unacked, so the server is never idle between messages
    yet holds no backlog when a run stops at the cap (the next run starts on a quiet server). The acks
    are drained as they come; an ``error`` frame ends the run loudly instead of counting as speed.
    """
    total = sum(len(frames) for _, _, frames in pairs)
    got, refusals = [0], []
    done = asyncio.Event()

    async def receive(ws: Any) -> None:
        async for raw in ws:
            if json.loads(raw).get("type") == "chat_message":
                got[0] += 1
                if got[0] == total:
                    done.set()

    async def stream(ws: Any, frames: list[str]) -> None:
        window = asyncio.Semaphore(WINDOW)
        acks = asyncio.create_task(drain_acks(ws, len(frames), window))
        try:
            for frame in frames:
                await window.acquire()
                await ws.send(frame)
            await acks
        finally:
            acks.cancel()

    async def drain_acks(ws: Any, count: int, window: asyncio.Semaphore) -> None:
        for _ in range(count):
            frame = json.loads(await ws.recv())
            window.release()
            if frame.get("type") == "error":
                refusals.append(frame)
                done.set()

    started = time.perf_counter()
    tasks = [asyncio.create_task(job) for s, r, f in pairs for job in (receive(r), stream(s, f))]
    try:
        await asyncio.wait_for(done.wait(), cap)
    except TimeoutError:
        pass
    elapsed = time.perf_counter() - started
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    if refusals:
        raise RuntimeError(f"the backend refused a message: {refusals[0]}")
    return got[0], elapsed


# --- figures ------------------------------------------------------------------------------------------------


STARTED = time.perf_counter()


def log(message: str) -> None:
    """Progress, with the seconds since the script started (where a slow run spends its time)."""
    print(f"  [{time.perf_counter() - STARTED:6.1f} s] {message}", flush=True)


class Budget:
    """A wall-time allowance: loops stop when it is spent and report how far they got."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.perf_counter() + seconds

    def left(self) -> float:
        return self.deadline - time.perf_counter()

    @property
    def spent(self) -> bool:
        return self.left() <= 0


@dataclass
class Row:
    """One figure: its samples, its unit, and the anchor it is compared with."""

    label: str
    samples: list[float]
    unit: str
    anchor: list[float] | None = None
    higher_is_better: bool = True
    note: str = ""


def spread(samples: Sequence[float]) -> str:
    """min / median / max."""
    if not samples:
        return "no run finished"
    return " / ".join(_num(v) for v in (min(samples), statistics.median(samples), max(samples)))


def ratio(row: Row) -> str:
    """The median against the anchor's median, as the issue's table states it."""
    if not row.anchor or not row.samples:
        return "-"
    mine, anchor = statistics.median(row.samples), statistics.median(row.anchor)
    if row.higher_is_better:
        return f"{mine / anchor * 100:.1f} % of anchor"
    return f"{mine / anchor:.1f}x anchor"


def _num(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


class Table:
    """The figures of one script, printed as they come and again as a table at the end."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.rows: list[Row] = []

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        anchor = f"   anchor {spread(row.anchor)}" if row.anchor else ""
        print(f"  {row.label}: {spread(row.samples)} {row.unit} ({len(row.samples)} runs){anchor}", flush=True)
        return row

    def print(self) -> None:
        load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
        print(f"\n### {self.title} ({os.cpu_count()} cores, load average {load}, {time.strftime('%Y-%m-%d %H:%M')})\n")
        print("| figure | min / median / max | unit | runs | anchor min / median / max | ratio | note |")
        print("|---|---|---|---|---|---|---|")
        for r in self.rows:
            anchor = spread(r.anchor) if r.anchor else "-"
            line = f"| {r.label} | {spread(r.samples)} | {r.unit} | {len(r.samples)} | {anchor} | {ratio(r)} |"
            print(f"{line} {r.note} |")


def arguments(doc: str | None, runs: int = 3, budget: float = 150.0) -> argparse.ArgumentParser:
    """The options every benchmark takes; scripts add their own sizes."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=runs, help="runs per figure (at least 3)")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run of the script")
    parser.add_argument("--budget", type=float, default=budget, help="seconds before growing loops stop early")
    return parser


# --- the bare anchors (run as `python benchmarks/_harness.py relay|fanout PORT`) -----------------------------


async def _relay(port: int) -> None:
    """Forward every frame of role a to role b of the same pair, and ack it to a (as the backend acks)."""
    from websockets.asyncio.server import serve

    pairs: dict[tuple[str, str], Any] = {}
    ack = json.dumps({"type": "message_ack"})

    async def handler(ws: Any) -> None:
        query = dict(p.split("=", 1) for p in urlsplit(ws.request.path).query.split("&") if "=" in p)
        pair, role = query.get("pair", "0"), query.get("role", "a")
        pairs[(pair, role)] = ws
        peer = (pair, "b" if role == "a" else "a")
        async for frame in ws:
            await pairs[peer].send(frame)
            await ws.send(ack)

    async with serve(handler, "127.0.0.1", port, compression="deflate", ping_interval=None, max_size=None):
        print("ready", flush=True)
        await asyncio.Future()


async def _fanout(port: int) -> None:
    """A frame sent on /go goes to every /ws socket (serialised once, as a fast hub would), then ``done``.

    A frame sent on a /ws socket is answered with a ``heartbeat_ack`` (the memory benchmark's heartbeat).
    """
    from websockets.asyncio.server import broadcast, serve

    clients: set[Any] = set()
    ack = json.dumps({"type": "heartbeat_ack"})

    async def handler(ws: Any) -> None:
        if ws.request.path.startswith("/go"):
            async for frame in ws:
                broadcast(clients, frame)
                await ws.send("done")
            return
        clients.add(ws)
        try:
            async for _ in ws:  # a heartbeat gets its ack, as the backend answers one
                await ws.send(ack)
        finally:
            clients.discard(ws)

    async with serve(handler, "127.0.0.1", port, compression="deflate", ping_interval=None, max_size=None):
        print("ready", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    kind, port_arg = sys.argv[1], int(sys.argv[2])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    asyncio.run({"relay": _relay, "fanout": _fanout}[kind](port_arg))
