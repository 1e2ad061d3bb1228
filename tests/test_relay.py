"""The Xendit relay and fire_webhook against a real Stack: fake Xendit lists, the reference backend answers.

Fake Xendit's own callbacks are switched off for the module, so whatever reaches
the backend's webhook came through the relay.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from halo_sim.backend.xendit import XenditClient
from halo_sim.relay import WEBHOOK_PATH, BadWebhookUrl, Delivery, Relay, fire_webhook, mask_secret, webhook_url
from halo_sim.stack import Stack, StackOptions

XENDIT_SECRET_KEY = "xnd_development_halo_sim"  # this module's stack is configured with them, like a .env would
XENDIT_CALLBACK_TOKEN = "halo-sim-callback-token"

# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    running = Stack(
        options=StackOptions(xendit_secret_key=XENDIT_SECRET_KEY, xendit_callback_token=XENDIT_CALLBACK_TOKEN)
    )
    try:
        xendit = running.urls()["fake_xendit"]
        httpx.post(f"{xendit}/_fake/config", json={"callback_url": None}).raise_for_status()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def urls(stack: Stack) -> dict[str, str]:
    return stack.urls()


@pytest.fixture(scope="module")
def api(urls: dict[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=urls["backend"], timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def xendit(urls: dict[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=urls["fake_xendit"], timeout=10) as client:
        yield client


@pytest.fixture(autouse=True)
def fresh(api: httpx.Client, xendit: httpx.Client) -> None:
    """No invoices, payments or customers from an earlier test (fake Xendit keeps its config)."""
    xendit.post("/_fake/reset").raise_for_status()
    api.post("/internal/_test/reset", json={}).raise_for_status()


class Relays:
    """Makes relays on one event loop and polls them from a synchronous test."""

    def __init__(self, urls: dict[str, str]) -> None:
        self.urls = urls
        self.runner = asyncio.Runner()
        self.closers: list[Any] = []

    def new(self, token: str = XENDIT_CALLBACK_TOKEN, replay: bool = False, to: str | None = None) -> Relay:
        client = XenditClient(self.urls["fake_xendit"], XENDIT_SECRET_KEY)
        http = httpx.AsyncClient(timeout=10)
        self.closers += [client.aclose, http.aclose]
        return Relay(client, to or self.urls["backend"], token, http, replay=replay)

    def poll(self, relay: Relay) -> list[Delivery]:
        return self.runner.run(relay.poll_once())

    def close(self) -> None:
        for close in self.closers:
            self.runner.run(close())
        self.runner.close()


@pytest.fixture
def relays(urls: dict[str, str]) -> Iterator[Relays]:
    made = Relays(urls)
    try:
        yield made
    finally:
        made.close()


# --- helpers ---------------------------------------------------------------------------------


def customer_payment(api: httpx.Client, phone: str = "+6281234500001") -> tuple[str, dict[str, Any]]:
    """OTP login and a 30-minute payment; returns (customer token, payment with its Xendit invoice)."""
    assert api.post("/api/customer/auth/otp/request", json={"phone": phone}).status_code == 200
    code = api.get("/internal/_test/otp", params={"phone": phone}).json()["code"]
    verified = api.post("/api/customer/auth/otp/verify", json={"phone": phone, "code": code})
    assert verified.status_code == 200, verified.text
    token = verified.json()["token"]
    created = api.post("/api/customer/payments", json={"duration_minutes": 30}, headers=bearer(token))
    assert created.status_code == 201, created.text
    payment = created.json()
    assert payment["xendit_invoice_id"], payment
    return token, payment


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def payment_status(api: httpx.Client, token: str, payment_id: str) -> str:
    response = api.get(f"/api/customer/payments/{payment_id}", headers=bearer(token))
    assert response.status_code == 200, response.text
    return str(response.json()["status"])


def at_fake(xendit: httpx.Client, action: str, invoice_id: str) -> None:
    response = xendit.post(f"/_fake/invoices/{invoice_id}/{action}")
    assert response.status_code == 200, response.text
    # the fake's own callbacks are off: only the relay delivers
    assert [d["outcome"] for d in response.json()["deliveries"]] in ([], ["skipped"])


def summary(deliveries: list[Delivery]) -> list[tuple[str, str, str, int | None, Any]]:
    return [
        (
            d.invoice_id,
            d.external_id,
            d.status,
            d.status_code,
            d.answer.get("result") if isinstance(d.answer, dict) else d.answer,
        )
        for d in deliveries
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- webhook URL ------------------------------------------------------------------------------


def test_webhook_url_appends_the_webhook_path_to_a_base_url() -> None:
    assert webhook_url("http://127.0.0.1:8080/") == "http://127.0.0.1:8080" + WEBHOOK_PATH


def test_webhook_url_keeps_a_url_that_already_ends_with_the_path() -> None:
    assert webhook_url("http://h:1" + WEBHOOK_PATH) == "http://h:1" + WEBHOOK_PATH


def test_webhook_url_uses_a_given_path_instead() -> None:
    assert webhook_url("http://h:1", "hooks/xendit/") == "http://h:1/hooks/xendit"


@pytest.mark.parametrize("bad", ["127.0.0.1:8080", "ftp://h/x", "http://", ""])
def test_webhook_url_refuses_what_is_not_an_http_url(bad: str) -> None:
    with pytest.raises(BadWebhookUrl):
        webhook_url(bad)


def test_a_secret_is_masked_but_its_last_four_characters() -> None:
    assert mask_secret(XENDIT_CALLBACK_TOKEN) == "****oken"
    assert mask_secret("short") == "****"


# --- fire_webhook -------------------------------------------------------------------------------


def test_fire_webhook_with_the_invoice_id_confirms_the_payment(api: httpx.Client, urls: dict[str, str]) -> None:
    token, payment = customer_payment(api)
    sent = fire_webhook(urls["backend"], payment["id"], XENDIT_CALLBACK_TOKEN, invoice_id=payment["xendit_invoice_id"])
    assert sent.ok and sent.answer["result"] == "confirmed", sent
    assert sent.body["status"] == "PAID" and sent.body["amount"] == 25000 and sent.body["paid_amount"] == 25000
    assert payment_status(api, token, payment["id"]) == "confirmed"


def test_fire_webhook_defaults_to_a_fake_invoice_id_which_a_backend_with_real_invoices_ignores(
    api: httpx.Client, urls: dict[str, str]
) -> None:
    token, payment = customer_payment(api)
    sent = fire_webhook(urls["backend"], payment["id"], XENDIT_CALLBACK_TOKEN)
    assert sent.body["id"] == f"fake-{payment['id']}"
    assert sent.status_code == 200 and sent.answer["reason"] == "INVOICE_MISMATCH"
    assert payment_status(api, token, payment["id"]) == "pending"


def test_fire_webhook_to_a_closed_port_is_a_delivery_not_reached() -> None:
    sent = fire_webhook(f"http://127.0.0.1:{free_port()}", "pay-1", "t")
    assert not sent.reached and not sent.ok and sent.error


# --- the relay -----------------------------------------------------------------------------------


def test_first_poll_records_invoices_already_final_without_forwarding_them(
    api: httpx.Client, xendit: httpx.Client, relays: Relays
) -> None:
    token, payment = customer_payment(api)
    at_fake(xendit, "pay", payment["xendit_invoice_id"])
    relay = relays.new()
    assert relays.poll(relay) == []
    assert relay.baseline == 1
    assert relays.poll(relay) == []
    assert payment_status(api, token, payment["id"]) == "pending"


def test_an_invoice_paid_after_the_baseline_is_forwarded_once_and_confirms_the_payment(
    api: httpx.Client, xendit: httpx.Client, relays: Relays
) -> None:
    token, payment = customer_payment(api)
    relay = relays.new()
    assert relays.poll(relay) == []
    at_fake(xendit, "pay", payment["xendit_invoice_id"])
    forwarded = relays.poll(relay)
    assert summary(forwarded) == [(payment["xendit_invoice_id"], payment["id"], "PAID", 200, "confirmed")]
    assert forwarded[0].headers["x-callback-token"] == XENDIT_CALLBACK_TOKEN
    assert payment_status(api, token, payment["id"]) == "confirmed"
    assert relays.poll(relay) == []


def test_the_forwarded_callback_carries_the_invoice_facts(
    api: httpx.Client, xendit: httpx.Client, relays: Relays
) -> None:
    _, payment = customer_payment(api)
    relay = relays.new()
    relays.poll(relay)
    at_fake(xendit, "pay", payment["xendit_invoice_id"])
    [forwarded] = relays.poll(relay)
    invoice = xendit.get(f"/v2/invoices/{payment['xendit_invoice_id']}", auth=(XENDIT_SECRET_KEY, "")).json()
    for key in ("id", "external_id", "status", "amount", "description", "updated", "merchant_name", "payment_method"):
        assert forwarded.body[key] == invoice[key], key


def test_an_expired_invoice_is_forwarded_and_expires_the_payment(
    api: httpx.Client, xendit: httpx.Client, relays: Relays
) -> None:
    token, payment = customer_payment(api)
    relay = relays.new()
    relays.poll(relay)
    at_fake(xendit, "expire", payment["xendit_invoice_id"])
    assert summary(relays.poll(relay)) == [(payment["xendit_invoice_id"], payment["id"], "EXPIRED", 200, "expired")]
    assert payment_status(api, token, payment["id"]) == "expired"


def test_settled_after_paid_is_a_second_callback_the_backend_answers_duplicate(
    api: httpx.Client, xendit: httpx.Client, relays: Relays
) -> None:
    _, payment = customer_payment(api)
    relay = relays.new()
    relays.poll(relay)
    at_fake(xendit, "pay", payment["xendit_invoice_id"])
    assert [d.answer["result"] for d in relays.poll(relay)] == ["confirmed"]
    at_fake(xendit, "settle", payment["xendit_invoice_id"])
    assert summary(relays.poll(relay)) == [(payment["xendit_invoice_id"], payment["id"], "SETTLED", 200, "duplicate")]


def test_a_fresh_replay_relay_forwards_what_is_already_final_once_and_the_backend_answers_duplicate(
    api: httpx.Client, xendit: httpx.Client, relays: Relays
) -> None:
    token, payment = customer_payment(api)
    at_fake(xendit, "pay", payment["xendit_invoice_id"])
    first = relays.new(replay=True)
    assert [d.answer["result"] for d in relays.poll(first)] == ["confirmed"]
    again = relays.new(replay=True)
    assert summary(relays.poll(again)) == [(payment["xendit_invoice_id"], payment["id"], "PAID", 200, "duplicate")]
    assert relays.poll(again) == []
    assert payment_status(api, token, payment["id"]) == "confirmed"


def test_replay_forwards_older_invoices_first(api: httpx.Client, xendit: httpx.Client, relays: Relays) -> None:
    _, older = customer_payment(api, "+6281234500001")
    _, newer = customer_payment(api, "+6281234500002")
    at_fake(xendit, "pay", newer["xendit_invoice_id"])
    at_fake(xendit, "pay", older["xendit_invoice_id"])
    assert [d.external_id for d in relays.poll(relays.new(replay=True))] == [older["id"], newer["id"]]


def test_a_callback_refused_with_401_is_reported_and_sent_again_on_the_next_poll(
    api: httpx.Client, xendit: httpx.Client, relays: Relays
) -> None:
    token, payment = customer_payment(api)
    relay = relays.new(token="not-the-token")
    relays.poll(relay)
    at_fake(xendit, "pay", payment["xendit_invoice_id"])
    refused = relays.poll(relay)
    assert [(d.status_code, d.ok, d.answer["error"]) for d in refused] == [(401, False, "INVALID_CALLBACK_TOKEN")]
    assert refused[0].outcome() == "401 INVALID_CALLBACK_TOKEN"
    assert [d.outcome() for d in relays.poll(relay)] == ["401 INVALID_CALLBACK_TOKEN"]
    assert payment_status(api, token, payment["id"]) == "pending"
    relay.callback_token = XENDIT_CALLBACK_TOKEN
    assert [d.outcome() for d in relays.poll(relay)] == ["200 confirmed"]
    assert relays.poll(relay) == []


def test_an_unreachable_backend_is_reported_and_the_callback_sent_again_on_the_next_poll(
    api: httpx.Client, xendit: httpx.Client, relays: Relays
) -> None:
    _, payment = customer_payment(api)
    at_fake(xendit, "pay", payment["xendit_invoice_id"])
    relay = relays.new(replay=True, to=f"http://127.0.0.1:{free_port()}")
    for _ in range(2):
        [missed] = relays.poll(relay)
        assert not missed.reached and missed.outcome().startswith("not reached: ")


def test_run_polls_at_once_then_until_stopped(api: httpx.Client, xendit: httpx.Client, relays: Relays) -> None:
    _, payment = customer_payment(api)
    at_fake(xendit, "pay", payment["xendit_invoice_id"])
    relay = relays.new(replay=True)
    polls: list[list[Delivery]] = []

    async def run_until_first_poll() -> None:
        stop = asyncio.Event()

        def seen(found: list[Delivery]) -> None:
            polls.append(found)
            stop.set()

        await relay.run(60, stop, on_poll=seen)

    relays.runner.run(run_until_first_poll())
    assert [summary(found) for found in polls] == [
        [(payment["xendit_invoice_id"], payment["id"], "PAID", 200, "confirmed")]
    ]


def test_run_hands_a_failed_listing_to_on_error_and_keeps_going(relays: Relays) -> None:
    relay = relays.new()
    wrong_key = XenditClient(relays.urls["fake_xendit"], "wrong-key")
    relays.closers.append(wrong_key.aclose)
    relay.xendit = wrong_key
    errors: list[Exception] = []

    async def run_until_two_errors() -> None:
        stop = asyncio.Event()

        def failed(exc: Exception) -> None:
            errors.append(exc)
            if len(errors) == 2:
                stop.set()

        await relay.run(0.01, stop, on_error=failed)

    relays.runner.run(run_until_two_errors())
    assert ["INVALID_API_KEY" in str(e) for e in errors] == [True, True]
