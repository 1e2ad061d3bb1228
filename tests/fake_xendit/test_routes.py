"""The HTTP surface, over a real server: Xendit's paths, auth and error shapes, checkout, control plane."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from fake_xendit import CallbackDispatcher, XenditBackend, create_app
from simkit.clock import VirtualClock
from simkit.scheduler import Scheduler
from simkit.server import ServerThread

if TYPE_CHECKING:
    from conftest import Receiver, RunningFake

SECRET = "xnd_development_test_secret"  # the key conftest's fake_factory configures
Factory = Callable[..., "RunningFake"]


def api(fake: RunningFake, key: str = SECRET) -> httpx.Client:
    return httpx.Client(base_url=fake.url, auth=(key, ""), trust_env=False)


def plain(fake: RunningFake) -> httpx.Client:
    return httpx.Client(base_url=fake.url, trust_env=False)


def create(client: httpx.Client, **body: Any) -> dict[str, Any]:
    response = client.post("/v2/invoices", json={"external_id": "pay-1", "amount": 25000, **body})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


# --- auth and error shapes -------------------------------------------------------------------------


@pytest.mark.parametrize("auth", [None, ("wrong-key", ""), (SECRET, "not-empty")])
def test_missing_or_wrong_key_is_401_invalid_api_key(fake_factory: Factory, auth: tuple[str, str] | None) -> None:
    fake = fake_factory()
    with httpx.Client(base_url=fake.url, auth=auth, trust_env=False) as client:
        response = client.post("/v2/invoices", json={"external_id": "x", "amount": 1})
    assert response.status_code == 401
    assert response.json() == {"error_code": "INVALID_API_KEY", "message": "API key is invalid"}
    assert fake.backend.invoices == {}


def test_unknown_invoice_is_404_invoice_not_found_error(fake_factory: Factory) -> None:
    with api(fake_factory()) as client:
        response = client.get("/v2/invoices/000000000000000000000000")
    assert response.status_code == 404
    assert response.json()["error_code"] == "INVOICE_NOT_FOUND_ERROR"
    assert set(response.json()) == {"error_code", "message"}


def test_validation_failure_is_400_with_an_errors_list(fake_factory: Factory) -> None:
    with api(fake_factory()) as client:
        response = client.post("/v2/invoices", json={"external_id": "x"})
        malformed = client.post("/v2/invoices", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error_code"] == "API_VALIDATION_ERROR"
    assert response.json()["errors"][0]["path"] == ["amount"]
    assert (malformed.status_code, malformed.json()["error_code"]) == (400, "API_VALIDATION_ERROR")


# --- invoice API paths ----------------------------------------------------------------------------------


def test_create_works_with_and_without_the_trailing_slash_the_sdk_sends(fake_factory: Factory) -> None:
    fake = fake_factory()
    with api(fake) as client:
        plain_path = client.post("/v2/invoices", json={"external_id": "a", "amount": 1})
        slash_path = client.post("/v2/invoices/", json={"external_id": "b", "amount": 1})
    assert (plain_path.status_code, slash_path.status_code) == (200, 200)
    assert slash_path.json()["status"] == "PENDING"
    assert len(fake.backend.invoices) == 2


def test_invoice_url_follows_the_address_the_client_used(fake_factory: Factory) -> None:
    fake = fake_factory()
    with api(fake) as client:
        invoice = create(client)
    assert invoice["invoice_url"] == f"{fake.url}/web/invoices/{invoice['id']}"


def test_get_answers_the_created_invoice(fake_factory: Factory) -> None:
    with api(fake_factory()) as client:
        invoice = create(client)
        fetched = client.get(f"/v2/invoices/{invoice['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == invoice


def test_list_filters_by_external_id_and_statuses_in_every_spelling(fake_factory: Factory) -> None:
    fake = fake_factory()
    with api(fake) as client:
        a = create(client, external_id="a")
        b = create(client, external_id="b")
        fake.backend.pay_invoice(b["id"])
        by_external = client.get("/v2/invoices", params={"external_id": "a"}).json()
        repeated = client.get("/v2/invoices", params=[("statuses", "PAID"), ("statuses", "SETTLED")]).json()
        json_array = client.get("/v2/invoices", params={"statuses": '["PENDING"]'}).json()
        limited = client.get("/v2/invoices", params={"limit": "1"}).json()
        bad_limit = client.get("/v2/invoices", params={"limit": "lots"})
    assert [i["id"] for i in by_external] == [a["id"]]
    assert [i["id"] for i in repeated] == [b["id"]]
    assert [i["id"] for i in json_array] == [a["id"]]
    assert len(limited) == 1
    assert (bad_limit.status_code, bad_limit.json()["error_code"]) == (400, "API_VALIDATION_ERROR")


def test_expire_bang_path_expires_and_a_second_expire_is_404(fake_factory: Factory) -> None:
    with api(fake_factory()) as client:
        invoice = create(client)
        first = client.post(f"/invoices/{invoice['id']}/expire!")
        second = client.post(f"/invoices/{invoice['id']}/expire!")
        encoded = client.post(f"/invoices/{invoice['id']}/expire%21")
    assert (first.status_code, first.json()["status"]) == (200, "EXPIRED")
    assert (second.status_code, second.json()["error_code"]) == (404, "INVOICE_NOT_FOUND_ERROR")
    assert encoded.status_code == 404 and encoded.json()["error_code"] == "INVOICE_NOT_FOUND_ERROR"


def test_idempotency_header_answers_the_same_invoice_and_refuses_a_different_body(fake_factory: Factory) -> None:
    fake = fake_factory()
    with api(fake) as client:
        headers = {"X-IDEMPOTENCY-KEY": "retry-1"}
        first = client.post("/v2/invoices", json={"external_id": "a", "amount": 1}, headers=headers)
        again = client.post("/v2/invoices", json={"external_id": "a", "amount": 1}, headers=headers)
        other = client.post("/v2/invoices", json={"external_id": "a", "amount": 2}, headers=headers)
    assert first.json()["id"] == again.json()["id"]
    assert (other.status_code, other.json()["error_code"]) == (409, "IDEMPOTENCY_ERROR")
    assert len(fake.backend.invoices) == 1


def test_expiry_on_the_shared_virtual_clock_is_visible_over_http(fake_factory: Factory) -> None:
    fake = fake_factory()
    with api(fake) as client:
        invoice = create(client, invoice_duration=120)
        asyncio.run(fake.backend.scheduler.advance(120))
        assert client.get(f"/v2/invoices/{invoice['id']}").json()["status"] == "EXPIRED"


# --- control plane -------------------------------------------------------------------------------------------


def test_calls_are_recorded_but_the_control_plane_is_not(fake_factory: Factory) -> None:
    fake = fake_factory()
    with api(fake) as client:
        create(client)
        client.get("/_fake/state")
        calls = client.get("/_fake/calls").json()["calls"]
    assert [(c["method"], c["path"], c["status"]) for c in calls] == [("POST", "/v2/invoices", 200)]
    assert calls[0]["body"] == {"external_id": "pay-1", "amount": 25000}


def test_state_and_reset_over_http(fake_factory: Factory) -> None:
    fake = fake_factory()
    with api(fake) as client:
        invoice = create(client)
        state = client.get("/_fake/state").json()
        reset = client.post("/_fake/reset")
        after = client.get("/_fake/state").json()
    assert [i["id"] for i in state["invoices"]] == [invoice["id"]]
    assert reset.json() == {"reset": True}
    assert after["invoices"] == [] and after["callbacks"] == []


def test_fail_api_fault_answers_the_injected_error_then_serves_again(fake_factory: Factory) -> None:
    fake = fake_factory()
    with api(fake) as client:
        armed = client.post("/_fake/faults", json={"fail_api": {"count": 2, "error_code": "SERVER_ERROR"}})
        answers = [client.post("/v2/invoices", json={"external_id": "x", "amount": 1}) for _ in range(3)]
        cleared = client.delete("/_fake/faults").json()
    assert armed.json()["fail_api"]["count"] == 2
    assert [r.status_code for r in answers] == [500, 500, 200]
    assert answers[0].json()["error_code"] == "SERVER_ERROR"
    assert cleared["fail_api"] is None


def test_an_invalid_fault_spec_is_400_and_changes_nothing(fake_factory: Factory) -> None:
    fake = fake_factory()
    with plain(fake) as client:
        response = client.post("/_fake/faults", json={"delay_s": "soon"})
        faults = client.get("/_fake/faults").json()
    assert response.status_code == 400 and "delay_s" in response.json()["error"]
    assert faults["delay_s"] == 0


def test_fake_pay_answers_after_the_paid_callback_reached_the_receiver(
    fake_factory: Factory, receiver: Receiver
) -> None:
    fake = fake_factory(callback_url=receiver.callback_url)
    with api(fake) as client:
        invoice = create(client)
        paid = client.post(
            f"/_fake/invoices/{invoice['id']}/pay", json={"payment_method": "EWALLET", "payment_channel": "OVO"}
        )
    body = paid.json()
    assert paid.status_code == 200
    assert body["invoice"]["status"] == "PAID" and body["invoice"]["payment_channel"] == "OVO"
    assert [d["outcome"] for d in body["deliveries"]] == ["delivered"]
    assert [(b["id"], b["status"], b["payment_method"]) for b in receiver.bodies] == [
        (invoice["id"], "PAID", "EWALLET")
    ]
    assert receiver.posts[0].headers["x-callback-token"] == "test-callback-token"


def test_fake_pay_of_an_expired_invoice_is_409_and_sends_nothing(fake_factory: Factory, receiver: Receiver) -> None:
    fake = fake_factory(callback_url=receiver.callback_url)
    with api(fake) as client:
        invoice = create(client)
        client.post(f"/_fake/invoices/{invoice['id']}/expire")
        refused = client.post(f"/_fake/invoices/{invoice['id']}/pay")
        bad_body = client.post(f"/_fake/invoices/{invoice['id']}/pay", json={"method": "typo"})
    assert (refused.status_code, refused.json()["error_code"]) == (409, "INVOICE_NOT_PENDING")
    assert bad_body.status_code == 400 and "method:" in bad_body.json()["error"]
    assert [b["status"] for b in receiver.bodies] == ["EXPIRED"]


def test_fake_settle_sends_a_settled_callback(fake_factory: Factory, receiver: Receiver) -> None:
    fake = fake_factory(callback_url=receiver.callback_url)
    with api(fake) as client:
        invoice = create(client)
        client.post(f"/_fake/invoices/{invoice['id']}/pay")
        settled = client.post(f"/_fake/invoices/{invoice['id']}/settle")
    assert settled.json()["invoice"]["status"] == "SETTLED"
    assert [b["status"] for b in receiver.bodies] == ["PAID", "SETTLED"]


def test_config_sets_the_callback_url_and_token_at_runtime(fake_factory: Factory, receiver: Receiver) -> None:
    fake = fake_factory()
    with api(fake) as client:
        config = client.post("/_fake/config", json={"callback_url": receiver.callback_url, "callback_token": "rotated"})
        invalid = client.post("/_fake/config", json={"callback_url": 5})
        invoice = create(client)
        client.post(f"/_fake/invoices/{invoice['id']}/pay")
        shown = client.get("/_fake/config").json()
    assert config.json()["callback_url"] == receiver.callback_url
    assert invalid.status_code == 400 and "callback_url:" in invalid.json()["error"]
    assert shown["callback_token"] == "rotated"
    assert receiver.posts[0].headers["x-callback-token"] == "rotated"


def test_callbacks_log_and_flush_release_reordered_callbacks(fake_factory: Factory, receiver: Receiver) -> None:
    fake = fake_factory(callback_url=receiver.callback_url)
    with api(fake) as client:
        client.post("/_fake/faults", json={"reorder": True})
        first, second = create(client, external_id="a"), create(client, external_id="b")
        client.post(f"/_fake/invoices/{first['id']}/pay")
        client.post(f"/_fake/invoices/{second['id']}/expire")
        held = client.get("/_fake/callbacks").json()
        sent_before_flush = len(receiver.posts)
        flushed = client.post("/_fake/callbacks/flush").json()
    assert [h["invoice_id"] for h in held["held"]] == [first["id"], second["id"]]
    assert sent_before_flush == 0
    assert [b["status"] for b in receiver.bodies] == ["EXPIRED", "PAID"]
    assert flushed["held"] == [] and len(flushed["flushed"]) == 2
    assert [e["outcome"] for e in flushed["log"]] == ["held", "held", "delivered", "delivered"]
    assert set(flushed["log"][2]) >= {
        "callback_id",
        "invoice_id",
        "status",
        "url",
        "attempt",
        "response_status",
        "error",
        "at",
    }


# --- checkout page ------------------------------------------------------------------------------------------------


def test_checkout_page_is_mobile_friendly_and_shows_the_invoice(fake_factory: Factory) -> None:
    fake = fake_factory(merchant_name="Halo <Curhat>")
    with api(fake) as client:
        invoice = create(client, description="<script>alert(1)</script>")
        page = client.get(f"/web/invoices/{invoice['id']}")
    html = page.text
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "Rp 25.000" in html and "PENDING" in html
    assert "Halo &lt;Curhat&gt;" in html and "&lt;script&gt;" in html and "<script>" not in html
    assert (
        f'action="/web/invoices/{invoice["id"]}/pay"' in html
        and f'action="/web/invoices/{invoice["id"]}/expire"' in html
    )


def test_checkout_pay_redirects_303_to_the_page_which_shows_paid(fake_factory: Factory) -> None:
    fake = fake_factory()
    with api(fake) as client:
        invoice = create(client)
        paid = client.post(f"/web/invoices/{invoice['id']}/pay", data={"method": "BANK_TRANSFER:MANDIRI"})
        page = client.get(paid.headers["location"])
    assert paid.status_code == 303 and paid.headers["location"] == f"/web/invoices/{invoice['id']}"
    assert 'data-testid="final-status">PAID<' in page.text
    assert fake.backend.invoices[invoice["id"]].to_json()["bank_code"] == "MANDIRI"


def test_checkout_actions_redirect_to_the_invoice_redirect_urls(fake_factory: Factory) -> None:
    fake = fake_factory()
    with api(fake) as client:
        a = create(client, success_redirect_url="https://merchant.example/ok")
        b = create(client, failure_redirect_url="https://merchant.example/ko")
        paid = client.post(f"/web/invoices/{a['id']}/pay", data={"method": "QR_CODE:QRIS"})
        expired = client.post(f"/web/invoices/{b['id']}/expire")
        repeat = client.post(f"/web/invoices/{b['id']}/pay")
    assert (paid.status_code, paid.headers["location"]) == (303, "https://merchant.example/ok")
    assert (expired.status_code, expired.headers["location"]) == (303, "https://merchant.example/ko")
    assert (repeat.status_code, repeat.headers["location"]) == (303, f"/web/invoices/{b['id']}")
    assert fake.backend.invoices[b["id"]].status == "EXPIRED"


def test_checkout_page_of_an_unknown_invoice_is_a_404_page(fake_factory: Factory) -> None:
    with plain(fake_factory()) as client:
        page = client.get("/web/invoices/nope")
        action = client.post("/web/invoices/nope/pay")
    assert page.status_code == 404 and "Invoice not found" in page.text
    assert action.status_code == 404 and "Invoice not found" in action.text


# --- app wiring ----------------------------------------------------------------------------------------------------


def test_app_exposes_its_backend_and_dispatcher_and_refuses_a_mismatched_pair() -> None:
    backend = XenditBackend(Scheduler(VirtualClock()))
    dispatcher = CallbackDispatcher(backend)
    app = create_app(backend, dispatcher)
    assert app.state.backend is backend and app.state.dispatcher is dispatcher
    assert create_app(dispatcher=dispatcher).state.backend is backend
    other = CallbackDispatcher(XenditBackend(Scheduler(VirtualClock())))
    with pytest.raises(ValueError):
        create_app(backend, other)


def test_default_app_runs_on_the_wall_clock_with_the_default_key() -> None:
    with ServerThread(create_app(), name="default-xendit") as server:
        with httpx.Client(base_url=server.url, auth=("xnd_development_fake", ""), trust_env=False) as client:
            response = client.post("/v2/invoices", json={"external_id": "x", "amount": 1})
    assert response.status_code == 200 and response.json()["status"] == "PENDING"


def test_python_m_fake_xendit_serves_standalone_and_prints_its_url() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "fake_xendit", "--port", "0", "--secret-key", "sk_cli", "--merchant-name", "Halo CLI"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        match = re.search(r"(http://127\.0\.0\.1:\d+)", process.stdout.readline())
        assert match is not None
        with httpx.Client(base_url=match.group(1), auth=("sk_cli", ""), trust_env=False) as client:
            invoice = client.post("/v2/invoices", json={"external_id": "cli", "amount": 1000}).json()
            page = client.get(f"/web/invoices/{invoice['id']}").text
        assert invoice["merchant_name"] == "Halo CLI" and "Rp 1.000" in page
    finally:
        process.terminate()
        returncode = process.wait(timeout=10)
    assert returncode == 0
