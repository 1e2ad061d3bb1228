"""The default target: the reference backend and fake FCM in this process, on loopback.

The servers start once per process (a pytest-xdist worker, a CLI run) on free
ports and are reset between scenarios over their control planes, so isolation
costs one HTTP call instead of a server start.  Time is a
:class:`~simkit.clock.VirtualClock` shared by all of them: timeouts fire when a
scenario advances the clock, not when the wall clock says so.
"""

from __future__ import annotations

import httpx

from halo_sim.stack import Stack
from halo_sim.targets.base import Target
from simkit.errors import TargetError

EMBEDDED_CAPABILITIES = frozenset(
    {"test_endpoints", "otp_readable", "seed_mitra", "state_dump", "virtual_clock", "fcm_inbox", "xendit_fake"}
    | {"settings"}
)


class EmbeddedTarget(Target):
    """A :class:`Target` over an in-process :class:`~halo_sim.stack.Stack`, reset before each scenario."""

    def __init__(self, stack: Stack) -> None:
        super().__init__(
            name="embedded",
            base_url=stack.backend_server.url,
            ws_url=stack.backend_server.ws_url,
            capabilities=EMBEDDED_CAPABILITIES,
            fcm_url=stack.fcm_server.url,
            xendit_url=stack.xendit_server.url,
            xendit_callback_token=stack.xendit_callback_token,
            xendit_secret_key=stack.config.xendit_secret_key,
        )
        self.stack = stack

    async def before_scenario(self, http: httpx.AsyncClient, seed: int) -> None:
        """Fresh fakes, then a fresh backend (seeded), over their control planes."""
        for url, body in (
            (f"{self.xendit_url}/_fake/reset", None),
            (f"{self.fcm_url}/_fake/reset", None),
            (f"{self.base_url}/internal/_test/reset", {"seed": seed}),
        ):
            response = await http.post(url, json=body or {})  # the test surface takes JSON only
            if response.status_code != 200:
                raise TargetError(f"embedded reset failed: POST {url} → {response.status_code} {response.text[:200]}")

    def close(self, wait: bool = True) -> None:
        self.stack.stop(wait)


def start_embedded() -> EmbeddedTarget:
    """Start a fresh in-process stack; the caller closes it."""
    return EmbeddedTarget(Stack())
