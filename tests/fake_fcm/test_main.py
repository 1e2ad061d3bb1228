"""``python -m fake_fcm``: the standalone fake, run as a real process.

The subprocess runs from the repository root, as a developer running the fake
from a checkout does.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import fake_fcm
from fake_fcm.__main__ import build_parser
from fake_fcm.models import FcmBackend
from fake_fcm.routes import create_app

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def standalone() -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A fake started on a free port, restricted to one project and bearer; yields it and its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "fake_fcm", "--port", "0", "--project", "halo-test", "--bearer", "tok"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    first_line = proc.stdout.readline()
    try:
        yield proc, first_line.rsplit(" ", 1)[-1].strip()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


def test_parser_defaults_match_the_documented_command_line() -> None:
    args = vars(build_parser().parse_args([]))
    assert args == {
        "host": "127.0.0.1",
        "port": 9099,
        "project": None,
        "bearer": None,
        "strict_tokens": False,
        "inbox_cap": 5_000,
    }


def test_standalone_prints_its_url_and_serves_send(standalone: tuple[subprocess.Popen[str], str]) -> None:
    _, url = standalone
    assert url.startswith("http://127.0.0.1:") and not url.endswith(":0")
    response = httpx.post(
        f"{url}/v1/projects/halo-test/messages:send",
        json={"message": {"topic": "news"}},
        headers={"Authorization": "Bearer tok"},
        timeout=10,
    )
    assert response.json() == {"name": "projects/halo-test/messages/0000000000000001"}


def test_standalone_applies_project_and_bearer_options(standalone: tuple[subprocess.Popen[str], str]) -> None:
    _, url = standalone
    send = f"{url}/v1/projects/%s/messages:send"
    body = {"message": {"topic": "news"}}
    wrong_bearer = httpx.post(send % "halo-test", json=body, headers={"Authorization": "Bearer nope"}, timeout=10)
    wrong_project = httpx.post(send % "other", json=body, headers={"Authorization": "Bearer tok"}, timeout=10)
    refusals = [(r.status_code, r.json()["error"]["status"]) for r in (wrong_bearer, wrong_project)]
    assert refusals == [(401, "UNAUTHENTICATED"), (403, "PERMISSION_DENIED")]
    assert wrong_project.json()["error"]["details"][0]["errorCode"] == "SENDER_ID_MISMATCH"


def test_standalone_exits_cleanly_on_sigterm(standalone: tuple[subprocess.Popen[str], str]) -> None:
    proc, _ = standalone
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0


def test_package_exports_backend_and_create_app() -> None:
    assert fake_fcm.__all__ == ["FcmBackend", "create_app"]
    assert fake_fcm.FcmBackend is FcmBackend and fake_fcm.create_app is create_app
