"""The console script's process never imports httpx's CLI or the HTTP/2 stack, and httpx still works."""

from __future__ import annotations

import subprocess
import sys

PROBE = (
    "import sys\n{skip}\nimport httpx, httpcore\n"
    "httpx.Client().close(); httpcore.AsyncConnectionPool()\n"
    "print(' '.join(sorted(m for m, v in sys.modules.items() if v and (m.split('.')[0] in ('h2', 'pygments', 'click') "
    "or m == 'httpx._main'))))"
)


def _extras_imported(skip: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", PROBE.format(skip=skip)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_httpx_and_httpcore_import_and_build_clients_without_their_unused_extras() -> None:
    assert "httpx._main" in _extras_imported("")  # installed here, so the skip has something to skip
    assert _extras_imported("from halo_sim.cli.extras import skip_unused; skip_unused()") == set()
