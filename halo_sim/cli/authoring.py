"""``halo-sim schema`` and ``halo-sim new``: writing scenarios with an editor's help."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

EXIT_USAGE = 2


def schema(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Write the schema to this file instead of printing it (e.g. .halo-sim/scenario.schema.json).",
        ),
    ] = None,
) -> None:
    """Print the JSON Schema of the scenario format, for YAML completion and checking in editors.

    VS Code with the YAML extension (redhat.vscode-yaml): halo-sim schema --out .halo-sim/scenario.schema.json

    then make a scenario's first line: # yaml-language-server: $schema=../.halo-sim/scenario.schema.json

    (files made by halo-sim new already start so), or map every scenario in settings.json:
    "yaml.schemas": {"./.halo-sim/scenario.schema.json": "scenarios/*.yaml"}
    """
    import json

    from rich.console import Console
    from rich.markup import escape

    from halo_sim.scenario.scaffold import json_schema

    text = json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
    if out is None:
        typer.echo(text, nl=False)
        return
    console = Console()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        console.print(f"[red]cannot write {escape(str(out))}: {escape(exc.strerror or str(exc))}[/]", highlight=False)
        raise typer.Exit(EXIT_USAGE) from None
    console.print(
        f"[green]✓[/] wrote {escape(str(out))}\n[dim]point a scenario at it with a first line "
        f"'# yaml-language-server: $schema=<path to it>'[/]",
        highlight=False,
    )


def new(
    name: Annotated[
        str, typer.Argument(help="The scenario id, the file name without .yaml: lowercase letters, digits, - and _.")
    ],
    folder: Annotated[Path, typer.Option("--dir", help="Folder to create it in.")] = Path("scenarios"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file of that name.")] = False,
) -> None:
    """Create a scenario file from a passing template (payment, offer, accept, match, one message).

    Exit 0 when written, 2 for a bad name or an existing file (without --force).
    """
    from rich.console import Console
    from rich.markup import escape

    from halo_sim.scenario.loader import load_scenario
    from halo_sim.scenario.scaffold import SCHEMA_FILE, render, valid_id
    from simkit.errors import ScenarioFileError

    console = Console()
    if not valid_id(name):
        console.print(
            f"[red]{escape(repr(name))} is not a scenario id: lowercase letters, digits, '-' and '_', "
            "starting with a letter or digit (it becomes the file name)[/]",
            highlight=False,
        )
        raise typer.Exit(EXIT_USAGE)
    path = folder / f"{name}.yaml"
    other = folder / f"{name}.yml"
    if other.exists():
        console.print(
            f"[red]{escape(str(other))} already has the id {escape(name)}; choose another name[/]", highlight=False
        )
        raise typer.Exit(EXIT_USAGE)
    if path.exists() and not force:
        console.print(f"[red]{escape(str(path))} exists; --force overwrites it[/]", highlight=False)
        raise typer.Exit(EXIT_USAGE)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(render(name, path.as_posix()), encoding="utf-8")
        load_scenario(path)  # the template is meant to load; say so loudly if it ever does not
    except OSError as exc:
        console.print(f"[red]cannot write {escape(str(path))}: {escape(exc.strerror or str(exc))}[/]", highlight=False)
        raise typer.Exit(EXIT_USAGE) from None
    except ScenarioFileError as exc:
        console.print(f"[red]the template does not load (a halo-sim bug): {escape(str(exc))}[/]", highlight=False)
        raise typer.Exit(1) from None
    console.print(
        f"[green]✓[/] created {escape(str(path))}\n"
        f"  run it:      halo-sim scenario {escape(path.as_posix())}\n"
        f"  completion:  halo-sim schema --out {escape((folder.parent / SCHEMA_FILE).as_posix())}  "
        "[dim](its first line points there)[/]",
        highlight=False,
    )
