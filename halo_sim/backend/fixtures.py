"""Seed data (mitras, customers) loaded into a fresh store.

App developers pointing the Flutter apps at ``halo-sim serve`` need mitras to log
in with; the files under ``fixtures/`` provide them, and every reset brings them
back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from halo_sim.backend.store import Store
from halo_sim.backend.tables import Customer, Mitra
from simkit.errors import HaloSimError


def default_fixtures_dir(start: Path | None = None) -> Path | None:
    """``fixtures/`` of the nearest enclosing halo-sim checkout, if any."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "fixtures"
        if (candidate / "mitras.yaml").is_file():
            return candidate
    return None


def load_fixtures(store: Store, folder: Path | None, now: float) -> None:
    """Insert the mitras and customers of ``folder`` (nothing when it is None)."""
    if folder is None:
        return
    for item in _read(folder / "mitras.yaml"):
        store.insert(
            "mitras",
            Mitra(
                id=item["id"],
                phone=str(item["phone"]),
                display_name=item["display_name"],
                password=str(item["password"]),
                topics=tuple(item.get("topics", [])),
            ),
        )
    for item in _read(folder / "customers.yaml"):
        store.insert(
            "customers",
            Customer(
                id=item["id"],
                phone=item.get("phone"),
                display_name=item.get("display_name"),
                is_anonymous=bool(item.get("is_anonymous", False)),
                created_at=now,
            ),
        )


def _read(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except yaml.YAMLError as exc:
        raise HaloSimError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, list):
        raise HaloSimError(f"{path}: expected a list of rows")
    return data
