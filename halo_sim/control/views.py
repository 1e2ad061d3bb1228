"""Rendering: the page and its panels, from Jinja2 templates (autoescaped), no client-side templating.

The page is the panels rendered once inside ``templates/control.html``; the stream sends a
panel again, re-rendered by the same template, whenever what it shows changed.  So there is
one way a row looks, and the browser only swaps HTML (``static/control.js``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.templating import Jinja2Templates

HERE = Path(__file__).parent
STATIC = HERE / "static"
PANELS = (
    "stats",
    "mitras",
    "customers",
    "payments",
    "sessions",
    "inbox",
    "callbacks",
    "config",
    "timeline",
)
#: The assets the page loads (served from the package: nothing is fetched from the network).
ASSETS = {"control.js": "text/javascript", "control.css": "text/css"}


def short(value: object, n: int = 8) -> str:
    """An id as a table cell shows it (the full one is in the title and the filter)."""
    text = "" if value is None else str(value)
    return text if len(text) <= n else text[:n]


def age(seconds: float | None) -> str:
    """``12s``, ``3m 05s``, ``1h 02m``; ``–`` for never."""
    if seconds is None:
        return "–"
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    return f"{whole // 3600}h {whole % 3600 // 60:02d}m"


def rupiah(amount: float | None) -> str:
    """``Rp 25.000``: Indonesian thousands separators, as the apps show prices."""
    return "–" if amount is None else "Rp " + f"{int(amount):,}".replace(",", ".")


def clock(at: float) -> str:
    """The backend clock's time as a UTC date and time (a virtual clock starts at a fixed date)."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters.update(short=short, age=age, rupiah=rupiah, clock=clock)


def panel(name: str, snap: dict[str, Any]) -> str:
    """One panel's HTML for ``snap``."""
    return templates.env.get_template(f"panels/{name}.html").render(snap=snap)


def panels(snap: dict[str, Any]) -> dict[str, str]:
    """Every panel's HTML for ``snap``."""
    return {name: panel(name, snap) for name in PANELS}
