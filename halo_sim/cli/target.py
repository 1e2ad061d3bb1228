"""``halo-sim target check``: what a target really supports, before any scenario runs against it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.table import Table

    from halo_sim.targets.probe import Check

EXIT_MISSING = 1
EXIT_USAGE = 2

app = typer.Typer(
    help="Targets: where scenarios run (embedded, a URL, or a name from halo-sim.yaml).", no_args_is_help=True
)


@app.command("check")
def check(
    name: Annotated[str, typer.Argument(help="'embedded', a base URL, or a target named in the targets file.")],
    targets: Annotated[
        Path | None, typer.Option("--targets", help="Targets file (default: halo-sim.yaml here or in a folder above).")
    ] = None,
) -> None:
    """Probe a target: base URL, WebSocket, and each capability, declared or not.

    Exit 0 when every declared capability answers, 1 when one is missing, 2 for an unknown target.
    """
    import asyncio

    from rich.console import Console
    from rich.markup import escape

    from halo_sim.targets.probe import BASICS, probe
    from halo_sim.targets.resolve import open_target
    from simkit.errors import HaloSimError

    console = Console()
    try:
        target = open_target(name, targets)
    except HaloSimError as exc:
        console.print(f"[red]{escape(str(exc))}[/]", highlight=False)
        raise typer.Exit(EXIT_USAGE) from None
    try:
        checks = asyncio.run(probe(target))
    finally:
        target.close()
    console.print(_table(target.name, checks))
    missing = [c.name for c in checks if c.missing]
    if missing:
        unreachable = [n for n in missing if n in BASICS]
        advice = (
            f"is it running at {target.base_url}?"
            if unreachable
            else "fix the target, or drop them from its capabilities in the targets file"
        )
        console.print(f"[bold red]missing:[/] {', '.join(missing)} — {escape(advice)}", highlight=False)
        raise typer.Exit(EXIT_MISSING)
    extra = [c.name for c in checks if c.ok and not c.declared]
    hint = f" [dim](also answering, not declared: {', '.join(extra)})[/]" if extra else ""
    console.print(f"[bold green]OK[/] every declared capability answers{hint}", highlight=False)


@app.command("init")
def init(
    name: Annotated[str, typer.Argument(help="The target's name, e.g. staging.")],
    url: Annotated[str, typer.Option("--url", help="Its backend's base URL, e.g. https://staging.halo.example.")],
    targets: Annotated[Path, typer.Option("--targets", help="Targets file to create or add to.")] = Path(
        "halo-sim.yaml"
    ),
    force: Annotated[bool, typer.Option("--force", help="Replace a profile of that name.")] = False,
) -> None:
    """Write a commented profile for NAME into the targets file (created if missing).

    Every setting a target can have is in it, commented with what it enables; secrets are
    read from environment variables the profile names. Exit 2 if NAME exists (without --force).
    """
    from rich.console import Console
    from rich.markup import escape

    from halo_sim.targets.template import add_profile
    from simkit.errors import HaloSimError

    console = Console()
    try:
        done = add_profile(targets, name, url, force)
    except HaloSimError as exc:
        Console(stderr=True).print(f"[red]{escape(str(exc))}[/]", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None
    console.print(f"{done} target {escape(name)!r} in {targets}", highlight=False)
    console.print(
        f"next: uncomment what it has (docs/targets.md), then `halo-sim target check {escape(name)}`",
        highlight=False,
        soft_wrap=True,
    )


def _table(name: str, checks: list[Check]) -> Table:
    from rich.markup import escape
    from rich.table import Table

    from halo_sim.targets.probe import BASICS

    table = Table("check", "declared", "answers", "detail", title=f"target {escape(name)}")
    for c in checks:
        declared = "required" if c.name in BASICS else ("yes" if c.declared else "[dim]no[/]")
        if c.ok:
            answers = "[green]✓ yes[/]"
        else:
            answers = "[red]✗ missing[/]" if c.declared else "[dim]no[/]"
        table.add_row(c.name, declared, answers, escape(c.detail))
    return table
