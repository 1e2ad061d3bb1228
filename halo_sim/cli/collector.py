"""Garbage collection while a command starts up.

Start-up allocates some 60,000 objects that live as long as the process (modules, classes,
pydantic schemas, the servers), and every collection in that window walks them for nothing:
measured, a tenth of the import time of ``halo-sim scenario``.  The console script pauses
collection before it builds the app; a command that goes on running (scenarios, ``serve``,
``suite``, the fakes, the relay) calls :func:`started` once it is up, which moves what start-up
built out of the collector's sight (``gc.freeze``) and resumes collection.  Short commands end
before it would matter.
"""

from __future__ import annotations

import gc


def pause() -> None:
    """No collections until :func:`started` (the CLI's first act)."""
    gc.disable()


def started() -> None:
    """Start-up is over: freeze what it built and collect again, as any long-running process must.

    Only after :func:`pause`: a command run in another process's interpreter (typer's CliRunner in
    the tests) leaves that process's collector alone.
    """
    if gc.isenabled():
        return
    gc.freeze()
    gc.enable()
