"""probe(): what a target really answers, capability by capability, declared or not."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from halo_sim.stack import Stack, StackOptions
from halo_sim.targets.base import CAPABILITIES, Target
from halo_sim.targets.embedded import EmbeddedTarget, start_embedded
from halo_sim.targets.probe import Check, probe
from halo_sim.targets.profiles import url_target
from simkit.clock import SystemClock, VirtualClock
from simkit.server import ServerThread


def _by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


@pytest.fixture(scope="module")
def embedded() -> Iterator[EmbeddedTarget]:
    target = start_embedded()
    yield target
    target.close()


@pytest.fixture(scope="module")
def nothing_server() -> Iterator[ServerThread]:
    """A plain Starlette app: 404 (plain text) for every HTTP path, WebSockets refused."""
    with ServerThread(Starlette(routes=[]), name="nothing") as server:
        yield server


def test_embedded_target_answers_every_capability_and_declares_them_all(embedded: EmbeddedTarget) -> None:
    checks = _by_name(asyncio.run(probe(embedded)))
    assert list(checks) == ["base_url", "websocket", *CAPABILITIES]
    assert all(c.ok and c.declared and not c.missing for c in checks.values()), checks
    assert "403" in checks["websocket"].detail  # refused without a token at the handshake, yet reachable
    assert "400" in checks["seed_mitra"].detail


def test_declared_capabilities_of_a_server_without_them_are_reported_missing(nothing_server: ServerThread) -> None:
    target = url_target(nothing_server.url, environ={})  # declares test_endpoints and otp_readable
    checks = _by_name(asyncio.run(probe(target)))
    assert checks["base_url"].ok and checks["websocket"].ok  # something answers HTTP there
    for name in ("test_endpoints", "otp_readable"):
        assert checks[name].declared and checks[name].missing, checks[name]
        assert "no such route" in checks[name].detail
    for name in ("seed_mitra", "state_dump", "virtual_clock", "fcm_inbox", "xendit_fake", "settings"):
        assert not checks[name].declared and not checks[name].ok and not checks[name].missing


def test_an_fcm_url_without_the_fake_inbox_is_reported_missing(nothing_server: ServerThread) -> None:
    target = Target(
        name="t",
        base_url=nothing_server.url,
        ws_url=nothing_server.ws_url,
        capabilities=frozenset({"fcm_inbox"}),
        fcm_url=nothing_server.url,
    )
    fcm = _by_name(asyncio.run(probe(target)))["fcm_inbox"]
    assert fcm.missing and "/_fake/inbox → 404" in fcm.detail


def _not_found(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": "no test endpoint"}, status_code=404)


async def _no_otp(request: Request) -> JSONResponse:
    return JSONResponse({"error": "NO_OTP", "message": "no OTP for this phone"}, status_code=404)


def test_a_404_with_a_domain_error_means_the_route_exists_and_no_test_endpoint_means_it_does_not() -> None:
    app = Starlette(routes=[Route("/internal/_test/otp", _no_otp)], exception_handlers={404: _not_found})
    with ServerThread(app, name="node-like") as server:
        checks = _by_name(asyncio.run(probe(url_target(server.url, environ={}))))
    assert checks["otp_readable"].ok, checks["otp_readable"]
    assert checks["test_endpoints"].missing and "no test endpoint" in checks["test_endpoints"].detail


def test_the_test_token_is_sent_and_a_missing_one_is_reported_not_present() -> None:
    stack = Stack(VirtualClock(), StackOptions(test_token="s3cret"))
    try:

        def target(token: str | None) -> Target:
            return Target(
                name="guarded",
                base_url=stack.backend_server.url,
                ws_url=stack.backend_server.ws_url,
                capabilities=frozenset({"test_endpoints", "state_dump"}),
                test_token=token,
            )

        without = _by_name(asyncio.run(probe(target(None))))
        with_token = _by_name(asyncio.run(probe(target("s3cret"))))
    finally:
        stack.stop()
    assert without["test_endpoints"].missing and "needs a test token" in without["test_endpoints"].detail
    assert without["state_dump"].missing
    assert with_token["test_endpoints"].ok and with_token["state_dump"].ok


def test_a_base_url_nobody_listens_on_is_unreachable() -> None:
    server = ServerThread(Starlette(), name="gone").start()
    url = server.url
    server.stop()
    checks = _by_name(asyncio.run(probe(url_target(url, environ={}, discover=False))))
    assert checks["base_url"].missing and "no answer" in checks["base_url"].detail
    assert checks["websocket"].missing


def test_a_system_clock_is_not_a_virtual_clock() -> None:
    stack = Stack(SystemClock(), StackOptions())  # as `halo-sim serve` runs without --virtual-clock
    try:
        target = Target(
            name="sys",
            base_url=stack.backend_server.url,
            ws_url=stack.backend_server.ws_url,
            capabilities=frozenset({"virtual_clock"}),
        )
        clock = _by_name(asyncio.run(probe(target)))["virtual_clock"]
    finally:
        stack.stop()
    assert clock.missing and "not virtual" in clock.detail


def test_settings_are_probed_by_reading_them(embedded: EmbeddedTarget, nothing_server: ServerThread) -> None:
    found = _by_name(asyncio.run(probe(embedded)))["settings"]
    assert found.ok and "GET /internal/_test/settings → 200" in found.detail
    declared = Target(
        name="t", base_url=nothing_server.url, ws_url=nothing_server.ws_url, capabilities=frozenset({"settings"})
    )
    absent = _by_name(asyncio.run(probe(declared)))["settings"]
    assert absent.missing and "404" in absent.detail


def test_a_served_backend_reports_the_settings_capability(embedded: EmbeddedTarget) -> None:
    assert "settings" in url_target(embedded.base_url, environ={}).capabilities
