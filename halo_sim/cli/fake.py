"""``halo-sim fake fcm|xendit``: one fake alone, for a backend that is not ours (the Node backend)."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(help="Run one fake service alone.", no_args_is_help=True)


@app.command("fcm")
def fcm(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 9099,
    project: Annotated[
        str | None,
        typer.Option(
            help="Only accept this project id (others: SENDER_ID_MISMATCH); default FCM_PROJECT_ID, else any."
        ),
    ] = None,
    bearer: Annotated[
        str | None, typer.Option(help="Only accept this OAuth bearer token; default FCM_ACCESS_TOKEN, else any.")
    ] = None,
) -> None:
    """Fake FCM HTTP v1; point the backend's FCM base URL at it. Inbox at /_fake/inbox."""
    import uvicorn
    from rich.console import Console

    from fake_fcm import FcmBackend, create_app
    from simkit.envfile import setting

    project, bearer = project or setting("FCM_PROJECT_ID"), bearer or setting("FCM_ACCESS_TOKEN")
    Console().print(
        f"fake FCM on http://{host}:{port}  (send: /v1/projects/<project>/messages:send, inbox: /_fake/inbox)"
    )
    uvicorn.run(
        create_app(FcmBackend(project_id=project, expected_bearer=bearer)), host=host, port=port, log_level="warning"
    )


@app.command("xendit")
def xendit(
    host: Annotated[str, typer.Option(help="Interface to bind (0.0.0.0 for an emulator's browser).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind (0 = any free port).")] = 9098,
    secret_key: Annotated[
        str | None,
        typer.Option(help="Accept only this API key (default XENDIT_SECRET_KEY; unset: any test-mode key)."),
    ] = None,
    callback_url: Annotated[
        str | None, typer.Option(help="Where invoice callbacks are POSTed (your backend's webhook).")
    ] = None,
    callback_token: Annotated[
        str | None,
        typer.Option(help="Sent as x-callback-token; default XENDIT_CALLBACK_TOKEN, else random (printed)."),
    ] = None,
    speed: Annotated[float, typer.Option(help="Clock speed factor for invoice expiry and callback retries.")] = 1.0,
) -> None:
    """Fake Xendit Invoice API with a checkout page; point XENDIT_BASE_URL of any backend at it."""
    from fake_xendit.__main__ import main

    raise typer.Exit(
        main(
            [
                "--host",
                host,
                "--port",
                str(port),
                *(["--secret-key", secret_key] if secret_key else []),
                *(["--callback-token", callback_token] if callback_token else []),
                "--speed",
                str(speed),
                *(["--callback-url", callback_url] if callback_url else []),
                *(["--secret-key", secret_key] if secret_key else []),
            ]
        )
    )
