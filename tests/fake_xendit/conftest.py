"""Shared fixtures of the fake_xendit tests: a real callback receiver and a running fake."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fake_xendit import CallbackDispatcher, XenditBackend, create_app
from simkit.clock import VirtualClock
from simkit.scheduler import Scheduler
from simkit.server import ServerThread

SECRET = "xnd_development_test_secret"
TOKEN = "test-callback-token"


@dataclass(frozen=True)
class ReceivedPost:
    """One callback as the merchant's server saw it."""

    path: str
    headers: dict[str, str]
    body: Any


class Receiver:
    """A merchant webhook endpoint: records every POST, and can answer an error the next N times."""

    def __init__(self) -> None:
        self.posts: list[ReceivedPost] = []
        self._fail_remaining = 0
        self._fail_status = 500
        self._lock = threading.Lock()
        self.app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["POST"])])
        self.url = ""

    async def _handle(self, request: Request) -> Response:
        body = await request.json()
        with self._lock:
            self.posts.append(ReceivedPost(request.url.path, dict(request.headers), body))
            failing = self._fail_remaining > 0
            if failing:
                self._fail_remaining -= 1
        if failing:
            return JSONResponse({"error": "receiver told to fail"}, status_code=self._fail_status)
        return JSONResponse({"received": True})

    def fail_next(self, times: int, status: int = 500) -> None:
        """Answer ``status`` to the next ``times`` posts."""
        with self._lock:
            self._fail_remaining = times
            self._fail_status = status

    @property
    def bodies(self) -> list[Any]:
        with self._lock:
            return [p.body for p in self.posts]

    @property
    def callback_url(self) -> str:
        return f"{self.url}/api/shared/payment/webhooks/xendit"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real receiving server on 127.0.0.1, port 0."""
    rec = Receiver()
    server = ServerThread(rec.app, name="receiver").start()
    rec.url = server.url
    try:
        yield rec
    finally:
        server.stop()


@dataclass
class RunningFake:
    """A fake Xendit served over real HTTP, with handles on its insides."""

    url: str
    backend: XenditBackend
    dispatcher: CallbackDispatcher
    clock: VirtualClock


@pytest.fixture
def fake_factory() -> Iterator[Callable[..., RunningFake]]:
    """Start fakes on a virtual clock (time moves only when a test says so); all stopped at teardown."""
    servers: list[ServerThread] = []

    def start(callback_url: str | None = None, **backend_kwargs: Any) -> RunningFake:
        """``secret_key=None`` gives the fake's default (any test-mode key); SECRET only otherwise."""
        clock = VirtualClock()
        backend_kwargs.setdefault("secret_key", SECRET)
        backend = XenditBackend(
            Scheduler(clock),
            callback_url=callback_url,
            callback_token=TOKEN,
            **backend_kwargs,
        )
        dispatcher = CallbackDispatcher(backend)
        server = ServerThread(create_app(backend, dispatcher), name="fake-xendit").start()
        servers.append(server)
        return RunningFake(server.url, backend, dispatcher, clock)

    yield start
    for server in servers:
        server.stop()
