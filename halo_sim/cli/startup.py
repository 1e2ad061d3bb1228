"""What makes ``halo-sim serve`` fail to start, found before anything starts, as one line each.

Otherwise a port in use or a broken state file surfaces from inside uvicorn's
start-up as a long traceback ending in ``SystemExit(3)``, which names neither.
"""

from __future__ import annotations

import errno
import socket

from halo_sim.cli.failure import Refused


def check_start(host: str, ports: dict[str, int]) -> None:
    """Refuse a port already taken (a state file that does not restore is refused by the stack itself)."""
    for flag, port in ports.items():
        if port:
            _port_free(host, port, flag)


def _port_free(host: str, port: int, flag: str) -> None:
    """Bind as uvicorn will (SO_REUSEADDR: a closing socket does not count), then let go."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            cause = (
                "is in use (another halo-sim serve?)" if exc.errno == errno.EADDRINUSE else f"cannot be bound: {exc}"
            )
            raise Refused(f"port {port} on {host} {cause}; choose another with {flag} N, or {flag} 0 for any") from None
