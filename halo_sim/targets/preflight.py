"""Before any scenario runs on a live target: is it there at all, and does it take our test token?

Without this, a target that is down shows up as every scenario failing with a
connection traceback (or skipping for a reason that blames something else), and
a wrong test token as a 401 in every test hook.  Both are one :class:`TargetError`
here, naming the URL and what to change, so the CLI can stop with one line.
"""

from __future__ import annotations

import httpx

from halo_sim.targets.base import Target
from simkit.errors import TargetError
from simkit.tls import client_context

TIMEOUT_S = 3.0
TOKEN_CHECK = "/internal/_test/ws-connection-state"  # a cheap test hook behind the x-test-token guard


def preflight(target: Target, timeout: float = TIMEOUT_S) -> None:
    """Raise :class:`TargetError` (one line) when a live target is down or refuses the test token."""
    if not target.live:
        return
    try:
        with httpx.Client(timeout=timeout, verify=client_context()) as http:
            status = http.get(target.base_url + TOKEN_CHECK, headers=target.test_headers()).status_code
    except httpx.TransportError as exc:
        raise TargetError(unreachable(target, exc)) from None
    if status == 401 and target.has("test_endpoints"):
        raise TargetError(token_refused(target, TOKEN_CHECK))


def unreachable(target: Target, exc: BaseException) -> str:
    """Why a target could not be reached, with its URL and the fix."""
    cause = "connection refused" if isinstance(exc, httpx.ConnectError) else f"{type(exc).__name__}: {exc}"
    if isinstance(exc, httpx.TimeoutException):
        cause = "no answer in time"
    return (
        f"target {target.name!r} is down or unreachable at {target.base_url} ({cause}): "
        f"start it or fix its URL; 'halo-sim target check {target.name}' shows what answers"
    )


def token_refused(target: Target, path: str) -> str:
    """A 401 from the test hooks: the token is missing or is not the backend's."""
    state = "was refused" if target.test_token else "is missing"
    return (
        f"target {target.name!r} answered 401 on {path}: the test token {state}; "
        "export HALO_TEST_TOKEN (a URL target) or the variable its test_token_env names (halo-sim.yaml) "
        "with the backend's test token"
    )
