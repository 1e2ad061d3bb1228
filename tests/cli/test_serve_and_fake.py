"""``halo-sim serve`` and ``halo-sim fake fcm`` as separate processes, reached over HTTP."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx

CLI = [sys.executable, "-c", "from halo_sim.cli.app import main; main()"]
# The fakes' default ports sit next to the backend's; tests take any free ones instead (no clash in parallel).
ANY = ["--fcm-port", "0", "--xendit-port", "0"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _three_free_ports() -> int:
    """A port P with P + 1 and P + 2 free too (at the time of asking)."""
    while True:
        port = _free_port()
        if port + 2 < 65536 and all(_bindable(port + i) for i in (1, 2)):
            return port


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@contextmanager
def _process(
    args: list[str], ready: str, cwd: Path, stop: signal.Signals = signal.SIGINT
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc = subprocess.Popen(
        [*CLI, *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.stdout is not None
    seen = ""
    for line in proc.stdout:
        seen += line
        if ready in line:
            break
    try:
        yield proc, seen
    finally:
        proc.send_signal(stop)
        proc.wait(timeout=10)


def test_serve_prints_urls_serves_fixture_mitras_and_stops_on_ctrl_c(scenarios_dir: Path) -> None:
    port = _free_port()
    with _process(["serve", "--port", str(port), *ANY], "test hooks", scenarios_dir.parent) as (proc, seen):
        assert f"http://127.0.0.1:{port}" in seen
        assert f"http://127.0.0.1:{port}/control " in seen  # the control center's address
        fcm_url = re.search(r"fake_fcm\s+(http://\S+)", seen)
        assert fcm_url is not None
        login = httpx.post(
            f"http://127.0.0.1:{port}/api/mitra/auth/login", json={"phone": "+6281100000001", "password": "bestie123"}
        )
        assert login.status_code == 200 and login.json()["mitra"]["display_name"] == "Rani"
        assert httpx.get(f"{fcm_url.group(1)}/_fake/state").status_code == 200
        page = httpx.get(f"http://127.0.0.1:{port}/control")
        assert page.status_code == 200 and "halo-sim control center" in page.text
    assert proc.returncode == 0


def _wait_until_up(url: str, attempts: int = 200) -> None:
    """The banner prints before uvicorn binds; poll until it answers."""
    for _ in range(attempts):
        try:
            httpx.get(url, timeout=0.5)
            return
        except httpx.TransportError:
            time.sleep(0.02)
    raise AssertionError(f"{url} never came up")


def test_fake_fcm_runs_alone_on_the_given_port(tmp_path: Path) -> None:
    port = _free_port()
    with _process(["fake", "fcm", "--port", str(port)], "fake FCM on", tmp_path):
        _wait_until_up(f"http://127.0.0.1:{port}/_fake/state")
        sent = httpx.post(
            f"http://127.0.0.1:{port}/v1/projects/p1/messages:send",
            headers={"Authorization": "Bearer x"},
            json={"message": {"token": "t1", "data": {"a": "b"}}},
        )
        assert sent.status_code == 200 and sent.json()["name"].startswith("projects/p1/messages/")
        inbox = httpx.get(f"http://127.0.0.1:{port}/_fake/inbox", params={"token": "t1"}).json()
        assert len(inbox["messages"]) == 1


def test_fake_xendit_runs_alone_and_creates_invoices_with_basic_auth(tmp_path: Path) -> None:
    port = _free_port()
    with _process(["fake", "xendit", "--port", str(port), "--secret-key", "xnd_k"], "fake xendit listening", tmp_path):
        created = httpx.post(
            f"http://127.0.0.1:{port}/v2/invoices", auth=("xnd_k", ""), json={"external_id": "pay-1", "amount": 25000}
        )
        assert created.status_code == 200, created.text
        assert created.json()["status"] == "PENDING"
        refused = httpx.post(
            f"http://127.0.0.1:{port}/v2/invoices", auth=("wrong", ""), json={"external_id": "pay-1", "amount": 25000}
        )
        assert refused.status_code == 401 and refused.json()["error_code"] == "INVALID_API_KEY"


def test_fake_xendit_without_a_key_takes_any_test_key_and_logs_a_refused_live_key(tmp_path: Path) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/v2/invoices"
    body = {"external_id": "pay-1", "amount": 25000}
    with _process(["fake", "xendit", "--port", str(port)], "fake xendit listening", tmp_path) as (proc, seen):
        assert "accepts any test-mode key" in seen
        assert httpx.post(url, auth=("xnd_development_from_dot_env", ""), json=body).status_code == 200
        assert httpx.post(url, auth=("xnd_production_live_secret", ""), json=body).status_code == 401
    assert proc.stdout is not None
    assert "refused POST /v2/invoices: 401 INVALID_API_KEY, production key" in proc.stdout.read()


def test_serve_stops_cleanly_on_sigterm(scenarios_dir: Path) -> None:
    port = _free_port()
    with _process(["serve", "--port", str(port), *ANY], "test hooks", scenarios_dir.parent, signal.SIGTERM) as (
        proc,
        _,
    ):
        assert httpx.get(f"http://127.0.0.1:{port}/health").json()["status"] == "ok"
    assert proc.returncode == 0
    assert proc.stdout is not None and "stopping" in proc.stdout.read()


def test_serve_with_a_state_file_keeps_accounts_across_a_sigterm_restart(scenarios_dir: Path, tmp_path: Path) -> None:
    port, state = _free_port(), tmp_path / "state.json"
    args = ["serve", "--port", str(port), *ANY, "--state-file", str(state)]
    base = f"http://127.0.0.1:{port}"
    with _process(args, "test hooks", scenarios_dir.parent, signal.SIGTERM):
        token = httpx.post(f"{base}/api/customer/auth/anonymous").json()["token"]
        httpx.put(
            f"{base}/api/customer/profile", json={"display_name": "Ayu"}, headers={"Authorization": f"Bearer {token}"}
        ).raise_for_status()
    assert state.exists()
    with _process(args, "test hooks", scenarios_dir.parent, signal.SIGTERM):
        profile = httpx.get(f"{base}/api/customer/profile", headers={"Authorization": f"Bearer {token}"})
        assert profile.status_code == 200 and profile.json()["display_name"] == "Ayu"


def test_serve_on_a_non_loopback_host_without_a_test_token_refuses_to_start(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("HALO_TEST_TOKEN", "HALO_ENV")}
    run = subprocess.run(
        [*CLI, "serve", "--host", "0.0.0.0", "--port", str(_free_port()), *ANY],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "COLUMNS": "300"},
    )
    assert run.returncode == 2, run.stdout + run.stderr
    assert "refusing to serve /internal/_test/* on 0.0.0.0 without a test token" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_serve_reads_dotenv_prints_effective_settings_and_masks_secrets(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("HALO_TEST_TOKEN=dotenv-test-token\nHALO_SEED=41\nHALO_OTP_MAX_ATTEMPTS=4\n")
    port = _free_port()
    with _process(["serve", "--port", str(port), *ANY], "test hooks", tmp_path) as (_, seen):
        assert "HALO_SEED=41" in seen and "HALO_OTP_MAX_ATTEMPTS=4" in seen and "HALO_TEST_TOKEN=set" in seen
        assert "dotenv-test-token" not in seen
        base = f"http://127.0.0.1:{port}/internal/_test/state"
        _wait_until_up(f"http://127.0.0.1:{port}/health")
        assert httpx.get(base).json()["error"] == "TEST_TOKEN_REQUIRED"
        assert httpx.get(base, headers={"x-test-token": "dotenv-test-token"}).status_code == 200


def test_fake_xendit_takes_its_secret_key_from_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("XENDIT_SECRET_KEY=xnd_from_dotenv\n")
    port = _free_port()
    with _process(["fake", "xendit", "--port", str(port)], "fake xendit listening", tmp_path) as (_, seen):
        body = {"external_id": "pay-1", "amount": 25000}
        created = httpx.post(f"http://127.0.0.1:{port}/v2/invoices", auth=("xnd_from_dotenv", ""), json=body)
        assert created.status_code == 200, created.text


def test_public_url_puts_the_emulators_address_in_invoice_urls_while_serve_binds_loopback(tmp_path: Path) -> None:
    port = _free_port()
    args = ["serve", "--port", str(port), *ANY]
    with _process([*args, "--public-url", "http://10.0.2.2:8080"], "test hooks", tmp_path) as (_, seen):
        assert re.search(r"backend\s+http://10\.0\.2\.2:8080\n", seen), seen
        assert re.search(r"fake_xendit\s+http://10\.0\.2\.2:\d+\n", seen), seen
        local = f"http://127.0.0.1:{port}"  # reached on loopback: the servers bind --host, not the public host
        token = httpx.post(f"{local}/api/customer/auth/anonymous").json()["token"]
        payment = httpx.post(
            f"{local}/api/customer/payments",
            json={"duration_minutes": 15},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert payment.status_code == 201, payment.text
        invoice_url = payment.json()["xendit_invoice_url"]
        assert invoice_url.startswith("http://10.0.2.2:"), invoice_url
        fake_port = re.search(r"fake_xendit\s+http://10\.0\.2\.2:(\d+)", seen).group(1)  # type: ignore[union-attr]
        page = httpx.get(f"http://127.0.0.1:{fake_port}{urlsplit(invoice_url).path}")
        assert page.status_code == 200 and payment.json()["xendit_invoice_id"] in page.text
        discovered = httpx.get(f"{local}/internal/_test/discovery").json()
        assert discovered["xendit_url"] == f"http://127.0.0.1:{fake_port}"  # the runner on this machine uses loopback


def test_a_public_url_with_a_path_or_without_a_scheme_is_refused_in_one_line(tmp_path: Path) -> None:
    for bad in ("10.0.2.2:8080", "http://10.0.2.2:8080/api"):
        run = subprocess.run(
            [*CLI, "serve", "--port", "0", "--public-url", bad],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 2
        assert run.stderr.strip() == (
            f"halo-sim serve: --public-url {bad!r} must be http(s)://HOST[:PORT], e.g. http://10.0.2.2:8080 for the "
            "Android emulator"
        )


def test_the_fakes_listen_next_to_the_backend_by_default_and_a_generated_callback_token_is_printed(
    tmp_path: Path,
) -> None:
    """Stable fake URLs across restarts (a backend's .env keeps pointing at them); the random token is shown once."""
    port = _three_free_ports()
    with _process(["serve", "--port", str(port)], "test hooks", tmp_path) as (_, seen):
        assert re.search(rf"fake_fcm\s+http://127\.0\.0\.1:{port + 1}\n", seen), seen
        assert re.search(rf"fake_xendit\s+http://127\.0\.0\.1:{port + 2}\n", seen), seen
        printed = re.search(r"callback\s+x-callback-token ([0-9a-f]{64})  \(random per start", seen)
        assert printed is not None, seen
        _wait_until_up(f"http://127.0.0.1:{port}/health")
        discovered = httpx.get(f"http://127.0.0.1:{port}/internal/_test/discovery").json()
        assert discovered["xendit_callback_token"] == printed.group(1)


def test_a_configured_callback_token_is_not_printed(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("XENDIT_CALLBACK_TOKEN=configured-callback-token\n")
    with _process(["serve", "--port", str(_free_port()), *ANY], "test hooks", tmp_path) as (_, seen):
        assert "x-callback-token as configured in XENDIT_CALLBACK_TOKEN" in seen
        assert "configured-callback-token" not in seen
