"""The live-target proof: a ``halo-sim serve`` URL is a complete target.

``halo-sim serve --virtual-clock`` runs as a separate process and is reached only by its URL,
as QA would reach it: no targets file, ``--target`` (here ``--halo-target``) reads its discovery
route.  The whole catalog runs on one worker against that one shared backend, so a scenario
that leaks state into the next (faults left on, assertions about other runs' rows) fails here:
every scenario must pass, none may skip.  ``halo-sim diff`` against the same URL must compare for
real and find nothing.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-c", "from halo_sim.cli.app import main; main()"]
# Every actor logs in from 127.0.0.1: the per-IP login limits must allow a whole catalog, twice.
SERVE_ENV = {"HALO_OTP_REQUEST_LIMIT": "1000", "HALO_ANON_LOGIN_LIMIT": "1000"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def serve_url() -> Iterator[str]:
    """One ``halo-sim serve --virtual-clock`` for the module; its fakes on free ports (no clash with a dev's 8081)."""
    port = _free_port()
    args = ["serve", "--virtual-clock", "--port", str(port), "--fcm-port", "0", "--xendit-port", "0"]
    proc = subprocess.Popen(
        [*CLI, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200", **SERVE_ENV},
    )
    assert proc.stdout is not None
    seen = ""
    for line in proc.stdout:
        seen += line
        if "test hooks" in line:
            break
    else:
        raise AssertionError(f"serve exited early:\n{seen}")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    assert proc.returncode == 0


def _env() -> dict[str, str]:
    """The runner's environment: nothing about the target but its URL (no token, no targets file)."""
    drop = {"XENDIT_CALLBACK_TOKEN", "HALO_SIM_TARGETS", "HALO_SIM_TARGET", "HALO_TEST_TOKEN"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def _cases(junit: Path) -> dict[str, str]:
    """Each test case of a JUnit report and its verdict (passed, skipped, failure, error)."""
    verdicts = {}
    for case in ET.parse(junit).iter("testcase"):
        outcome = next((child.tag for child in case if child.tag in ("skipped", "failure", "error")), "passed")
        verdicts[case.get("name", "")] = outcome
    return verdicts


def test_the_whole_catalog_passes_with_no_skips_against_a_serve_url(serve_url: str, tmp_path: Path) -> None:
    junit = tmp_path / "live.xml"
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
            "-n",
            "1",
            "--halo-target",
            serve_url,
            f"--junitxml={junit}",
        ],
        cwd=tmp_path,  # no halo-sim.yaml here or above
        capture_output=True,
        text=True,
        timeout=400,
        env=_env(),
    )
    assert run.returncode == 0, run.stdout[-6000:]
    verdicts = _cases(junit)
    catalog = {p.stem for p in (ROOT / "scenarios").glob("*.yaml")}
    assert len(verdicts) == len(catalog), sorted(verdicts)
    assert {name for name, verdict in verdicts.items() if verdict != "passed"} == set(), run.stdout[-6000:]


@pytest.mark.parametrize("scenario", ["xendit-paid-via-checkout", "ts-customer-05-01"])
def test_diff_against_a_serve_url_compares_for_real_and_finds_no_drift(serve_url: str, scenario: str) -> None:
    """Both runs pass (nothing skipped: the comparison is real) and nothing drifts: exit 0."""
    run = subprocess.run(
        [*CLI, "diff", scenario, "--against", serve_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**_env(), "COLUMNS": "250"},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"embedded passed · {serve_url} passed" in run.stdout, run.stdout
    assert f"no drift between embedded and {serve_url}" in run.stdout
