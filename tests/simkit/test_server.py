"""ServerThread: real uvicorn servers on loopback, port 0, clean stop, loud start failures."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from simkit.errors import ServerStartError
from simkit.server import ServerThread


def _app() -> Starlette:
    return Starlette(routes=[Route("/", lambda _: PlainTextResponse("up"))])


def test_port_zero_binds_a_free_port_and_reports_it() -> None:
    with ServerThread(_app()) as server:
        assert server.port > 0
        assert httpx.get(server.url).text == "up"
        assert server.ws_url == f"ws://127.0.0.1:{server.port}"


def test_stop_releases_the_port() -> None:
    server = ServerThread(_app()).start()
    url = server.url
    server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=1)


def test_a_port_in_use_fails_start_with_a_clear_error() -> None:
    with ServerThread(_app()) as taken:
        with pytest.raises(ServerStartError, match="failed to start"):
            ServerThread(_app(), port=taken.port, name="second").start()


def test_an_app_that_cannot_load_fails_start_at_once_not_at_the_timeout() -> None:
    server = ServerThread("no_such_module_anywhere:app", name="broken")
    with pytest.raises(ServerStartError, match="broken failed to start"):
        server.start(timeout=60)  # "did not start within 60 s" if only a bound socket woke start()


def test_several_servers_share_one_loop_and_stop_independently() -> None:
    from simkit.server import ServerLoop

    loop = ServerLoop("shared")
    first = ServerThread(_app(), name="first", loop=loop).start()
    second = ServerThread(_app(), name="second", loop=loop).start()
    try:
        assert first.port != second.port
        assert httpx.get(first.url).text == httpx.get(second.url).text == "up"
        first.stop()
        assert httpx.get(second.url).text == "up"
    finally:
        second.stop()
        loop.close()
