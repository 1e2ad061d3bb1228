"""The root ``halo-sim`` app; sub-apps and commands live in sibling modules."""

from __future__ import annotations

from typing import Annotated

import typer

from halo_sim.cli import analysis, authoring, fake, scenario, serve, suite, target, xendit
from halo_sim.cli.failure import OneLineGroup, set_debug

app = typer.Typer(
    name="halo-sim",
    help="Test harness and simulator for the Halo chat backend.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=OneLineGroup,
)


@app.callback()
def root(
    debug: Annotated[
        bool, typer.Option("--debug", envvar="HALO_SIM_DEBUG", help="Show the traceback behind an error message.")
    ] = False,
) -> None:
    """Test harness and simulator for the Halo chat backend."""
    set_debug(debug)


app.command("scenario")(scenario.run)
app.command("list")(scenario.list_scenarios)
app.command("validate")(scenario.validate)
app.command("serve")(serve.serve)
app.command("suite")(suite.suite)
app.command("diff")(analysis.diff)
app.add_typer(fake.app, name="fake")
app.add_typer(xendit.app, name="xendit")
app.add_typer(target.app, name="target")
app.command("schema")(authoring.schema)
app.command("new")(authoring.new)


def main() -> None:
    """Console-script entry point."""
    app()
