"""The default target of a load run: a ``halo-sim serve`` of this checkout, started as its own process.

The server must not share the generator's process: Locust's gevent would patch it, and the two
would compete for one core's worth of Python.  It runs on the wall clock with the login rate
limits lifted (hundreds of customers log in from one address), and stops when the run ends.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from simkit.errors import TargetError

STARTUP_S = 30.0
BACKEND_LINE = re.compile(r"backend\s+(http://\S+)")
LIFTED = {"HALO_ANON_LOGIN_LIMIT": "1000000000", "HALO_OTP_REQUEST_LIMIT": "1000000000"}


class ServeProcess:
    """A running ``halo-sim serve --port 0``; ``url`` is its backend."""

    def __init__(self) -> None:
        self.log = Path(tempfile.mkstemp(prefix="halo-load-serve-", suffix=".log")[1])
        command = [sys.executable, "-c", "from halo_sim.cli.app import main; main()", "serve", "--port", "0"]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **LIFTED})
        self.url = self._await_url()

    def _await_url(self) -> str:
        deadline = time.monotonic() + STARTUP_S
        while time.monotonic() < deadline:
            found = BACKEND_LINE.search(self.log.read_text(errors="replace"))
            if found:
                return found.group(1)
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise TargetError(f"halo-sim serve did not start: {self.log.read_text(errors='replace')[-300:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.unlink(missing_ok=True)

    @property
    def pid(self) -> int:
        return self.proc.pid
