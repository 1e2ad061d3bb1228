"""The console script ends as ``sys.exit`` would, minus the interpreter's teardown."""

from __future__ import annotations

import subprocess
import sys


def _exit_now(body: str) -> subprocess.CompletedProcess[str]:
    code = f"from halo_sim.cli.teardown import exit_now\n{body}"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


TORN_DOWN = "class Torn:\n    def __del__(self):\n        print('torn down')\nkept = Torn()\n"


def test_atexit_handlers_run_output_is_flushed_the_status_kept_and_teardown_skipped() -> None:
    done = _exit_now(f"{TORN_DOWN}import atexit\natexit.register(print, 'atexit ran')\nprint('buffered')\nexit_now(3)")
    assert done.returncode == 3
    assert done.stdout == "buffered\natexit ran\n"  # a pipe is block-buffered: lost without the flush


def test_the_normal_exit_tears_down_which_the_test_above_relies_on() -> None:
    done = _exit_now(f"{TORN_DOWN}import sys\nsys.exit(3)")
    assert done.returncode == 3 and "torn down" in done.stdout


def test_a_message_goes_to_stderr_with_status_1() -> None:
    done = _exit_now("exit_now('no scenarios/ folder')")
    assert (done.returncode, done.stderr) == (1, "no scenarios/ folder\n")


def test_a_live_thread_that_is_no_daemon_gets_the_interpreters_own_exit() -> None:
    thread = "import threading, time\nthreading.Thread(target=lambda: (time.sleep(0.3), print('joined'))).start()\n"
    done = _exit_now(f"{thread}exit_now(0)")
    assert (done.returncode, done.stdout) == (0, "joined\n")
