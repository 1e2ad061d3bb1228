"""``halo-sim serve``: the reference backend and fake FCM for apps, Maestro and manual testing."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console


def serve(
    host: Annotated[
        str, typer.Option(help="Interface to bind; 0.0.0.0 lets a phone or emulator reach it.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Backend port (0 = any free port).")] = 8080,
    fcm_port: Annotated[int, typer.Option(help="Fake FCM port (0 = any free port).")] = 0,
    xendit_port: Annotated[
        int, typer.Option(help="Fake Xendit port (0 = any free port; after a restore, the saved run's port).")
    ] = 0,
    seed: Annotated[int, typer.Option(help="Seed for ids and codes.")] = 0,
    virtual_clock: Annotated[bool, typer.Option(help="Run time only when /internal/_test/clock is advanced.")] = False,
    speed: Annotated[float, typer.Option(help="With the system clock: run time this many times faster.")] = 1.0,
    test_token: Annotated[
        str | None, typer.Option(envvar="HALO_TEST_TOKEN", help="Require this x-test-token on /internal/_test/*.")
    ] = None,
    state_file: Annotated[
        Path | None, typer.Option(help="Save the state here on stop and restore it on start.")
    ] = None,
    checkpoint_interval: Annotated[
        float,
        typer.Option(
            envvar="HALO_CHECKPOINT_INTERVAL_S",
            help="With --state-file: also save every this many seconds while serving (0 = only on stop).",
        ),
    ] = 30.0,
) -> None:
    """Serve the reference backend, fake FCM and fake Xendit until Ctrl-C or SIGTERM; prints their URLs."""
    from halo_sim.backend.persistence import StateFileError
    from halo_sim.stack import Stack, StackOptions
    from simkit.clock import SystemClock, VirtualClock

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    console = Console()
    clock = VirtualClock() if virtual_clock else SystemClock(speed)
    options = StackOptions(
        host=host,
        backend_port=port,
        fcm_port=fcm_port,
        xendit_port=xendit_port,
        env="dev",
        seed=seed,
        test_token=test_token,
        state_file=state_file,
        checkpoint_interval_s=checkpoint_interval,
    )
    try:
        stack = Stack(clock, options)
    except StateFileError as exc:
        print(f"halo-sim serve: {exc}", file=sys.stderr)
        raise typer.Exit(2) from None
    for name, url in stack.urls().items():
        console.print(f"[bold]{name:>10}[/]  {url}")
    console.print(f"[dim]{'test hooks':>10}  {stack.backend_server.url}/internal/_test/state   (Ctrl-C to stop)[/]")
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())  # a supervisor's stop: same clean drain as Ctrl-C
    try:
        stopping.wait()
    except KeyboardInterrupt:
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the save short; the stop is bounded
    console.print("stopping: closing sockets (1001) and streams, then saving" if state_file else "stopping")
    try:
        stack.stop()
    except StateFileError as exc:
        print(f"halo-sim serve: the state was NOT saved: {exc}", file=sys.stderr)
        raise typer.Exit(1) from None
    console.print(f"stopped; state saved to {state_file}" if state_file else "stopped")
