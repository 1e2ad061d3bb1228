"""``halo-sim serve``: the reference backend and fake FCM for apps, Maestro and manual testing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def serve(
    host: Annotated[
        str, typer.Option(help="Interface to bind; 0.0.0.0 lets a phone or emulator reach it.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Backend port (0 = any free port).")] = 8080,
    fcm_port: Annotated[int, typer.Option(help="Fake FCM port (0 = any free port).")] = 0,
    seed: Annotated[int, typer.Option(help="Seed for ids and codes.")] = 0,
    virtual_clock: Annotated[bool, typer.Option(help="Run time only when /internal/_test/clock is advanced.")] = False,
    speed: Annotated[float, typer.Option(help="With the system clock: run time this many times faster.")] = 1.0,
    test_token: Annotated[
        str | None, typer.Option(envvar="HALO_TEST_TOKEN", help="Require this x-test-token on /internal/_test/*.")
    ] = None,
    state_file: Annotated[
        Path | None, typer.Option(help="Save the state here on stop and restore it on start.")
    ] = None,
) -> None:
    """Serve the reference backend, fake FCM and fake Xendit until Ctrl-C or SIGTERM; prints their URLs."""
    import signal
    import threading

    from rich.console import Console

    from halo_sim.stack import Stack, StackOptions
    from simkit.clock import SystemClock, VirtualClock

    console = Console()
    clock = VirtualClock() if virtual_clock else SystemClock(speed)
    stack = Stack(
        clock,
        StackOptions(
            host=host,
            backend_port=port,
            fcm_port=fcm_port,
            env="dev",
            seed=seed,
            test_token=test_token,
            state_file=state_file,
        ),
    )
    for name, url in stack.urls().items():
        console.print(f"[bold]{name:>10}[/]  {url}")
    console.print(f"[dim]{'test hooks':>10}  {stack.backend_server.url}/internal/_test/state   (Ctrl-C to stop)[/]")
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())  # a supervisor's stop: same clean drain as Ctrl-C
    try:
        stopping.wait()
    except KeyboardInterrupt:
        pass
    finally:
        console.print("stopping: sockets closed with 1001, servers drained")
        stack.stop()
