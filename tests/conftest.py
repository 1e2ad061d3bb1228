"""Shared fixtures: the repository's folders, and pytester for the plugin tests."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def scenarios_dir() -> Path:
    """The repository's scenarios/ folder."""
    return ROOT / "scenarios"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """Scenario files made for tests (broken and deliberately failing ones)."""
    return ROOT / "tests" / "scenario" / "data"
