"""The Node SDK tests skip where Node is missing on a developer's machine, and fail in CI."""

from __future__ import annotations

from pathlib import Path

import pytest

CONFTEST = Path(__file__).resolve().parent / "conftest.py"
USES_NODE = "def test_sdk(node_sdk):\n    node_sdk('fcm.mjs', [])\n"


def run(pytester: pytest.Pytester) -> pytest.RunResult:
    """The real tests/conftest.py in a project without tests/node/node_modules."""
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makepyfile(test_uses_node=USES_NODE)
    return pytester.runpytest_inprocess("-rsf", "-p", "no:xdist", "-p", "no:cacheprovider")


def test_without_node_outside_ci_it_skips_saying_so(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("PATH", str(pytester.path))
    result = run(pytester)
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*node is not installed (apt-get install -y nodejs npm)*"])


def test_without_node_modules_outside_ci_it_skips_naming_npm_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("PATH", str(pytester.path))
    (pytester.path / "node").write_text("#!/bin/sh\n")
    (pytester.path / "node").chmod(0o755)
    result = run(pytester)
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*tests/node/node_modules is missing (run: npm ci --prefix tests/node)*"])


def test_without_node_in_ci_it_fails(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "1")
    monkeypatch.setenv("PATH", str(pytester.path))
    result = run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*Node SDK tests cannot run in CI: node is not installed*"])
