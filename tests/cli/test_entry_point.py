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


HEAVY = ("uvicorn", "starlette", "faker", "httpx", "websockets", "pydantic", "rich", "yaml", "asyncio", "jinja2")
SERVERS = ("uvicorn", "starlette", "faker", "halo_sim.backend", "halo_sim.stack", "fake_fcm", "fake_xendit")


def _imported(code: str, *args: str, cwd: Path | None = None) -> set[str]:
    """Every module a fresh interpreter imports running ``code`` (``python -X importtime``)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code, *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    lines = [line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")]
    return set(lines)


def _under(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in packages or m.startswith(packages))


def test_the_root_module_imports_typer_and_the_commands_only() -> None:
    modules = _imported("import halo_sim.cli.app")
    assert "halo_sim.cli.scenario" in modules  # the measurement works
    assert _under(modules, (*HEAVY, *SERVERS, "halo_sim.scenario", "halo_sim.targets")) == []


def test_list_loads_scenarios_without_the_backend_the_fakes_or_faker(scenarios_dir: Path) -> None:
    modules = _imported("from halo_sim.cli.app import main; main()", "list", cwd=scenarios_dir.parent)
    assert "halo_sim.scenario.loader" in modules
    assert _under(modules, SERVERS) == []
