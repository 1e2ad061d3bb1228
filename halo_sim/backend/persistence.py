"""Saving the reference backend's state to a file and loading it back.

``halo-sim serve --state-file F`` writes the whole state when it drains and
restores it on the next start, so restarting the dev server keeps the app
developers' test accounts, tokens, payments and sessions.  The id generator's
state is saved too: without it a restarted backend would hand out the same ids
again.  Timers are not saved; the backend re-arms them from the rows on start.
"""

from __future__ import annotations

import dataclasses
import json
import os
from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from halo_sim.backend.store import Store
from halo_sim.backend.tables import ROW_TYPES
from simkit.errors import HaloSimError

FORMAT = 1


class StateFileError(HaloSimError):
    """The state file exists but cannot be used; it names the file and the problem."""


def snapshot(store: Store, rng_state: Any) -> dict[str, Any]:
    """Everything needed to continue later, as JSON-ready data."""
    version, internal, gauss = rng_state
    return {"format": FORMAT, "tables": store.dump(), "ids": [version, list(internal), gauss]}


def save(path: Path, data: dict[str, Any]) -> None:
    """Write atomically: a crash mid-write leaves the previous file intact."""
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(temporary, path)


def load(path: Path) -> dict[str, Any] | None:
    """The saved state, or None when there is no file yet."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StateFileError(f"{path}: cannot read the saved state ({exc}); move it away to start fresh") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise StateFileError(f"{path}: not a halo-sim state file of format {FORMAT}; move it away to start fresh")
    return data


def restore(store: Store, data: dict[str, Any]) -> tuple[Any, ...]:
    """Fill ``store`` with the saved rows (parents before children); returns the id generator's state."""
    store.clear()
    for table in ROW_TYPES:  # declared parents-first, so foreign keys check out on insert
        for raw in data["tables"].get(table, []):
            store.table(table).insert(_row(table, raw))
    version, internal, gauss = data["ids"]
    return (version, tuple(internal), gauss)


def _row(table: str, raw: dict[str, Any]) -> Any:
    row_type = ROW_TYPES[table]
    hints = get_type_hints(row_type)
    values = {f.name: _typed(hints[f.name], raw[f.name]) for f in dataclasses.fields(row_type) if f.name in raw}
    return row_type(**values)


def _typed(hint: Any, value: Any) -> Any:
    """JSON's value as the column's type: enums, tuples (JSON lists) and int-keyed dicts (JSON string keys)."""
    if value is None:
        return None
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(value)
    origin, args = get_origin(hint), get_args(hint)
    if origin is tuple:
        return tuple(value)
    if origin is dict and args and args[0] is int:
        return {int(k): v for k, v in value.items()}
    return value
