"""The process's configuration: the real environment over the ``.env`` file of the current folder.

One order for every entry point (``halo-sim serve``, the fakes, the tests): command-line
flags > the environment > ``./.env`` > the defaults.  The ``.env`` never overrides a
variable that is set in the environment, and an empty value counts as unset.
"""

from __future__ import annotations

import os
from pathlib import Path

from dotenv import dotenv_values


def environment(folder: Path | None = None) -> dict[str, str]:
    """``./.env`` (parsed by python-dotenv) with the real environment over it."""
    path = (folder or Path.cwd()) / ".env"
    from_file = {k: v for k, v in dotenv_values(path).items() if v} if path.is_file() else {}
    return {**from_file, **{k: v for k, v in os.environ.items() if v}}


def setting(name: str, default: str | None = None) -> str | None:
    """One variable's effective value (environment, else ``./.env``, else ``default``)."""
    return environment().get(name, default)
