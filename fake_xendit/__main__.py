"""``python -m fake_xendit``: the fake on its own, for a real backend to point XENDIT_BASE_URL at.

Runs on the wall clock (optionally sped up); prints the URL once the socket is
bound, so ``--port 0`` is usable from scripts.  ``--secret-key`` and
``--callback-token`` default to the backend's own ``XENDIT_SECRET_KEY`` and
``XENDIT_CALLBACK_TOKEN`` (flags > environment > ``./.env``), so one ``.env``
configures both; a callback token set nowhere is random, printed once at start.
"""

from __future__ import annotations

import argparse
import logging
import secrets
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from fake_xendit.callbacks import DEFAULT_SCHEDULE, XENDIT_REAL_SCHEDULE, CallbackDispatcher
from fake_xendit.keys import TEST_KEY_PREFIX
from fake_xendit.models import FINISHED_INVOICES_CAP, XenditBackend
from fake_xendit.routes import create_app
from simkit.clock import SystemClock
from simkit.envfile import setting
from simkit.scheduler import Scheduler
from simkit.server import ServerThread


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line; every option has a default that works on a developer's machine."""
    parser = argparse.ArgumentParser(prog="python -m fake_xendit", description="Fake Xendit Invoice API")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (0.0.0.0 for an emulator)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one")
    parser.add_argument(
        "--secret-key",
        default=setting("XENDIT_SECRET_KEY"),
        help="accept this API key only (XENDIT_SECRET_KEY; unset: any test-mode key, xnd_development_…)",
    )
    parser.add_argument("--callback-url", default=None, help="where invoice callbacks are POSTed")
    parser.add_argument(
        "--callback-token",
        default=setting("XENDIT_CALLBACK_TOKEN"),
        help="sent as x-callback-token (XENDIT_CALLBACK_TOKEN; unset: random, printed at start)",
    )
    parser.add_argument("--base-url", default=None, help="public URL used in invoice_url (default: as requested)")
    parser.add_argument("--merchant-name", default="Halo", help="merchant shown on the checkout page")
    parser.add_argument("--speed", type=float, default=1.0, help="clock speed factor (expiry and retries)")
    parser.add_argument(
        "--real-retries", action="store_true", help="retry callbacks on Xendit's real 15 min…12 h ladder"
    )
    parser.add_argument(
        "--keep-invoices",
        type=int,
        default=FINISHED_INVOICES_CAP,
        help=f"finished (paid, settled, expired) invoices kept, the newest; PENDING ones all stay "
        f"(default {FINISHED_INVOICES_CAP})",
    )
    return parser.parse_args(argv)


def accepted_keys(secret_key: str | None) -> str:
    """What the start-up line says about keys, so a 401 later is no surprise."""
    if secret_key is None:
        return f"accepts any test-mode key {TEST_KEY_PREFIX}…; production keys are refused"
    return f"accepts only the secret key {secret_key!r}"


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until interrupted (Ctrl-C or SIGTERM)."""
    args = parse_args(argv)
    generated = args.callback_token is None
    args.callback_token = args.callback_token or secrets.token_hex(32)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(levelname)s %(message)s")
    backend = XenditBackend(
        Scheduler(SystemClock(speed=args.speed)),
        secret_key=args.secret_key,
        callback_url=args.callback_url,
        callback_token=args.callback_token,
        base_url=args.base_url,
        merchant_name=args.merchant_name,
        finished_invoices_cap=args.keep_invoices,
    )
    dispatcher = CallbackDispatcher(backend, XENDIT_REAL_SCHEDULE if args.real_retries else DEFAULT_SCHEDULE)
    server = ServerThread(create_app(backend, dispatcher), host=args.host, port=args.port, name="fake-xendit").start()
    print(f"fake xendit listening on {server.url}  ({accepted_keys(args.secret_key)})", flush=True)
    if generated:  # the backend must be told it: print it once (a fake's token, on the developer's own console)
        print(f"  callback token (generated; set XENDIT_CALLBACK_TOKEN to choose): {args.callback_token}", flush=True)
    stop = threading.Event()

    def on_signal(signum: int, _: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
