"""Shared fixtures of the backend tests: real servers on 127.0.0.1, port 0, and clients on them.

Three families, each started once per module because a server costs far more than a test:

* ``stack`` – backend + fake FCM + fake Xendit on one virtual clock (``halo_sim.stack.Stack``),
  with ``urls``, ``api``, ``fcm`` and ``xendit`` clients and ``fresh``, the per-test reset a
  module opts into (``pytestmark = pytest.mark.usefixtures("fresh")``);
* ``serve_backend`` – bare reference backends built from ``Settings`` (production mode, a test
  token, no fixtures…), for the variants one shared Stack cannot be;
* ``fcm_fake`` / ``xendit_fake`` – one fake on its own, reset before each test, plus
  ``refusing_url`` / ``silent_url`` sockets: what the outbound clients are tested against.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from fake_fcm import FcmBackend
from fake_fcm import create_app as create_fcm_app
from fake_xendit import CallbackDispatcher, XenditBackend
from fake_xendit import create_app as create_xendit_app
from halo_sim.backend.app import create_app as create_backend_app
from halo_sim.backend.config import Settings
from halo_sim.backend.state import ReferenceBackend
from halo_sim.stack import Stack
from simkit.clock import VirtualClock
from simkit.scheduler import Scheduler
from simkit.server import ServerThread
from simkit.xendit_wire import WEBHOOK_PATH

WAIT_S = 5.0  # bound for the backend to drop a test's sockets; never asserted on
DEAD_URL = "http://127.0.0.1:9"  # the discard port: a bare backend's pushes fail here, never reach Google
API_TIMEOUT_S = 30.0  # generous: the reconciliation sweep asks fake Xendit about every overdue payment


# --- one Stack per module ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def urls(stack: Stack) -> dict[str, str]:
    """backend, websocket, fake_fcm and fake_xendit base URLs of the module's Stack."""
    return stack.urls()


@pytest.fixture(scope="module")
def api(urls: dict[str, str]) -> Iterator[httpx.Client]:
    """The backend, as an app or a test would call it."""
    with httpx.Client(base_url=urls["backend"], timeout=API_TIMEOUT_S) as client:
        yield client


@pytest.fixture(scope="module")
def fcm(urls: dict[str, str]) -> Iterator[httpx.Client]:
    """The Stack's fake FCM (its ``/_fake`` control plane: inbox, tokens, faults)."""
    with httpx.Client(base_url=urls["fake_fcm"], timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def xendit(urls: dict[str, str]) -> Iterator[httpx.Client]:
    """The Stack's fake Xendit (pay/expire invoices, callback log, faults)."""
    with httpx.Client(base_url=urls["fake_xendit"], timeout=10) as client:
        yield client


@pytest.fixture
def fresh(
    stack: Stack, urls: dict[str, str], api: httpx.Client, fcm: httpx.Client, xendit: httpx.Client
) -> Iterator[None]:
    """Reset all three servers before a test; after it, wait until the backend has dropped its sockets.

    Fake Xendit keeps its config across resets, so a test that re-pointed its callbacks is undone
    here too.  Ids are seeded, so a socket lingering from one test would belong to the next one's user.
    """
    api.post("/internal/_test/reset", json={}).raise_for_status()
    fcm.post("/_fake/reset").raise_for_status()
    xendit.post("/_fake/reset").raise_for_status()
    xendit.post(
        "/_fake/config",
        json={"callback_url": urls["backend"] + WEBHOOK_PATH, "callback_token": stack.xendit_callback_token},
    ).raise_for_status()
    yield
    _wait_until(lambda: api.get("/internal/_test/connections").json()["sockets"] == {}, "every socket to close")


def _wait_until(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.01)


# --- bare backends built from Settings ----------------------------------------------------------


@pytest.fixture(scope="module")
def serve_backend() -> Iterator[Callable[..., tuple[ReferenceBackend, ServerThread]]]:
    """Start bare backends (no fakes) with the given ``Settings`` fields; all stopped after the module.

    ``fcm_base_url`` defaults to the discard port on loopback, so no test can push to Google.
    """
    servers: list[ServerThread] = []

    def start(**settings: Any) -> tuple[ReferenceBackend, ServerThread]:
        backend = ReferenceBackend(Settings(**{"fcm_base_url": DEAD_URL, **settings}), Scheduler(VirtualClock()))
        server = ServerThread(create_backend_app(backend), name="bare-backend").start()
        servers.append(server)
        return backend, server

    yield start
    for server in servers:
        server.stop()


# --- lone fakes for the outbound clients ---------------------------------------------------------


@dataclass(frozen=True)
class FakeEndpoint:
    """A fake serving its API at ``url``; ``control`` is a client on its ``/_fake`` control plane."""

    url: str
    control: httpx.Client
    credential: str  # what the fake insists on: FCM's OAuth bearer, Xendit's secret key
    project: str = ""  # FCM only: the one project the fake serves


FCM_PROJECT = "halo-test"
FCM_BEARER = "access-123"
XENDIT_SECRET = "xnd_development_secret_123"


@pytest.fixture(scope="module")
def _fcm_fake_url() -> Iterator[str]:
    backend = FcmBackend(project_id=FCM_PROJECT, expected_bearer=FCM_BEARER)
    with ServerThread(create_fcm_app(backend), name="lone-fake-fcm") as server:
        yield server.url


@pytest.fixture
def fcm_fake(_fcm_fake_url: str) -> Iterator[FakeEndpoint]:
    """Fake FCM serving one project and accepting one bearer, reset (no faults, empty inbox) for this test."""
    with httpx.Client(base_url=_fcm_fake_url, timeout=10) as control:
        control.post("/_fake/reset").raise_for_status()
        yield FakeEndpoint(_fcm_fake_url, control, FCM_BEARER, FCM_PROJECT)


@pytest.fixture(scope="module")
def _xendit_fake_url() -> Iterator[str]:
    backend = XenditBackend(Scheduler(VirtualClock()), secret_key=XENDIT_SECRET)
    app = create_xendit_app(backend, CallbackDispatcher(backend))
    with ServerThread(app, name="lone-fake-xendit") as server:
        yield server.url


@pytest.fixture
def xendit_fake(_xendit_fake_url: str) -> Iterator[FakeEndpoint]:
    """Fake Xendit on a virtual clock (no callback URL: nothing is delivered), reset for this test."""
    with httpx.Client(base_url=_xendit_fake_url, timeout=10) as control:
        control.post("/_fake/reset").raise_for_status()
        yield FakeEndpoint(_xendit_fake_url, control, XENDIT_SECRET)


@pytest.fixture
def refusing_url() -> Iterator[str]:
    """A loopback port that is bound but not listening: every connect is refused (a real ECONNREFUSED)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A loopback port that accepts connections (the kernel's backlog) but never answers: a real read timeout."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
