"""Run fake FCM standalone: ``python -m fake_fcm --host 127.0.0.1 --port 9099 [--project P] [--bearer T]``.

Useful to point the team's real Node backend at it (``FCM_BASE_URL``).  The
server runs on :class:`simkit.server.ServerThread`, so ``--port 0`` works and
the printed URL carries the port actually bound.  ``--project`` and ``--bearer``
default to the backend's own ``FCM_PROJECT_ID`` and ``FCM_ACCESS_TOKEN`` (flags >
environment > ``./.env``; unset: any project, any bearer), so one ``.env`` configures both.
"""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Sequence
from types import FrameType

from fake_fcm.models import INBOX_CAP, FcmBackend
from fake_fcm.routes import create_app
from simkit.envfile import setting
from simkit.server import ServerThread


def build_parser() -> argparse.ArgumentParser:
    """The command line of the standalone fake."""
    parser = argparse.ArgumentParser(prog="python -m fake_fcm", description="Fake FCM HTTP v1 server.")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=9099, help="port to bind; 0 picks a free one (default 9099)")
    parser.add_argument(
        "--project", default=setting("FCM_PROJECT_ID"), help="only accept sends to this project id (FCM_PROJECT_ID)"
    )
    parser.add_argument(
        "--bearer", default=setting("FCM_ACCESS_TOKEN"), help="only accept this OAuth bearer token (FCM_ACCESS_TOKEN)"
    )
    parser.add_argument(
        "--strict-tokens",
        action="store_true",
        help="answer UNREGISTERED for device tokens not registered via /_fake/tokens/T/register",
    )
    parser.add_argument(
        "--inbox-cap",
        type=int,
        default=INBOX_CAP,
        help=f"messages the inbox keeps, the newest (default {INBOX_CAP}; /_fake/inbox says how many it dropped)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGINT or SIGTERM, then shut down cleanly."""
    args = build_parser().parse_args(argv)
    stop = _stop_on_signals()  # before printing the URL: whoever reads it may signal at once
    backend = FcmBackend(
        project_id=args.project,
        expected_bearer=args.bearer,
        strict_tokens=args.strict_tokens,
        inbox_cap=args.inbox_cap,
    )
    server = ServerThread(create_app(backend), host=args.host, port=args.port, name="fake-fcm").start()
    project = args.project or "{project}"
    print(f"fake FCM listening on {server.url}", flush=True)
    print(f"  send:  POST {server.url}/v1/projects/{project}/messages:send", flush=True)
    print(f"  inbox: GET  {server.url}/_fake/inbox", flush=True)
    stop.wait()
    server.stop()
    return 0


def _stop_on_signals() -> threading.Event:
    """An event set by SIGINT/SIGTERM; the main thread waits on it while the server runs on its own thread."""
    stop = threading.Event()

    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return stop


if __name__ == "__main__":
    raise SystemExit(main())
