"""What makes ``halo-sim serve`` fail to start, found before anything starts, as one line each.

Otherwise a port in use or a broken state file surfaces from inside uvicorn's
start-up as a long traceback ending in ``SystemExit(3)``, which names neither.
"""

from __future__ import annotations

import errno
import socket
from pathlib import Path

from halo_sim.cli.failure import Refused


def check_start(host: str, ports: dict[str, int], state_file: Path | None) -> None:
    """Refuse a port already taken or a state file that would not restore."""
    for flag, port in ports.items():
        if port:
            _port_free(host, port, flag)
    if state_file is not None:
        _state_restores(state_file)


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


def _state_restores(path: Path) -> None:
    """Load the file and restore it into a scratch store, exactly as start-up will."""
    from halo_sim.backend import persistence
    from halo_sim.backend.store import Store

    saved = persistence.load(path)  # its StateFileError already names the file and the fix
    if saved is None:
        return
    try:
        persistence.restore(Store(), saved)
    except Exception as exc:  # any way a saved row does not fit today's tables
        raise Refused(
            f"{path}: the saved state does not restore ({type(exc).__name__}: {exc}); move it away to start fresh"
        ) from None
