"""``halo-sim load PROFILE``: a load profile run on Locust, against serve, a URL or a target profile.

Locust is imported only here, inside the command: importing it monkey-patches the process for
gevent, which the rest of the CLI (and pytest) must never get.  Exit 0: every SLO met and every
invariant held; 1: something broke; 2: a bad profile, an unknown target or no Locust.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from halo_sim.load.profile import LoadProfile
    from halo_sim.targets.base import Target


def load(
    profile: Annotated[str, typer.Argument(help="A profile file, or a name from load/ (smoke, default, chat-heavy).")],
    target: Annotated[
        str, typer.Option(help="'serve' (start a halo-sim serve; the default), a URL, or a name from halo-sim.yaml.")
    ] = "serve",
    users: Annotated[str | None, typer.Option(help="Override the users: CUSTOMERS,MITRAS, e.g. 50,20.")] = None,
    spawn_rate: Annotated[float | None, typer.Option(help="Override: users started per second.")] = None,
    duration: Annotated[float | None, typer.Option(help="Override: seconds of load.")] = None,
    web: Annotated[int | None, typer.Option(help="Serve Locust's web UI (live charts) on this port.")] = None,
    master: Annotated[bool, typer.Option("--master", help="Run as Locust master; workers generate the load.")] = False,
    worker: Annotated[bool, typer.Option("--worker", help="Run as a Locust worker of --master-host.")] = False,
    master_host: Annotated[str, typer.Option(help="Master: bind here; worker: the master.")] = "127.0.0.1",
    master_port: Annotated[int, typer.Option(help="The master's port.")] = 5557,
    expect_workers: Annotated[int, typer.Option(help="Master: wait for this many workers before starting.")] = 1,
    csv: Annotated[str | None, typer.Option(help="Write Locust's CSV files with this prefix.")] = None,
    html: Annotated[Path | None, typer.Option(help="Write Locust's HTML report here.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed the users' random choices (think times, accepts).")] = None,
) -> None:
    """Run a load profile on Locust; exit 1 when an SLO or an invariant breaks (a CI gate)."""
    import sys

    from halo_sim.cli.failure import Refused
    from halo_sim.load.profile import load_profile

    chosen, _ = load_profile(profile)
    chosen = _overridden(chosen, users, spawn_rate, duration)
    if master and worker:
        raise Refused("--master and --worker exclude each other")
    try:
        import locust  # noqa: F401  (patches for gevent, before any socket is made)
    except ImportError:
        raise Refused("Locust is not installed: pip install 'halo-sim[load]'") from None
    if seed is not None:
        import random

        random.seed(seed)
    sys.exit(_run(chosen, target, worker, master, master_host, master_port, expect_workers, csv, html, web))


def _overridden(
    profile: LoadProfile, users: str | None, spawn_rate: float | None, duration: float | None
) -> LoadProfile:
    """The profile with the command line's overrides, validated like the file."""
    from pydantic import ValidationError

    from halo_sim.cli.failure import Refused

    changes: dict[str, object] = {"spawn_rate": spawn_rate, "duration_s": duration}
    if users is not None:
        try:
            customers, mitras = (int(n) for n in users.split(","))
        except ValueError:
            raise Refused(f"--users {users!r}: expected CUSTOMERS,MITRAS, e.g. 50,20") from None
        changes["users"] = {"customer": customers, "mitra": mitras}
    try:
        given = {k: v for k, v in changes.items() if v is not None}
        return type(profile).model_validate({**profile.model_dump(), **given})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise Refused(f"override {'.'.join(map(str, first['loc']))}: {first['msg']}") from None


def _run(
    profile: LoadProfile,
    target_name: str,
    worker: bool,
    master: bool,
    master_host: str,
    master_port: int,
    expect_workers: int,
    csv: str | None,
    html: Path | None,
    web: int | None,
) -> int:
    from halo_sim.load.runner import Options, run

    role = "worker" if worker else "master" if master else "local"
    options = Options(role, master_host, master_port, expect_workers, csv, html, web)
    if worker:
        given = None if target_name == "serve" else _open(target_name)
        return run(profile, given, options)
    server = None
    if target_name == "serve":
        from halo_sim.load.serve import ServeProcess

        server = ServeProcess()
        target_name = server.url
        print(f"halo-sim serve started for the run: {server.url}")
    try:
        return run(profile, _open(target_name), options)
    finally:
        if server is not None:
            server.stop()


def _open(name: str) -> Target:
    from halo_sim.targets.resolve import open_target

    if name == "embedded":
        from halo_sim.cli.failure import Refused

        raise Refused("load runs on the wall clock: use --target serve (the default), a URL or a target profile")
    return open_target(name)
