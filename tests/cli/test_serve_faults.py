"""``halo-sim serve`` as a real process under faults: SIGTERM with clients that hold it up,
SIGKILL between checkpoints, a backend that is down while fake Xendit retries, bad state files.

Every wait is a bounded poll (the deadline only fails a hung run, it never judges speed).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from simkit.server import ServerThread

CLI = [sys.executable, "-c", "from halo_sim.cli.app import main; main()"]
ROOT = Path(__file__).resolve().parents[2]
STOP_S = 30.0  # generous bound for a stop; the drain's own deadlines are 2 s per stage


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _until(check: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` if it never does."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if result := check():
                return result
        except (httpx.TransportError, OSError, ValueError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


@dataclass
class Serve:
    """One ``halo-sim serve`` process; its output goes to files so a full pipe never blocks it."""

    proc: subprocess.Popen[bytes]
    base: str
    out: Path
    err: Path

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=STOP_S)

    def stdout(self) -> str:
        return self.out.read_text()

    def stderr(self) -> str:
        return self.err.read_text()


@contextmanager
def _serve(tmp: Path, port: int, *args: str) -> Iterator[Serve]:
    run = len(list(tmp.glob("serve-*.out")))
    out, err = tmp / f"serve-{run}.out", tmp / f"serve-{run}.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [*CLI, "serve", "--port", str(port), "--fcm-port", "0", "--xendit-port", "0", *args],
            cwd=ROOT,
            stdout=stdout,
            stderr=stderr,
            env=_env(),
        )
    serve = Serve(proc, f"http://127.0.0.1:{port}", out, err)
    try:
        _until(lambda: proc.poll() is not None or httpx.get(f"{serve.base}/health").status_code == 200, "serve up")
        assert proc.poll() is None, serve.stderr()
        yield serve
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=STOP_S)


def _env() -> dict[str, str]:
    return {**os.environ, "COLUMNS": "200", "HALO_CHECKPOINT_INTERVAL_S": "0"}


def _customer(base: str, name: str = "Ayu") -> tuple[str, str]:
    """An anonymous customer with a display name; (token, customer id)."""
    body = httpx.post(f"{base}/api/customer/auth/anonymous").raise_for_status().json()
    httpx.put(
        f"{base}/api/customer/profile", json={"display_name": name}, headers=_auth(body["token"])
    ).raise_for_status()
    return body["token"], body["customer"]["id"]


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _payment(base: str, token: str) -> dict[str, Any]:
    created = httpx.post(f"{base}/api/customer/payments", json={"duration_minutes": 15}, headers=_auth(token))
    assert created.status_code == 201, created.text
    payment: dict[str, Any] = created.json()
    return payment


def _profile_status(base: str, token: str) -> int:
    return httpx.get(f"{base}/api/customer/profile", headers=_auth(token)).status_code


def _xendit_url(serve: Serve) -> str:
    state = httpx.get(f"{serve.base}/internal/_test/state").json()
    return str(state["tables"]["payment_requests"][0]["xendit_invoice_url"]).split("/web/")[0]


# --- clients that never read -------------------------------------------------------------


def _stalled_websocket(port: int, token: str) -> socket.socket:
    """A WebSocket client that floods pings and never reads: the server's sends to it block."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws?token={token} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: Bearer {token}\r\n\r\n"
        ).encode()
    )
    assert b"101" in sock.recv(12)
    ping = _masked_text_frame(json.dumps({"type": "ping"}).encode())
    sock.settimeout(1.0)
    try:
        while True:  # until the server stops reading us, because its pongs to us no longer fit
            sock.sendall(ping * 256)
    except TimeoutError:
        pass  # the server's sends to us block: the socket is held up
    except (ConnectionResetError, BrokenPipeError):
        pass  # or the server dropped us as a slow client first (close 4008): also what a stalled client meets
    return sock


def _masked_text_frame(payload: bytes) -> bytes:
    mask = os.urandom(4)
    assert len(payload) < 126
    return bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def _unread_stream(port: int) -> socket.socket:
    """A control-center SSE stream (an event every 50 ms, forever) whose client never reads."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(
        f"GET /api/control-center/stats/stream?interval=0.05 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    )
    return sock


@dataclass
class _Load:
    """Anonymous logins in a loop until the server goes away; remembers the acknowledged ones."""

    base: str
    tokens: list[str] = field(default_factory=list)
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        with httpx.Client(timeout=STOP_S) as client:
            while True:
                try:
                    answer = client.post(f"{self.base}/api/customer/auth/anonymous")
                except httpx.TransportError:
                    return
                if answer.status_code == 200:
                    self.tokens.append(answer.json()["token"])


# --- the tests ---------------------------------------------------------------------------


def test_sigterm_under_load_with_a_stalled_socket_and_an_endless_stream_saves_every_acknowledged_write(
    tmp_path: Path,
) -> None:
    port, state = _free_port(), tmp_path / "state.json"
    args = ("--state-file", str(state))
    with _serve(tmp_path, port, *args) as serve:
        token, _ = _customer(serve.base)
        payment = _payment(serve.base, token)
        load = _Load(serve.base)
        load.start()
        _until(lambda: len(load.tokens) >= 20, "20 logins under load")
        held_up = [_stalled_websocket(port, token), _unread_stream(port)]
        code = serve.stop()  # the load goes on during the stop
        assert load.thread is not None
        load.thread.join(STOP_S)
        for sock in held_up:
            sock.close()
        assert code == 0, serve.stderr()
        assert f"state saved to {state}" in serve.stdout()
    with _serve(tmp_path, port, *args) as again:
        assert _profile_status(again.base, token) == 200
        with httpx.Client(base_url=again.base) as client:
            lost = [t for t in load.tokens if client.get("/api/customer/profile", headers=_auth(t)).status_code != 200]
        assert lost == [] and len(load.tokens) >= 20
        restored = httpx.get(f"{again.base}/api/customer/payments/{payment['id']}", headers=_auth(token))
        assert restored.status_code == 200 and restored.json()["status"] == "pending"
        checkout = httpx.get(payment["xendit_invoice_url"])  # the URL handed out before the restart
        assert checkout.status_code == 200 and payment["xendit_invoice_id"] in checkout.text
        assert _payment(again.base, token)["xendit_invoice_id"] != payment["xendit_invoice_id"]


def test_sigkill_loses_at_most_what_followed_the_last_checkpoint_and_reissues_no_id_or_token(tmp_path: Path) -> None:
    port, state = _free_port(), tmp_path / "state.json"
    args = ("--state-file", str(state), "--checkpoint-interval", "0.2")
    with _serve(tmp_path, port, *args) as serve:
        before = [_customer(serve.base) for _ in range(5)]
        paid_before = _payment(serve.base, before[0][0])
        saved = lambda: json.loads(state.read_text())  # noqa: E731
        _until(lambda: paid_before["id"] in state.read_text(), "a checkpoint with the first writes")
        assert saved()["kind"] == "checkpoint"
        after = [_customer(serve.base) for _ in range(5)]  # acknowledged, then the process dies
        paid_after = _payment(serve.base, after[0][0])
        serve.stop(signal.SIGKILL)
    with _serve(tmp_path, port, *args) as again:
        assert [t for t, _ in before if _profile_status(again.base, t) != 200] == []
        fresh = [_customer(again.base) for _ in range(10)]
        issued = {value for pair in before + after for value in pair}
        assert not {value for pair in fresh for value in pair} & issued
        lost_invoices = {paid_before["xendit_invoice_id"], paid_after["xendit_invoice_id"]}
        assert _payment(again.base, fresh[0][0])["xendit_invoice_id"] not in lost_invoices


def test_a_callback_pending_at_sigterm_is_delivered_after_the_restart(tmp_path: Path) -> None:
    port, state = _free_port(), tmp_path / "state.json"
    args = ("--state-file", str(state))
    with _serve(tmp_path, port, *args) as serve:
        token, _ = _customer(serve.base)
        payment = _payment(serve.base, token)
        xendit = _xendit_url(serve)
        httpx.post(f"{xendit}/_fake/faults", json={"delay_s": 3}).raise_for_status()
        httpx.post(f"{xendit}/_fake/invoices/{payment['xendit_invoice_id']}/pay", json={}).raise_for_status()
        assert serve.stop() == 0, serve.stderr()
    assert json.loads(state.read_text())["fake_xendit"]["delivery"]["pending"] != []
    with _serve(tmp_path, port, *args) as again:

        def status() -> str:
            answer = httpx.get(f"{again.base}/api/customer/payments/{payment['id']}", headers=_auth(token))
            return str(answer.json()["status"])

        _until(lambda: status() != "pending", "the PAID callback confirmed the payment")
        assert status() == "confirmed"


def test_fake_xendit_callbacks_reach_a_backend_that_was_down_for_20_s(tmp_path: Path) -> None:
    """Clock at 20x: 20 s of downtime pass in one real second, the retry ladder runs at the same pace."""
    port, backend_port = _free_port(), _free_port()
    received: list[dict[str, Any]] = []

    async def webhook(request: Request) -> JSONResponse:
        received.append({"token": request.headers.get("x-callback-token"), **(await request.json())})
        return JSONResponse({"ok": True})

    url = f"http://127.0.0.1:{backend_port}/callback"
    cmd = [*CLI, "fake", "xendit", "--port", str(port), "--speed", "20", "--callback-url", url]
    cmd += ["--callback-token", "fake-callback-token"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    fake = f"http://127.0.0.1:{port}"
    try:
        invoice = _until(
            lambda: httpx.post(
                f"{fake}/v2/invoices", auth=("xnd_development_fake", ""), json={"external_id": "p1", "amount": 15000}
            ).json(),
            "fake xendit up",
        )
        httpx.post(f"{fake}/_fake/invoices/{invoice['id']}/pay", json={}).raise_for_status()
        log = lambda: httpx.get(f"{fake}/_fake/callbacks").json()["log"]  # noqa: E731
        first = _until(lambda: log()[0], "a first, failed attempt")
        assert first["outcome"] == "failed"
        _until(lambda: _seconds_since(fake, first["at"]) >= 20, "20 s of downtime (fake clock)")
        with ServerThread(Starlette(routes=[Route("/callback", webhook, methods=["POST"])]), port=backend_port):
            _until(lambda: received, "the callback, once the backend is up", timeout=30)
    finally:
        proc.kill()
        proc.wait(timeout=STOP_S)
    assert received[0]["id"] == invoice["id"] and received[0]["status"] == "PAID"
    assert received[0]["token"] == "fake-callback-token"


def _seconds_since(fake: str, iso: str) -> float:
    from datetime import datetime

    now = httpx.get(f"{fake}/_fake/state").json()["now"]
    return (datetime.fromisoformat(now) - datetime.fromisoformat(iso)).total_seconds()


def test_a_corrupt_state_file_is_refused_with_one_line_and_exit_code_2(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text('{"format": 2, "backend": {"tables": {"customers": [{"id": 1}]}')
    run = subprocess.run(
        [*CLI, "serve", "--port", "0", "--state-file", str(state)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and str(state) in run.stderr and "move it away" in run.stderr


def test_a_state_file_that_fits_no_table_is_refused_the_same_way(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"format": 2, "kind": "drain", "backend": {"tables": {"customers": [{}]}}}))
    run = subprocess.run(
        [*CLI, "serve", "--port", "0", "--state-file", str(state)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and str(state) in run.stderr and "does not restore" in run.stderr


def test_a_save_that_fails_exits_non_zero_and_names_the_file(tmp_path: Path) -> None:
    port, state = _free_port(), tmp_path / "gone" / "state.json"
    state.parent.mkdir()
    with _serve(tmp_path, port, "--state-file", str(state)) as serve:
        _customer(serve.base)
        shutil.rmtree(state.parent)
        code = serve.stop()
    assert code == 1
    assert "NOT saved" in serve.stderr() and str(state) in serve.stderr()
