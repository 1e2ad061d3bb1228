"""Shared fixtures: the repository's folders, pytester for the plugin tests, the Node SDK driver."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httptools  # noqa: F401
import pytest
import uvicorn.protocols.http.httptools_impl  # noqa: F401

from halo_sim.stack import Stack

# pytester's in-process runs drop every module first imported inside them.  httptools' compiled
# parser keeps raising the HttpParserUpgrade class of its first import while a re-imported uvicorn
# catches the new one, so later WebSocket upgrades in the same process crash.  Imported here, before
# any run, both outlive the runs in every test process.
pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
NODE_DIR = ROOT / "tests" / "node"
NODE_TIMEOUT_S = 120  # only a guard against a hung process; never asserted on
NodeRun = Callable[..., Any]


@pytest.fixture(scope="session")
def scenarios_dir() -> Path:
    """The repository's scenarios/ folder."""
    return ROOT / "scenarios"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """Scenario files made for tests (broken and deliberately failing ones)."""
    return ROOT / "tests" / "scenario" / "data"


@pytest.fixture(scope="session")
def node_sdk() -> NodeRun:
    """Run a script of tests/node/ (the official Node SDKs) with JSON on stdin; answer its JSON output.

    Outside CI a machine without ``node`` or without ``npm ci --prefix tests/node`` skips, saying
    which; in CI (``CI`` set) that is a failure, so the conformance tests cannot silently vanish.
    """
    node = shutil.which("node")
    missing = None if node else "node is not installed (apt-get install -y nodejs npm)"
    if missing is None and not (NODE_DIR / "node_modules").is_dir():
        missing = "tests/node/node_modules is missing (run: npm ci --prefix tests/node)"
    if missing is not None:
        if os.environ.get("CI"):
            pytest.fail(f"Node SDK tests cannot run in CI: {missing}")
        pytest.skip(missing)
    assert node is not None

    def run(script: str, stdin: Any, *args: str, env: Mapping[str, str] | None = None) -> Any:
        done = subprocess.run(
            [node, str(NODE_DIR / script), *args],
            input=json.dumps(stdin),
            capture_output=True,
            text=True,
            timeout=NODE_TIMEOUT_S,
            env={**os.environ, **(env or {})},
            check=False,
        )
        assert done.returncode == 0, f"node {script} exited {done.returncode}: {done.stderr}"
        return json.loads(done.stdout)

    return run


# Chromium as root on a machine with no network: no sandbox, no GPU, none of its background calls home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium() -> dict[str, Any]:
    """Playwright launch options for Debian's chromium (``p.chromium.launch(**chromium)``).

    Skipped (with the reason printed) when chromium is absent; in CI (``CI`` set) that is a failure.
    """
    path = shutil.which("chromium")
    if path is None:
        reason = "chromium is not installed (apt-get install -y chromium); skipping the browser test"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests: {reason}")
        print(reason)
        pytest.skip(reason)
    return {"executable_path": path, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """Backend and both fakes on one virtual clock; stopped (sockets closed with 1001) after the module.

    A module that needs other options (keys, tokens) overrides this fixture with its own.
    """
    running = Stack()
    try:
        yield running
    finally:
        running.stop()
