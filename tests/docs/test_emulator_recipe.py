"""docs/emulator.md, tried: serve as the emulator sees it and the Maestro helper calling its ``_test`` hooks.

The apps and Maestro are not here; what they depend on is: the URLs serve hands out use the
address the emulator opens (``--public-url``), and ``docs/maestro/test-hook.js`` — run under
Node with Maestro's ``http``/``json``/``output`` globals — reaches a hook with the test token
and fails the flow without it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "from halo_sim.cli.app import main; main()"]
HELPER = ROOT / "docs" / "maestro" / "test-hook.js"
SHIM = Path(__file__).with_name("maestro_shim.js")
TOKEN = "recipe-test-token"
PUBLIC = "http://10.0.2.2:8080"

pytestmark = pytest.mark.skipif(
    not (shutil.which("node") and shutil.which("curl")), reason="the Maestro helper runs under Node with curl"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def serve() -> Iterator[str]:
    """``halo-sim serve`` as docs/emulator.md starts it (on a free port, loopback, with a test token)."""
    port = _free_port()
    args = ["serve", "--port", str(port), "--fcm-port", "0", "--xendit-port", "0"]
    proc = subprocess.Popen(
        [*CLI, *args, "--public-url", PUBLIC, "--test-token", TOKEN],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if "test hooks" in line:
            break
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)


def _hook(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["node", str(SHIM), str(HELPER), json.dumps(env)], capture_output=True, text=True, timeout=60)


def _payment(base: str) -> dict[str, str]:
    token = httpx.post(f"{base}/api/customer/auth/anonymous").json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    created = httpx.post(f"{base}/api/customer/payments", json={"duration_minutes": 15}, headers=headers)
    assert created.status_code == 201, created.text
    return {**created.json(), "token": token}


def test_the_doc_names_the_commands_and_the_helper_this_test_runs() -> None:
    doc = (ROOT / "docs" / "emulator.md").read_text()
    assert f"halo-sim serve --public-url {PUBLIC}" in doc
    assert "--host 0.0.0.0 --test-token" in doc and "docs/maestro/test-hook.js" in doc


def test_the_helper_confirms_a_payment_whose_invoice_url_the_emulator_can_open(serve: str) -> None:
    payment = _payment(serve)
    assert payment["xendit_invoice_url"].startswith("http://10.0.2.2:")
    body = json.dumps({"payment_request_id": payment["id"]})
    run = _hook({"HALO_BASE_URL": serve, "HALO_TEST_TOKEN": TOKEN, "HOOK": "force-confirm-payment", "BODY": body})
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["hook"]["status"] == "confirmed"
    now = httpx.get(
        f"{serve}/api/customer/payments/{payment['id']}", headers={"Authorization": f"Bearer {payment['token']}"}
    )
    assert now.json()["status"] == "confirmed"


def test_the_helper_fails_the_flow_with_the_error_code_without_the_token(serve: str) -> None:
    payment = _payment(serve)
    body = json.dumps({"payment_request_id": payment["id"]})
    run = _hook({"HALO_BASE_URL": serve, "HOOK": "force-confirm-payment", "BODY": body})
    assert run.returncode != 0
    assert "halo-sim force-confirm-payment: HTTP 401" in run.stderr and "TEST_TOKEN_REQUIRED" in run.stderr


def test_the_helper_reads_with_get_hooks(serve: str) -> None:
    run = _hook({"HALO_BASE_URL": serve, "HALO_TEST_TOKEN": TOKEN, "HOOK": "discovery", "METHOD": "GET"})
    assert run.returncode == 0, run.stderr
    assert "virtual_clock" in json.loads(run.stdout)["hook"]
