"""One smoke test of the installed ``halo-sim`` console script, as a user runs it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path


def _halo_sim() -> list[str]:
    installed = Path(sys.executable).with_name("halo-sim")
    return [str(installed)] if installed.exists() else [shutil.which("halo-sim") or "halo-sim"]


def test_installed_command_runs_a_scenario_end_to_end(scenarios_dir: Path) -> None:
    done = subprocess.run(
        [*_halo_sim(), "scenario", "01_smoke"], cwd=scenarios_dir.parent, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASSED 01_smoke" in done.stdout
