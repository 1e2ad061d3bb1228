"""``halo-sim xendit fire-webhook|relay``: Xendit callbacks for a backend Xendit cannot reach.

Options not given on the command line come from the environment, then from a
``.env`` file in the current folder (the backend's own, usually): the token
from ``XENDIT_CALLBACK_TOKEN``, the backend from ``HALO_SIM_BACKEND_URL``, and for
the relay the Invoice API from ``XENDIT_BASE_URL`` and ``XENDIT_SECRET_KEY``.
"""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from halo_sim.relay import Delivery, Relay

EXIT_REFUSED = 1
EXIT_USAGE = 2
XENDIT_API = "https://api.xendit.co"

app = typer.Typer(
    help="Xendit callbacks for a local backend: fire one by hand, or relay them from Xendit.", no_args_is_help=True
)


class CallbackStatus(str, Enum):
    PAID = "PAID"
    SETTLED = "SETTLED"
    EXPIRED = "EXPIRED"


BackendUrl = Annotated[
    str | None,
    typer.Option(
        "--to",
        envvar="HALO_SIM_BACKEND_URL",
        show_envvar=True,
        help="Backend base URL, e.g. http://127.0.0.1:8080 (the webhook path is appended unless the URL ends with it).",
    ),
]
CallbackToken = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="XENDIT_CALLBACK_TOKEN",
        show_envvar=True,
        help="x-callback-token: the backend's XENDIT_CALLBACK_TOKEN.",
    ),
]
WebhookPath = Annotated[
    str | None, typer.Option("--path", help="Webhook path, if not /api/shared/payment/webhooks/xendit.")
]


def escape(text: str) -> str:
    """rich's markup escape, imported when something is printed (not by ``halo-sim --help``)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def read_dotenv(path: Path) -> dict[str, str]:
    """The variables of a .env file, parsed by python-dotenv (``export``, quotes, comments); {} if absent."""
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {key: value for key, value in dotenv_values(path).items() if value is not None}


class _Settings:
    """Option, else environment, else ./.env (read once, only when needed); empty counts as unset."""

    def __init__(self) -> None:
        self._dotenv: dict[str, str] | None = None

    def get(self, given: str | None, name: str) -> str | None:
        if given:
            return given
        if os.environ.get(name):
            return os.environ[name]
        if self._dotenv is None:
            self._dotenv = read_dotenv(Path.cwd() / ".env")
        return self._dotenv.get(name) or None

    def require(self, console: Console, given: str | None, name: str, option: str, what: str) -> str:
        value = self.get(given, name)
        if value is None:
            console.print(
                f"[red]no {what}: give {option}, or set {name} in the environment or in ./.env[/]", highlight=False
            )
            raise typer.Exit(EXIT_USAGE)
        return value


def _webhook_url(console: Console, to: str, path: str | None) -> str:
    from halo_sim.relay import BadWebhookUrl, webhook_url

    try:
        return webhook_url(to, path)
    except BadWebhookUrl as exc:
        console.print(f"[red]{escape(str(exc))}[/]", highlight=False)
        raise typer.Exit(EXIT_USAGE) from None


@app.command("fire-webhook")
def fire_webhook(
    external_id: Annotated[str, typer.Option("--external-id", help="The payment_request id (Xendit's external_id).")],
    to: BackendUrl = None,
    invoice_id: Annotated[
        str | None,
        typer.Option(
            "--invoice-id",
            help="Xendit invoice id (default: fake-<external id>; a backend that created a real "
            "invoice needs that invoice's id).",
        ),
    ] = None,
    status: Annotated[
        CallbackStatus, typer.Option(case_sensitive=False, help="Invoice status to report.")
    ] = CallbackStatus.PAID,
    amount: Annotated[int, typer.Option(min=1, help="Invoice amount (IDR).")] = 25000,
    token: CallbackToken = None,
    path: WebhookPath = None,
) -> None:
    """Send one Xendit invoice callback to a backend. Exit 0 on 2xx, 1 on another answer, 2 if not sent."""
    from rich.console import Console

    from halo_sim.relay import fire_webhook as fire

    console = Console(soft_wrap=True)  # one line per event, greppable; the terminal wraps
    settings = _Settings()
    url = _webhook_url(console, settings.require(console, to, "HALO_SIM_BACKEND_URL", "--to", "backend URL"), path)
    secret = settings.require(console, token, "XENDIT_CALLBACK_TOKEN", "--token", "callback token")
    delivery = fire(url, external_id, secret, invoice_id=invoice_id, status=status.value, amount=amount, path=path)
    _show_request(console, delivery)
    if not delivery.reached:
        console.print(
            f"[red]could not reach {escape(url)}: {escape(delivery.error or '')}[/]\n"
            "is the backend running there? check --to / HALO_SIM_BACKEND_URL",
            highlight=False,
        )
        raise typer.Exit(EXIT_USAGE)
    _show_answer(console, delivery)
    raise typer.Exit(0 if delivery.ok else EXIT_REFUSED)


def _show_request(console: Console, delivery: Delivery) -> None:
    from halo_sim.relay import mask_secret

    console.print(f"[bold]→ POST[/] {escape(delivery.url)}", highlight=False)
    for name, value in delivery.headers.items():
        shown = mask_secret(value) if name == "x-callback-token" else value
        console.print(f"  [dim]{name}:[/] {escape(shown)}", highlight=False)
    console.print_json(data=delivery.body)


def _show_answer(console: Console, delivery: Delivery) -> None:
    colour = "green" if delivery.ok else "red"
    console.print(f"[bold {colour}]← {delivery.status_code}[/]", highlight=False)
    if isinstance(delivery.answer, (dict, list)):
        console.print_json(data=delivery.answer)
    else:
        console.print(escape(str(delivery.answer)), highlight=False)
    answer = delivery.answer if isinstance(delivery.answer, dict) else {}
    if answer.get("reason") == "INVOICE_MISMATCH":
        console.print(
            "[yellow]the backend ignored it: the payment has a real invoice; pass --invoice-id "
            "<the payment's xendit_invoice_id>[/]",
            highlight=False,
        )


@app.command("relay")
def relay(
    to: BackendUrl = None,
    xendit_url: Annotated[
        str | None,
        typer.Option(
            "--xendit-url",
            envvar="XENDIT_BASE_URL",
            show_envvar=True,
            help=f"Xendit Invoice API base URL, test mode or fake Xendit (default {XENDIT_API}).",
        ),
    ] = None,
    secret_key: Annotated[
        str | None,
        typer.Option(
            "--secret-key",
            envvar="XENDIT_SECRET_KEY",
            show_envvar=True,
            help="Xendit secret key (Basic-auth username).",
        ),
    ] = None,
    token: CallbackToken = None,
    path: WebhookPath = None,
    interval: Annotated[float, typer.Option(min=0.1, help="Seconds between polls.")] = 5.0,
    once: Annotated[
        bool, typer.Option("--once", help="Poll once and exit (needs --replay to forward anything).")
    ] = False,
    replay: Annotated[
        bool,
        typer.Option(
            "--replay",
            help="Also forward invoices already PAID/SETTLED/EXPIRED at start (default: only later changes).",
        ),
    ] = False,
) -> None:
    """Poll Xendit for invoice status changes and forward each as a signed callback to a backend; Ctrl-C stops."""
    import asyncio

    from rich.console import Console

    console = Console(soft_wrap=True)  # one line per event, greppable; the terminal wraps
    if once and not replay:
        console.print(
            "[red]--once without --replay forwards nothing: the first poll only records what is "
            "already final. Add --replay, or drop --once to keep polling.[/]",
            highlight=False,
        )
        raise typer.Exit(EXIT_USAGE)
    settings = _Settings()
    url = _webhook_url(console, settings.require(console, to, "HALO_SIM_BACKEND_URL", "--to", "backend URL"), path)
    api = settings.get(xendit_url, "XENDIT_BASE_URL") or XENDIT_API
    key = settings.require(console, secret_key, "XENDIT_SECRET_KEY", "--secret-key", "Xendit secret key")
    secret = settings.require(console, token, "XENDIT_CALLBACK_TOKEN", "--token", "callback token")
    try:
        code = asyncio.run(_relay(console, url, path, api, key, secret, interval, once, replay))
    except KeyboardInterrupt:  # Ctrl-C before the loop installed its own handler
        code = 0
    raise typer.Exit(code)


async def _relay(
    console: Console,
    url: str,
    path: str | None,
    api: str,
    key: str,
    token: str,
    interval: float,
    once: bool,
    replay: bool,
) -> int:
    import httpx

    from halo_sim.backend.xendit import XenditClient
    from halo_sim.relay import Relay
    from simkit.errors import HaloSimError
    from simkit.tls import client_context

    xendit = XenditClient(api, key)
    try:
        async with httpx.AsyncClient(timeout=10.0, verify=client_context()) as http:
            relay = Relay(xendit, url, token, http, replay=replay, path=path)
            console.print(
                f"relaying {escape(api)} → {escape(relay.url)}"
                + ("" if once else f" every {interval:g} s (Ctrl-C to stop)"),
                highlight=False,
            )
            try:
                first = await relay.poll_once()
            except (HaloSimError, ValueError) as exc:  # refused, unreachable, or not an Invoice API answering
                console.print(
                    f"[red]could not list invoices at {escape(api)}: {escape(str(exc))}[/]\n"
                    "check --xendit-url / XENDIT_BASE_URL and --secret-key / XENDIT_SECRET_KEY",
                    highlight=False,
                )
                return EXIT_USAGE
            if not replay:
                console.print(
                    f"[dim]baseline: {relay.baseline} invoice status(es) already final, not forwarded "
                    "(--replay forwards them)[/]",
                    highlight=False,
                )
            _print_deliveries(console, first, retried=not once)
            if once:
                return _once_code(first)
            await _loop(console, relay, interval)
            return 0
    finally:
        await xendit.aclose()


async def _loop(console: Console, relay: Relay, interval: float) -> None:
    import asyncio
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or not Unix
            pass
    try:
        await relay.run(
            interval,
            stop,
            on_poll=lambda found: _print_deliveries(console, found, retried=True),
            on_error=lambda exc: console.print(
                f"[red]xendit: {escape(str(exc))} (next poll in {interval:g} s)[/]", highlight=False
            ),
        )
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        console.print("stopped")


def _print_deliveries(console: Console, deliveries: list[Delivery], retried: bool) -> None:
    for d in deliveries:
        mark = "[green]✓[/]" if d.ok else "[red]✗[/]"
        retry = "  [dim](sent again next poll)[/]" if retried and not d.ok else ""
        console.print(
            f"{mark} {escape(d.invoice_id)}  {escape(d.external_id)}  {d.status} → {escape(d.outcome())}{retry}",
            highlight=False,
        )


def _once_code(deliveries: list[Delivery]) -> int:
    if any(not d.reached for d in deliveries):
        return EXIT_USAGE
    return 0 if all(d.ok for d in deliveries) else EXIT_REFUSED
