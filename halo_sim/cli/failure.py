"""Failures a person can act on: one line naming the cause and the fix, exit 2, no traceback.

Everything halo-sim refuses on purpose is a :class:`~simkit.errors.HaloSimError`
(or a pytest ``UsageError`` from the plugin); the root command group catches it
here so every command fails the same way.  ``--debug`` (or ``HALO_SIM_DEBUG=1``)
prints the traceback as well, for the bug that hides behind a tidy message.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any

import typer
from typer.core import TyperGroup

from simkit.errors import HaloSimError

EXIT_USAGE = 2
_debug = {"on": False}


class Refused(HaloSimError):
    """A command line that cannot work as given; the message says why and what to do instead."""


def set_debug(on: bool) -> None:
    """Remember ``--debug`` for the rest of the process (the root callback runs before any command)."""
    _debug["on"] = on


def debugging() -> bool:
    """Whether tracebacks are wanted: ``--debug`` or ``HALO_SIM_DEBUG`` set to anything but 0/empty."""
    return _debug["on"] or os.environ.get("HALO_SIM_DEBUG", "") not in ("", "0")


def one_line(message: str) -> str:
    """The message folded to a single line (a multi-line cause keeps its first line, the rest joined)."""
    return " ".join(part.strip() for part in str(message).splitlines() if part.strip())


def refuse(message: str, exc: BaseException | None = None) -> typer.Exit:
    """Print ``error: message`` (and the traceback when debugging); returns the Exit to raise."""
    if exc is not None and debugging():
        traceback.print_exception(exc, file=sys.stderr)
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {escape(one_line(message))}", highlight=False)
    return typer.Exit(EXIT_USAGE)


class OneLineGroup(TyperGroup):
    """The root group: a deliberate refusal from any command becomes one line and exit 2."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except HaloSimError as exc:
            raise refuse(str(exc), exc) from None
