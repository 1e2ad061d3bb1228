"""The frame and refusal-code tables of ``docs/contract.md``, generated from the catalogue.

``python -m halo_sim.contract.docs`` rewrites the text between the marker
comments (``<!-- frames:begin -->`` … ``<!-- frames:end -->``, the same for
``codes``) and leaves the rest of the file alone; ``--check`` only says whether
the file is current (``tests/contract/test_docs.py`` runs it), so the tables
cannot drift from the models.
"""

from __future__ import annotations

import inspect
import re
import sys
import types
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from halo_sim.contract.codes import REFUSAL_CODES
from halo_sim.contract.frames import CLIENT_FRAMES, SERVER_FRAMES, Frame

DOC = Path("docs") / "contract.md"  # run from the checkout's root (an installed package has no docs/)
COMMAND = "python -m halo_sim.contract.docs"


def type_name(annotation: Any) -> str:
    """A field's type as the docs show it: ``str``, ``blast|targeted``, ``{id, display_name}``, ``int?``."""
    origin = get_origin(annotation)
    if annotation is Any:
        return "any"
    if origin is Annotated:  # a constrained type (halo_sim.contract.fields): shown as its base type
        return type_name(get_args(annotation)[0])
    if origin is Literal:
        return "|".join(str(a) for a in get_args(annotation))
    if origin in (Union, types.UnionType):
        return "|".join(type_name(a) for a in get_args(annotation) if a is not type(None)) + " or null"
    if origin is list:
        return f"list[{type_name(get_args(annotation)[0])}]"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "|".join(str(m.value) for m in annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "{" + ", ".join(annotation.model_fields) + "}"
    return getattr(annotation, "__name__", str(annotation))


def fields_of(model: type[Frame]) -> str:
    """``name: type`` of every field but ``type``; optional (may be absent) ones end in ``?``."""
    parts = []
    for name, info in model.model_fields.items():
        if name == "type":
            continue
        shown = type_name(info.annotation)
        if not info.is_required():  # an optional field is absent rather than null
            name, shown = f"{name}?", shown.removesuffix(" or null")
        parts.append(f"`{name}`: {shown}")
    return ", ".join(parts) or "—"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _when(model: type[Frame]) -> str:
    return (inspect.getdoc(model) or "").splitlines()[0].replace("``", "`")


def frame_table() -> str:
    """Every frame, client→server first: direction, type, fields, when and to whom."""
    rows = ["| direction | type | fields | sent when, to whom |", "|---|---|---|---|"]
    for name, model in [*CLIENT_FRAMES.items(), *SERVER_FRAMES.items()]:
        rows.append(f"| {model.direction} | `{name}` | {_cell(fields_of(model))} | {_cell(_when(model))} |")
    return "\n".join(rows)


def code_table() -> str:
    """Every refusal code: code, HTTP status, kind, meaning, where it comes from."""
    rows = ["| code | status | kind | meaning | from |", "|---|---|---|---|---|"]
    for entry in REFUSAL_CODES:
        status = "—" if entry.status is None else str(entry.status)
        rows.append(f"| `{entry.code}` | {status} | {entry.kind} | {_cell(entry.meaning)} | {_cell(entry.source)} |")
    return "\n".join(rows)


Sections = dict[str, Callable[[], str]]
SECTIONS: Sections = {"frames": frame_table, "codes": code_table}


def render(text: str, sections: Sections | None = None) -> str:
    """``text`` with every generated section replaced by the catalogue's current table."""
    for name, table in (SECTIONS if sections is None else sections).items():
        text = _replace(text, name, table())
    return text


def _replace(text: str, name: str, body: str) -> str:
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"no {begin} … {end} markers in the document")
    return pattern.sub(lambda _: f"{begin}\n{body}\n{end}", text, count=1)


def is_current(path: Path = DOC, sections: Sections | None = None) -> bool:
    """True when ``path`` already holds the tables the catalogue generates."""
    text = path.read_text(encoding="utf-8")
    return render(text, sections) == text


def write(path: Path = DOC, sections: Sections | None = None) -> bool:
    """Regenerate the tables in ``path``; True when the file changed."""
    text = path.read_text(encoding="utf-8")
    fresh = render(text, sections)
    if fresh != text:
        path.write_text(fresh, encoding="utf-8")
    return fresh != text


def main(argv: list[str], doc: Path = DOC, sections: Sections | None = None, command: str = COMMAND) -> int:
    """``[--check] [PATH]``: rewrite (or only check) the generated tables.

    Shared by every generated document (:mod:`halo_sim.scenario.docs` passes its own sections).
    """
    check = "--check" in argv
    paths = [Path(a) for a in argv if a != "--check"]
    path = paths[0] if paths else doc
    if check:
        current = is_current(path, sections)
        print(f"{path}: {'up to date' if current else f'out of date; run {command}'}")
        return 0 if current else 1
    print(f"{path}: {'rewritten' if write(path, sections) else 'already up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
