"""Load runs go through ``halo-sim load`` in a subprocess: importing Locust monkey-patches the
process for gevent, which pytest's own process must never get."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "from halo_sim.cli.app import main; main()", "load"]
RUN_TIMEOUT_S = 120  # only a guard against a hung run; never asserted on
LoadRun = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def halo_load() -> LoadRun:
    """``halo-sim load ARGS…`` from the repository root; the finished process (output as text)."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        return subprocess.run(
            [*CLI, *args], cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, env=env, check=False
        )

    return run


@pytest.fixture
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
