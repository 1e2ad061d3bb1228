"""``halo-sim serve``: the reference backend and fake FCM for apps, Maestro and manual testing.

Settings: flags > the environment > ``./.env`` > defaults (``Settings.from_env``); the
stack only decides how its own servers are wired (FCM and Xendit URLs, Xendit on).
Binding a non-loopback host with the test hooks on and no test token is refused
(exit 2): the hooks would let anyone on the network reset or read everything.

The fakes listen at ``--port`` + 1 and + 2 unless told otherwise, so the URLs a backend's
``.env`` or an app's build carries stay valid across restarts.  ``--public-url`` is the
address clients use (``http://10.0.2.2:8080`` from the Android emulator): invoice URLs and
every printed URL use its host, while the servers still bind ``--host``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console


def serve(
    host: Annotated[
        str, typer.Option(help="Interface to bind; 0.0.0.0 lets a phone or emulator reach it.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Backend port (0 = any free port).")] = 8080,
    fcm_port: Annotated[
        int | None, typer.Option(help="Fake FCM port; default --port + 1 (8081); 0 = any free port.")
    ] = None,
    xendit_port: Annotated[
        int | None,
        typer.Option(
            help="Fake Xendit port; default --port + 2 (8082); 0 = any free port (after a restore, the saved run's)."
        ),
    ] = None,
    public_url: Annotated[
        str | None,
        typer.Option(
            help="How clients reach the backend, e.g. http://10.0.2.2:8080 from the Android emulator or "
            "http://192.168.1.20:8080 from a phone; invoice URLs and printed URLs use its host."
        ),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed for ids and faker data (never secrets); default HALO_SEED or 0.")
    ] = None,
    virtual_clock: Annotated[bool, typer.Option(help="Run time only when /internal/_test/clock is advanced.")] = False,
    speed: Annotated[float, typer.Option(help="With the system clock: run time this many times faster.")] = 1.0,
    test_token: Annotated[
        str | None,
        typer.Option(
            help="Require this x-test-token on /internal/_test/* (default HALO_TEST_TOKEN; unset: loopback only)."
        ),
    ] = None,
    state_file: Annotated[
        Path | None, typer.Option(help="Save the state here on stop and restore it on start.")
    ] = None,
    checkpoint_interval: Annotated[
        float | None,
        typer.Option(
            help="With --state-file: also save every this many seconds while serving (0 = only on stop); "
            "default HALO_CHECKPOINT_INTERVAL_S or 30.",
        ),
    ] = None,
) -> None:
    """Serve the reference backend, fake FCM and fake Xendit until Ctrl-C or SIGTERM; prints their URLs."""
    import logging
    import signal
    import sys
    import threading

    from rich.console import Console

    from halo_sim.backend.persistence import StateFileError
    from halo_sim.cli.startup import check_start
    from halo_sim.stack import Stack, StackOptions
    from simkit.clock import SystemClock, VirtualClock

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    fcm_port, xendit_port = _beside(port, fcm_port, 1), _beside(port, xendit_port, 2)
    _refuse_a_bad_public_url(public_url)
    ports = {"--port": port, "--fcm-port": fcm_port, "--xendit-port": xendit_port}
    check_start(host, ports)  # one line, exit 2, if a port is taken
    console = Console()
    _refuse_an_open_test_surface(host, seed, test_token)
    clock = VirtualClock() if virtual_clock else SystemClock(speed)
    options = StackOptions(
        host=host,
        backend_port=port,
        fcm_port=fcm_port,
        xendit_port=xendit_port,
        env=None,
        seed=seed,
        test_token=test_token,
        state_file=state_file,
        checkpoint_interval_s=checkpoint_interval,
        public_url=public_url,
    )
    try:
        stack = Stack(clock, options)
    except StateFileError as exc:
        print(f"halo-sim serve: {exc}", file=sys.stderr)
        raise typer.Exit(2) from None
    _print_settings(console, stack)
    _print_urls(console, stack)
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


def _beside(port: int, given: int | None, offset: int) -> int:
    """A fake's port: as given, else next to the backend's (any free port when the backend takes any)."""
    if given is not None:
        return given
    return port + offset if port else 0


def _refuse_a_bad_public_url(url: str | None) -> None:
    from halo_sim.stack import check_public_url

    problem = check_public_url(url) if url else None
    if problem is not None:
        from rich.console import Console

        Console(stderr=True).print(f"[red]halo-sim serve: --public-url {problem}[/]", highlight=False, soft_wrap=True)
        raise typer.Exit(2)


def _print_urls(console: Console, stack: Any) -> None:
    """Where clients go, the callback token fake Xendit signs with, and where the test hooks are.

    A generated token is printed (it exists only in this process, and a backend or
    ``halo-sim xendit fire-webhook`` elsewhere needs it); a configured one is the user's own.
    """
    urls = stack.urls()
    for name, url in urls.items():
        console.print(f"[bold]{name:>10}[/]  {url}", highlight=False)
    token = (
        f"{stack.xendit_callback_token}  (random per start; set XENDIT_CALLBACK_TOKEN to fix it)"
        if "xendit_callback_token" in stack.generated_secrets
        else "as configured in XENDIT_CALLBACK_TOKEN"
    )
    console.print(f"[bold]{'callback':>10}[/]  x-callback-token {token}", highlight=False, soft_wrap=True)
    console.print(
        f"[bold]{'control':>10}[/]  {urls['backend']}/control   (control center, in a browser)", highlight=False
    )
    console.print(
        f"[dim]{'discovery':>10}  {urls['backend']}/internal/_test/discovery   (what --target URL reads)[/]",
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        f"[dim]{'test hooks':>10}  {urls['backend']}/internal/_test/state   (Ctrl-C to stop)[/]",
        highlight=False,
        soft_wrap=True,
    )


def _refuse_an_open_test_surface(host: str, seed: int | None, test_token: str | None) -> None:
    """Exit 2 with a one-line reason when ``host`` would expose the test hooks without a token."""
    from halo_sim.backend.config import Settings

    problem = Settings.from_env(seed=seed, test_token=test_token).exposure_problem(host)
    if problem is not None:
        from rich.console import Console

        Console(stderr=True).print(f"[red]halo-sim serve: {problem}[/]", highlight=False, soft_wrap=True)
        raise typer.Exit(2)


def _print_settings(console: Console, stack: Any) -> None:
    """The effective settings, secrets as set/unset: what this run really uses, whatever the files said."""
    pairs = [f"{name}={value}" for name, value in stack.backend.settings.effective().items()]
    console.print(f"[dim]{'settings':>10}  {'  '.join(pairs)}[/]", highlight=False, soft_wrap=True)
