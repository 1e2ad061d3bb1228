"""The YAML of one step, as written in its file: what a failure report shows next to ``file:line``."""

from __future__ import annotations

from pathlib import Path

MAX_LINES = 30


def step_yaml(path: str, line: int | None) -> list[str]:
    """The lines of the step starting at ``line`` (1-based), up to the next item at its indent; [] if unreadable."""
    if not line:
        return []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    if not 0 < line <= len(lines):
        return []
    first = lines[line - 1]
    indent = len(first) - len(first.lstrip())
    block = [first]
    for text in lines[line:]:
        if text.strip() and len(text) - len(text.lstrip()) <= indent:
            break
        block.append(text)
    while block and not block[-1].strip():
        block.pop()
    return [text[indent:] for text in block[:MAX_LINES]]
