"""``halo-sim xendit fire-webhook`` and ``relay`` through typer's CliRunner, against real servers.

A module Stack (fake Xendit's own callbacks off, so only the command reaches the
webhook), and once a separate ``halo-sim serve`` process.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from halo_sim.cli.app import app
from halo_sim.stack import Stack, StackOptions

XENDIT_SECRET_KEY = "xnd_development_halo_sim"  # this module's stack is configured with them, like a .env would
XENDIT_CALLBACK_TOKEN = "halo-sim-callback-token"

runner = CliRunner()
CLI = [sys.executable, "-c", "from halo_sim.cli.app import main; main()"]
WAIT_S = 10.0  # upper bound for a subprocess to print a line; never asserted on
SETTINGS = ("XENDIT_CALLBACK_TOKEN", "HALO_SIM_BACKEND_URL", "XENDIT_BASE_URL", "XENDIT_SECRET_KEY")


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    running = Stack(
        options=StackOptions(xendit_secret_key=XENDIT_SECRET_KEY, xendit_callback_token=XENDIT_CALLBACK_TOKEN)
    )
    try:
        httpx.post(f"{running.urls()['fake_xendit']}/_fake/config", json={"callback_url": None}).raise_for_status()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def urls(stack: Stack) -> dict[str, str]:
    return stack.urls()


@pytest.fixture(scope="module")
def api(urls: dict[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=urls["backend"], timeout=10) as client:
        yield client


@pytest.fixture(autouse=True)
def isolated(urls: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fresh servers; no settings from the caller's environment or from a .env where pytest runs."""
    httpx.post(f"{urls['fake_xendit']}/_fake/reset").raise_for_status()
    httpx.post(f"{urls['backend']}/internal/_test/reset", json={}).raise_for_status()
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def customer_payment(api: httpx.Client) -> tuple[str, dict[str, Any]]:
    """OTP login and a 30-minute payment; returns (customer token, payment with its Xendit invoice id)."""
    phone = "+6281234500001"
    assert api.post("/api/customer/auth/otp/request", json={"phone": phone}).status_code == 200
    code = api.get("/internal/_test/otp", params={"phone": phone}).json()["code"]
    verified = api.post("/api/customer/auth/otp/verify", json={"phone": phone, "code": code})
    assert verified.status_code == 200, verified.text
    token = verified.json()["token"]
    created = api.post(
        "/api/customer/payments", json={"duration_minutes": 30}, headers={"Authorization": f"Bearer {token}"}
    )
    assert created.status_code == 201, created.text
    return token, created.json()


def payment_status(api: httpx.Client, token: str, payment_id: str) -> str:
    response = api.get(f"/api/customer/payments/{payment_id}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return str(response.json()["status"])


def fire(*args: str) -> Any:
    return runner.invoke(app, ["xendit", "fire-webhook", *args])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- fire-webhook -------------------------------------------------------------------------------


def test_fire_webhook_confirms_the_payment_and_shows_the_answer_with_the_token_masked(
    api: httpx.Client, urls: dict[str, str]
) -> None:
    token, payment = customer_payment(api)
    result = fire(
        "--to",
        urls["backend"],
        "--external-id",
        payment["id"],
        "--invoice-id",
        payment["xendit_invoice_id"],
        "--status",
        "PAID",
        "--token",
        XENDIT_CALLBACK_TOKEN,
    )
    assert result.exit_code == 0, result.output
    assert f"POST {urls['backend']}/api/shared/payment/webhooks/xendit" in result.output
    assert '"result": "confirmed"' in result.output and "← 200" in result.output
    assert '"status": "PAID"' in result.output and payment["id"] in result.output
    assert "****oken" in result.output and XENDIT_CALLBACK_TOKEN not in result.output
    assert payment_status(api, token, payment["id"]) == "confirmed"


def test_fire_webhook_with_a_wrong_token_exits_1_showing_the_401(api: httpx.Client, urls: dict[str, str]) -> None:
    token, payment = customer_payment(api)
    result = fire("--to", urls["backend"], "--external-id", payment["id"], "--token", "wrong-token")
    assert result.exit_code == 1, result.output
    assert "← 401" in result.output and "INVALID_CALLBACK_TOKEN" in result.output
    assert payment_status(api, token, payment["id"]) == "pending"


def test_fire_webhook_expired_expires_the_payment(api: httpx.Client, urls: dict[str, str]) -> None:
    token, payment = customer_payment(api)
    result = fire(
        "--to",
        urls["backend"],
        "--external-id",
        payment["id"],
        "--invoice-id",
        payment["xendit_invoice_id"],
        "--status",
        "expired",
        "--token",
        XENDIT_CALLBACK_TOKEN,
    )
    assert result.exit_code == 0, result.output
    assert '"result": "expired"' in result.output
    assert payment_status(api, token, payment["id"]) == "expired"


def test_fire_webhook_with_the_default_invoice_id_on_a_real_invoice_says_to_pass_invoice_id(
    api: httpx.Client, urls: dict[str, str]
) -> None:
    _, payment = customer_payment(api)
    result = fire("--to", urls["backend"], "--external-id", payment["id"], "--token", XENDIT_CALLBACK_TOKEN)
    assert result.exit_code == 0, result.output
    assert f'"id": "fake-{payment["id"]}"' in result.output
    assert "INVOICE_MISMATCH" in result.output and "--invoice-id" in result.output


def test_fire_webhook_without_a_token_anywhere_exits_2_saying_where_to_set_one(urls: dict[str, str]) -> None:
    result = fire("--to", urls["backend"], "--external-id", "pay-1")
    assert result.exit_code == 2, result.output
    assert "no callback token" in result.output and "XENDIT_CALLBACK_TOKEN" in result.output


def test_fire_webhook_without_a_backend_url_exits_2_saying_where_to_set_one() -> None:
    result = fire("--external-id", "pay-1", "--token", "t")
    assert result.exit_code == 2, result.output
    assert "no backend URL" in result.output and "HALO_SIM_BACKEND_URL" in result.output


def test_fire_webhook_reads_token_and_backend_url_from_a_dotenv_in_the_current_folder(
    api: httpx.Client, urls: dict[str, str], tmp_path: Path
) -> None:
    token, payment = customer_payment(api)
    (tmp_path / ".env").write_text(
        "# the backend's .env\nXENDIT_ENABLED=true\nXENDIT_SECRET_KEY=\n"
        f'export XENDIT_CALLBACK_TOKEN="{XENDIT_CALLBACK_TOKEN}"\n'
        f"HALO_SIM_BACKEND_URL={urls['backend']}  # halo-sim serve\n"
    )
    result = fire("--external-id", payment["id"], "--invoice-id", payment["xendit_invoice_id"])
    assert result.exit_code == 0, result.output
    assert '"result": "confirmed"' in result.output
    assert payment_status(api, token, payment["id"]) == "confirmed"


def test_fire_webhook_prefers_the_environment_over_the_dotenv(
    api: httpx.Client, urls: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, payment = customer_payment(api)
    (tmp_path / ".env").write_text(
        f"XENDIT_CALLBACK_TOKEN={XENDIT_CALLBACK_TOKEN}\nHALO_SIM_BACKEND_URL=http://nowhere\n"
    )
    monkeypatch.setenv("XENDIT_CALLBACK_TOKEN", "from-the-environment")
    monkeypatch.setenv("HALO_SIM_BACKEND_URL", urls["backend"])
    result = fire("--external-id", payment["id"])
    assert result.exit_code == 1, result.output
    assert "← 401" in result.output and '"error": "INVALID_CALLBACK_TOKEN"' in result.output, result.output


def test_fire_webhook_to_a_backend_that_is_not_there_exits_2_saying_what_to_check() -> None:
    result = fire("--to", f"http://127.0.0.1:{free_port()}", "--external-id", "pay-1", "--token", "t")
    assert result.exit_code == 2, result.output
    assert "could not reach" in result.output and "--to" in result.output


def test_fire_webhook_with_a_url_that_is_not_http_exits_2() -> None:
    result = fire("--to", "127.0.0.1:8080", "--external-id", "pay-1", "--token", "t")
    assert result.exit_code == 2, result.output
    assert "not a backend URL" in result.output


def test_fire_webhook_with_an_unknown_status_is_a_usage_error() -> None:
    result = fire("--to", "http://127.0.0.1:1", "--external-id", "pay-1", "--token", "t", "--status", "PENDING")
    assert result.exit_code == 2


# --- relay ------------------------------------------------------------------------------------------


def relay(urls: dict[str, str], *extra: str) -> Any:
    return runner.invoke(
        app,
        [
            "xendit",
            "relay",
            "--to",
            urls["backend"],
            "--xendit-url",
            urls["fake_xendit"],
            "--secret-key",
            XENDIT_SECRET_KEY,
            "--token",
            XENDIT_CALLBACK_TOKEN,
            *extra,
        ],
    )


def test_relay_once_with_replay_forwards_a_paid_invoice_and_confirms_the_payment(
    api: httpx.Client, urls: dict[str, str]
) -> None:
    token, payment = customer_payment(api)
    httpx.post(f"{urls['fake_xendit']}/_fake/invoices/{payment['xendit_invoice_id']}/pay").raise_for_status()
    assert payment_status(api, token, payment["id"]) == "pending"
    result = relay(urls, "--once", "--replay")
    assert result.exit_code == 0, result.output
    line = f"{payment['xendit_invoice_id']}  {payment['id']}  PAID → 200 confirmed"
    assert line in result.output
    assert payment_status(api, token, payment["id"]) == "confirmed"


def test_relay_once_with_a_wrong_token_exits_1_showing_the_401(api: httpx.Client, urls: dict[str, str]) -> None:
    _, payment = customer_payment(api)
    httpx.post(f"{urls['fake_xendit']}/_fake/invoices/{payment['xendit_invoice_id']}/expire").raise_for_status()
    result = relay(urls, "--once", "--replay", "--token", "wrong-token")
    assert result.exit_code == 1, result.output
    assert "EXPIRED → 401 INVALID_CALLBACK_TOKEN" in result.output


def test_relay_once_without_replay_is_a_usage_error_because_it_would_forward_nothing(urls: dict[str, str]) -> None:
    result = relay(urls, "--once")
    assert result.exit_code == 2, result.output
    assert "--replay" in result.output


def test_relay_with_a_wrong_secret_key_exits_2_naming_the_key_setting(urls: dict[str, str]) -> None:
    result = relay(urls, "--once", "--replay", "--secret-key", "xnd_wrong")
    assert result.exit_code == 2, result.output
    assert "INVALID_API_KEY" in result.output and "XENDIT_SECRET_KEY" in result.output


def test_relay_without_a_secret_key_anywhere_exits_2(urls: dict[str, str]) -> None:
    result = runner.invoke(app, ["xendit", "relay", "--to", urls["backend"], "--token", "t", "--once", "--replay"])
    assert result.exit_code == 2, result.output
    assert "no Xendit secret key" in result.output


def test_relay_keeps_polling_forwards_a_later_payment_and_exits_0_on_ctrl_c(
    api: httpx.Client, urls: dict[str, str], tmp_path: Path
) -> None:
    token, payment = customer_payment(api)
    args = [
        "xendit",
        "relay",
        "--to",
        urls["backend"],
        "--xendit-url",
        urls["fake_xendit"],
        "--secret-key",
        XENDIT_SECRET_KEY,
        "--token",
        XENDIT_CALLBACK_TOKEN,
        "--interval",
        "0.1",
    ]
    proc = subprocess.Popen(
        [*CLI, *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines = _lines(proc)
    try:
        assert "baseline: 0" in _next_line(lines, "baseline")
        httpx.post(f"{urls['fake_xendit']}/_fake/invoices/{payment['xendit_invoice_id']}/pay").raise_for_status()
        assert f"{payment['id']}  PAID → 200 confirmed" in _next_line(lines, "PAID →")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=WAIT_S)
    assert proc.returncode == 0
    assert payment_status(api, token, payment["id"]) == "confirmed"


def _lines(proc: subprocess.Popen[str]) -> queue.Queue[str]:
    """The process's output lines, read on a thread so a missing line fails the test instead of hanging it."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    return lines


def _next_line(lines: queue.Queue[str], containing: str) -> str:
    seen: list[str] = []
    while True:
        try:
            line = lines.get(timeout=WAIT_S)
        except queue.Empty:
            pytest.fail(f"no line with {containing!r}; output so far: {''.join(seen)!r}")
        seen.append(line)
        if containing in line:
            return line


# --- against a separate `halo-sim serve` ---------------------------------------------------------------


@pytest.fixture
def served(scenarios_dir: Path) -> Iterator[dict[str, str]]:
    """``halo-sim serve`` as its own process on a free port; its printed URLs by name."""
    proc = subprocess.Popen(
        [*CLI, "serve", "--port", str(free_port()), "--fcm-port", "0", "--xendit-port", "0"],
        cwd=scenarios_dir.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200", "XENDIT_CALLBACK_TOKEN": XENDIT_CALLBACK_TOKEN},  # serve honours it
    )
    assert proc.stdout is not None
    seen = ""
    for line in proc.stdout:
        seen += line
        if "test hooks" in line:
            break
    try:
        yield dict(re.findall(r"^\s*(\w+)\s+(https?://\S+)\s*$", seen, re.MULTILINE))
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)


def test_fire_webhook_confirms_a_payment_on_a_separately_started_serve(served: dict[str, str]) -> None:
    assert "fake_xendit" in served, served
    with httpx.Client(base_url=served["backend"], timeout=10) as api:
        token, payment = customer_payment(api)
        result = fire(
            "--to",
            served["backend"],
            "--external-id",
            payment["id"],
            "--invoice-id",
            payment["xendit_invoice_id"],
            "--token",
            XENDIT_CALLBACK_TOKEN,
        )
        assert result.exit_code == 0, result.output
        assert '"result": "confirmed"' in result.output
        assert payment_status(api, token, payment["id"]) == "confirmed"
