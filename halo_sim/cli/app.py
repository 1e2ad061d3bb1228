"""The root ``halo-sim`` app; sub-apps and commands live in sibling modules.

Those modules import typer and the standard library only at the top; each command imports what
it needs when it runs (rich, the loader, the backend, uvicorn...), so ``halo-sim --help`` or
``halo-sim list`` does not pay for the servers.  ``tests/cli/test_entry_point.py`` keeps it so.
"""

from __future__ import annotations

from typing import Annotated

import typer

from halo_sim.cli import (
    analysis,
    authoring,
    extras,
    fake,
    load,
    report,
    scenario,
    serve,
    suite,
    target,
    teardown,
    xendit,
)
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
app.command("report")(report.report)
app.add_typer(fake.app, name="fake")
app.add_typer(xendit.app, name="xendit")
app.add_typer(target.app, name="target")
app.command("schema")(authoring.schema)
app.command("new")(authoring.new)
app.command("load")(load.load)


def main() -> None:
    """Console-script entry point: no unused extras (:mod:`.extras`), no interpreter teardown (:mod:`.teardown`)."""
    extras.skip_unused()
    try:
        app()
    except SystemExit as done:
        teardown.exit_now(done.code)
