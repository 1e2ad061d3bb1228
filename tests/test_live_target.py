"""The live-target proof: the whole catalog against ``halo-sim serve`` run as a separate process.

The serve process is reached like any deployment: a targets file names it, with only
what a live backend would offer (its ``_test`` hooks and readable OTPs, our fakes at
the URLs its FCM and Xendit settings point to, two pre-made test mitras).  Scenarios
needing more (virtual clock, state dump, creating mitras) must be skipped with the
reason, and nothing may fail.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-c", "from halo_sim.cli.app import main; main()"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# How a QA server would be configured: the webhook token the runner also knows, and login limits that
# allow a whole catalog from one machine (every actor logs in from 127.0.0.1).
SERVE_ENV = {
    "XENDIT_CALLBACK_TOKEN": "halo-sim-callback-token",
    "HALO_OTP_REQUEST_LIMIT": "1000",
    "HALO_ANON_LOGIN_LIMIT": "1000",
}


def _start_serve(port: int) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [*CLI, "serve", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200", **SERVE_ENV},
    )
    assert proc.stdout is not None
    urls: dict[str, str] = {}
    for line in proc.stdout:
        found = re.match(r"\s*(\w+)\s+(\S+)", line)
        if found:
            urls[found.group(1)] = found.group(2)
        if "test hooks" in line:
            return proc, urls
    raise AssertionError(f"serve exited early: {urls}")


def _targets_file(folder: Path, urls: dict[str, str]) -> Path:
    path = folder / "halo-sim.yaml"
    path.write_text(f"""targets:
  dev-server:
    base_url: {urls["backend"]}
    fcm_url: {urls["fake_fcm"]}
    xendit_url: {urls["fake_xendit"]}
    xendit_callback_token_env: XENDIT_CALLBACK_TOKEN
    capabilities: [test_endpoints, otp_readable]
    mitras:
      - {{phone: "+6281100000001", password: bestie123}}
      - {{phone: "+6281100000002", password: bestie123}}
""")
    return path


def test_the_whole_catalog_passes_or_skips_with_a_reason_against_a_separate_serve_process(tmp_path: Path) -> None:
    proc, urls = _start_serve(_free_port())
    try:
        targets = _targets_file(tmp_path, urls)
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                str(ROOT / "scenarios"),
                "-q",
                "-rs",
                "-p",
                "no:cacheprovider",
                "-p",
                "no:xdist",
                "--halo-target",
                "dev-server",
                "--halo-targets",
                str(targets),
                f"--junitxml={tmp_path / 'live.xml'}",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=240,
            env={**os.environ, "XENDIT_CALLBACK_TOKEN": "halo-sim-callback-token"},
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    summary = run.stdout.strip().splitlines()[-1]
    assert run.returncode == 0, run.stdout[-4000:]
    assert "failed" not in summary and "error" not in summary
    passed = int(re.search(r"(\d+) passed", summary).group(1))  # type: ignore[union-attr]
    assert passed >= 15, summary
    skip_reasons = [line for line in run.stdout.splitlines() if line.startswith("SKIPPED")]
    assert skip_reasons and all("lacks" in r or "cannot create mitras" in r for r in skip_reasons)
    assert proc.returncode == 0
