"""Choosing a target: ``embedded``, a URL, or a name from the targets file."""

from __future__ import annotations

from pathlib import Path

from halo_sim.targets.base import Target


def open_target(name: str, targets_file: Path | None = None) -> Target:
    """``embedded`` (the default) starts the in-process stack; the caller closes what it opened."""
    if name == "embedded":
        from halo_sim.targets.embedded import start_embedded

        return start_embedded()
    from halo_sim.targets.profiles import named_target, url_target

    if name.startswith(("http://", "https://")):
        return url_target(name)
    return named_target(name, targets_file)
