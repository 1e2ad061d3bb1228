"""Choosing a target by name."""

from __future__ import annotations

from halo_sim.errors import TargetError
from halo_sim.targets.base import Target


def open_target(name: str) -> Target:
    """``embedded`` (the default) starts the in-process stack; live targets come with target profiles."""
    if name == "embedded":
        from halo_sim.targets.embedded import start_embedded

        return start_embedded()
    raise TargetError(f"unknown target {name!r}; this version supports 'embedded' (live targets: see README)")
