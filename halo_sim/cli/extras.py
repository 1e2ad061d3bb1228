"""Optional extras that dependencies import whenever they happen to be installed, and halo-sim never uses.

``import httpx`` imports httpx's own command-line tool (click, pygments, rich's syntax and progress
bars) when those are installed, as they are here (uvicorn needs click, rich needs pygments); and
httpcore imports the HTTP/2 stack (h2, hpack, hyperframe) when h2 is.  halo-sim runs neither: its
clients speak HTTP/1.1 only (``http2`` is never switched on).  Measured, the two cost ~40 ms of every
``halo-sim scenario`` start.  A ``None`` in ``sys.modules`` makes their import fail, and both
packages then fall back to the stand-ins they ship for a missing extra.  Only the console script
does this, for its own process.
"""

from __future__ import annotations

import sys

UNUSED = ("httpx._main", "httpcore._sync.http2", "httpcore._async.http2")


def skip_unused() -> None:
    """Make the :data:`UNUSED` modules unimportable in this process (left alone if already imported)."""
    for name in UNUSED:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # None: "known missing" to the import system
