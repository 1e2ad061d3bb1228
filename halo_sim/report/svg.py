"""The sequence diagram drawn as SVG, by us: no renderer, no fonts or scripts from the network.

One column per lane, one row per message in time order, a header row for each step
(every step of the run, also those that sent nothing) and a red band behind the rows of
the step that failed.  The gutter on the left shows each row's time since the run began
and, on a target with a virtual clock, the virtual time (``v+MM:SS`` from the first reading).
Each arrow is a ``<g class="msg" data-index="N">`` the page's script opens the payload of.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from halo_sim.report.sequence import Message, Sequence, StepBand

GUTTER = 150
LANE_W = 190
TOP = 56
ROW = 26
HEADER_ROW = 24
LABEL_CHARS = 34
COLOURS = {
    "http": "#1f5fbf",
    "answer": "#6b7280",
    "ws": "#0f7b4f",
    "frame": "#0f7b4f",
    "push": "#c2410c",
    "callback": "#7e22ce",
    "note": "#6b7280",
}
BAD = "#c81e1e"


@dataclass(frozen=True)
class Row:
    """One horizontal slot of the picture: a step's header or a message."""

    y: int
    step: StepBand | None = None
    message: Message | None = None
    heading: str = ""


def rows(seq: Sequence) -> list[Row]:
    """Headers and messages top to bottom: each step's header before its first message."""
    laid: list[Row] = []
    y, shown, outside = TOP, -1, ""

    def header(step: StepBand | None, text: str) -> None:
        nonlocal y
        laid.append(Row(y, step=step, heading=text))
        y += HEADER_ROW

    for message in seq.messages:
        upto = message.step if message.step is not None else (len(seq.steps) - 1 if shown >= 0 else -1)
        for step in seq.steps[shown + 1 : upto + 1]:
            header(step, f"{step.name} · {step.title}")
        shown = max(shown, upto)
        where = "" if message.step is not None else ("after the steps: clean-up" if shown >= 0 else "before the steps")
        if where and where != outside:
            header(None, where)
        outside = where or outside
        laid.append(Row(y, message=message))
        y += ROW
    for step in seq.steps[shown + 1 :]:
        header(step, f"{step.name} · {step.title}")
    return laid


def draw(seq: Sequence) -> str:
    """The whole diagram as one ``<svg>`` element."""
    laid = rows(seq)
    x = {lane.key: GUTTER + LANE_W * i + LANE_W // 2 for i, lane in enumerate(seq.lanes)}
    width = GUTTER + LANE_W * len(seq.lanes)
    height = (laid[-1].y if laid else TOP) + ROW + 12
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sequence" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        *_bands(seq, laid, width),
        *_lanes(seq, x, height),
        *(_row(row, x, width, seq.virtual_start) for row in laid),
        "</svg>",
    ]
    return "\n".join(parts)


def _bands(seq: Sequence, laid: list[Row], width: int) -> list[str]:
    """A red band behind the failing step's header and messages."""
    failed = next((s for s in seq.steps if s.failed), None)
    if failed is None:
        return []
    ys = [r.y for r in laid if r.step is failed or (r.message is not None and r.message.step == failed.index)]
    top, bottom = min(ys) - 2, max(ys) + ROW
    return [
        f'<rect id="failed-step" class="failed-band" data-step="{failed.index}" x="0" y="{top}" '
        f'width="{width}" height="{bottom - top}" fill="#fde8e8" stroke="{BAD}" stroke-width="2"/>'
    ]


def _lanes(seq: Sequence, x: dict[str, int], height: int) -> list[str]:
    out = []
    for lane in seq.lanes:
        cx = x[lane.key]
        out.append(
            f'<g class="lane" data-lane={quoteattr(lane.key)}>'
            f'<line x1="{cx}" y1="40" x2="{cx}" y2="{height}" stroke="#9ca3af" stroke-dasharray="4 4"/>'
            f'<rect x="{cx - 80}" y="8" width="160" height="30" rx="6" fill="#eef2ff" stroke="#6366f1"/>'
            f'<text x="{cx}" y="28" text-anchor="middle" font-weight="bold">{escape(lane.label)}</text></g>'
        )
    out.append(
        '<text x="8" y="28" fill="#374151" font-weight="bold">wall s</text>'
        '<text x="78" y="28" fill="#374151" font-weight="bold">virtual</text>'
    )
    return out


def _row(row: Row, x: dict[str, int], width: int, virtual_start: float | None) -> str:
    if row.message is None:
        return _heading(row, width)
    return _arrow(row.message, row.y, x, width, virtual_start)


def _heading(row: Row, width: int) -> str:
    step = row.step
    mark = {"passed": "✓", "failed": "✗", "error": "!", "skipped": "–"}.get(step.status, "") if step else ""
    colour = BAD if step is not None and step.failed else "#111827"
    link = f' href="#step-{step.index}"' if step is not None else ""
    return (
        f'<a class="step-heading"{link}><line x1="0" y1="{row.y}" x2="{width}" y2="{row.y}" stroke="#d1d5db"/>'
        f'<text x="8" y="{row.y + 16}" fill="{colour}" font-weight="bold">{escape(f"{mark} {row.heading}".strip())}'
        "</text></a>"
    )


def _arrow(message: Message, y: int, x: dict[str, int], width: int, virtual_start: float | None) -> str:
    """One message's row: the whole row is the click target (a thin arrow alone is hard to hit)."""
    colour = BAD if message.bad else COLOURS.get(message.kind, "#111827")
    label = message.label + (f" ×{message.count}" if message.count > 1 else "")
    shown = label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"
    body = _note(message, y, x, colour, shown) if message.source == message.target else _line(message, y, x, colour)
    return (
        f'<g class="msg msg-{message.kind}" data-index="{message.index}" tabindex="0" role="button">'
        f"<title>{escape(label)}</title>"
        f'<rect class="hit" x="0" y="{y}" width="{width}" height="{ROW}" fill="transparent"/>'
        f"{_times(message, y, virtual_start)}{body}"
        f"{'' if message.source == message.target else _label(message, y, x, shown)}</g>"
    )


def _line(message: Message, y: int, x: dict[str, int], colour: str) -> str:
    x1, x2 = x[message.source], x[message.target]
    tip = x2 - 8 if x2 > x1 else x2 + 8
    dash = ' stroke-dasharray="5 3"' if message.kind == "answer" else ""
    ay = y + 18
    return (
        f'<line x1="{x1}" y1="{ay}" x2="{tip}" y2="{ay}" stroke="{colour}" stroke-width="1.6"{dash}/>'
        f'<polygon points="{x2},{ay} {tip},{ay - 4} {tip},{ay + 4}" fill="{colour}"/>'
    )


def _label(message: Message, y: int, x: dict[str, int], shown: str) -> str:
    middle = (x[message.source] + x[message.target]) // 2
    colour = BAD if message.bad else "#111827"
    return f'<text x="{middle}" y="{y + 13}" text-anchor="middle" fill="{colour}">{escape(shown)}</text>'


def _note(message: Message, y: int, x: dict[str, int], colour: str, shown: str) -> str:
    cx = x[message.source]
    return (
        f'<rect x="{cx - 85}" y="{y + 3}" width="170" height="{ROW - 6}" fill="#fffbeb" stroke="{colour}"/>'
        f'<text x="{cx}" y="{y + 17}" text-anchor="middle">{escape(shown[:28])}</text>'
    )


def _times(message: Message, y: int, virtual_start: float | None) -> str:
    wall = "?" if message.t is None else f"{message.t:.4f}"
    shown = f'<text x="8" y="{y + 17}" fill="#4b5563">{wall}</text>'
    if message.virtual is not None and virtual_start is not None:
        shown += f'<text x="78" y="{y + 17}" fill="#4b5563">{virtual_offset(message.virtual - virtual_start)}</text>'
    return shown


def virtual_offset(seconds: float) -> str:
    """``v+14:00`` (minutes:seconds since the first reading; hours when there are any)."""
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"v+{hours}:{minutes:02d}:{secs:02d}" if hours else f"v+{minutes}:{secs:02d}"
