"""Ending the CLI process as ``sys.exit`` would, without the interpreter's teardown.

Measured on ``halo-sim scenario`` (2 cores): once the command is done, Python's own finalisation
(collections over the ~60,000 objects start-up made, clearing every module, the embedded servers'
daemon thread still winding down beside it) costs 0.2–0.3 s, a third of the whole run.  So the
console script ends as a normal exit does as far as anyone can observe (non-daemon threads joined,
atexit handlers run, stdout and stderr flushed, the same status) and then leaves with ``os._exit``,
skipping only that teardown.  While a thread that is not a daemon is still alive (a thread pool's
idle worker is told to stop only by the interpreter's own exit), the normal exit is taken instead.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn


def exit_now(code: str | int | None) -> NoReturn:
    """Exit with ``code`` as ``sys.exit(code)`` would (``None`` → 0, a message → stderr and 1)."""
    if threading.current_thread() is not threading.main_thread() or _other_threads():
        sys.exit(code)
    if not isinstance(code, str):
        status = code or 0
    else:
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()  # coverage, logging and the like still see the process end
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: the interpreter would say 120
            status = status or 120
    os._exit(status)


def _other_threads() -> bool:
    """Whether a thread the interpreter's exit would wait for is alive (then it must do the exiting)."""
    return any(not t.daemon and t is not threading.main_thread() for t in threading.enumerate())
