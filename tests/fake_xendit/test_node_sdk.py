"""xendit-node (the client a real Halo backend uses), driven against fake Xendit.

The Node side is tests/node/xendit.mjs: the recipe of docs/fakes.md (``XENDIT_BASE_URL`` and
``XENDIT_SECRET_KEY`` from the environment, as in a backend's ``.env``) plus a driver that calls
the SDK's Invoice methods given on stdin.  The fake runs with its default key policy (any
test-mode key) unless a test says otherwise.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from conftest import Receiver, RunningFake

ROOT = Path(__file__).resolve().parents[2]
DOTENV_KEY = "xnd_development_O46JfOtygef9kMNsK+ZPGT+ZZ9b3ooF4w3Dn+R1k+2fT/7GlCAN3jg=="  # the shape Xendit issues
RECIPE_BEGIN, RECIPE_END = "// --- recipe: begin\n", "// --- recipe: end\n"
Factory = Callable[..., "RunningFake"]
Xendit = Callable[..., list[dict[str, Any]]]


@pytest.fixture
def xendit(node_sdk: Callable[..., Any]) -> Callable[..., Xendit]:
    """``xendit(fake)(*ops)`` runs the SDK calls against ``fake``; answers one result per op."""

    def against(fake: RunningFake, key: str = DOTENV_KEY) -> Xendit:
        def run(*ops: tuple[str, dict[str, Any]]) -> list[dict[str, Any]]:
            env = {"XENDIT_BASE_URL": fake.url, "XENDIT_SECRET_KEY": key}
            results: list[dict[str, Any]] = node_sdk("xendit.mjs", [{"op": o, "args": a} for o, a in ops], env=env)
            return results

        return run

    return against


def create(external_id: str = "pay-1", amount: int = 25_000, **data: Any) -> tuple[str, dict[str, Any]]:
    return "createInvoice", {"data": {"externalId": external_id, "amount": amount, **data}}


def invoice(result: dict[str, Any]) -> dict[str, Any]:
    assert result["ok"], result
    found: dict[str, Any] = result["result"]
    return found


def refusal(result: dict[str, Any]) -> tuple[int, str]:
    assert not result["ok"] and result["name"] == "XenditSdkError", result
    return result["status"], result["errorCode"]


def test_a_dotenv_test_key_creates_a_pending_invoice_with_a_checkout_url(fake_factory: Factory, xendit: Any) -> None:
    fake = fake_factory(secret_key=None)
    created = invoice(xendit(fake)(create(description="Chat with Sari", currency="IDR", invoiceDuration=900))[0])
    assert (created["status"], created["externalId"], created["amount"]) == ("PENDING", "pay-1", 25_000)
    assert created["invoiceUrl"] == f"{fake.url}/web/invoices/{created['id']}"
    stored = fake.backend.invoices[created["id"]]
    assert (stored.external_id, stored.description, stored.status) == ("pay-1", "Chat with Sari", "PENDING")


def test_an_invoice_paid_at_the_fake_reads_paid_through_the_sdk_and_calls_the_backend_back(
    fake_factory: Factory, receiver: Receiver, xendit: Any
) -> None:
    fake = fake_factory(receiver.callback_url, secret_key=None)
    sdk = xendit(fake)
    created = invoice(sdk(create())[0])
    with httpx.Client(base_url=fake.url, trust_env=False) as control:
        assert control.post(f"/_fake/invoices/{created['id']}/pay").status_code == 200
    fetched = invoice(sdk(("getInvoiceById", {"invoiceId": created["id"]}))[0])
    assert (fetched["status"], fetched["paymentMethod"]) == ("PAID", "BANK_TRANSFER")
    assert [(b["id"], b["status"], b["external_id"]) for b in receiver.bodies] == [(created["id"], "PAID", "pay-1")]


def test_expire_invoice_through_the_sdk_and_a_second_expire_is_invoice_not_found(
    fake_factory: Factory, xendit: Any
) -> None:
    fake = fake_factory(secret_key=None)
    sdk = xendit(fake)
    created = invoice(sdk(create())[0])
    first, second = sdk(
        ("expireInvoice", {"invoiceId": created["id"]}), ("expireInvoice", {"invoiceId": created["id"]})
    )
    assert invoice(first)["status"] == "EXPIRED" and fake.backend.invoices[created["id"]].status == "EXPIRED"
    assert refusal(second) == (404, "INVOICE_NOT_FOUND_ERROR")


def test_an_invoice_expired_by_its_timer_reads_expired_through_the_sdk(fake_factory: Factory, xendit: Any) -> None:
    fake = fake_factory(secret_key=None)
    sdk = xendit(fake)
    created = invoice(sdk(create(invoiceDuration=120))[0])
    asyncio.run(fake.backend.scheduler.advance(120))
    assert invoice(sdk(("getInvoiceById", {"invoiceId": created["id"]}))[0])["status"] == "EXPIRED"


def test_get_invoices_filters_by_external_id_statuses_and_limit(fake_factory: Factory, xendit: Any) -> None:
    fake = fake_factory(secret_key=None)
    sdk = xendit(fake)
    a, b, c = (invoice(r)["id"] for r in sdk(create("a"), create("b"), create("b")))
    fake.backend.pay_invoice(c)
    by_external, paid, limited = sdk(
        ("getInvoices", {"externalId": "b"}),
        ("getInvoices", {"statuses": ["PAID", "SETTLED"]}),
        ("getInvoices", {"limit": 2}),
    )
    assert sorted(i["id"] for i in invoice(by_external)) == sorted([b, c])
    assert [i["id"] for i in invoice(paid)] == [c]
    assert len(invoice(limited)) == 2 and a not in [i["id"] for i in invoice(limited)]  # newest first


def test_an_unknown_invoice_is_the_sdks_404_invoice_not_found_error(fake_factory: Factory, xendit: Any) -> None:
    [result] = xendit(fake_factory(secret_key=None))(("getInvoiceById", {"invoiceId": "65a1b2c3d4e5f6a7b8c9d0ff"}))
    assert refusal(result) == (404, "INVOICE_NOT_FOUND_ERROR")


def test_a_production_key_is_refused_401_invalid_api_key(fake_factory: Factory, xendit: Any) -> None:
    fake = fake_factory(secret_key=None)
    [result] = xendit(fake, key="xnd_production_5uHxL8dA0cKfP2RtVwYzQ3mN7bE")(create())
    assert refusal(result) == (401, "INVALID_API_KEY") and fake.backend.invoices == {}


def test_a_strict_fake_refuses_another_test_key(fake_factory: Factory, xendit: Any) -> None:
    fake = fake_factory(secret_key="xnd_development_the_only_one")
    refused, accepted = xendit(fake)(create()), xendit(fake, key="xnd_development_the_only_one")(create())
    assert refusal(refused[0]) == (401, "INVALID_API_KEY")
    assert invoice(accepted[0])["status"] == "PENDING" and len(fake.backend.invoices) == 1


def test_a_request_the_fake_finds_invalid_is_the_sdks_400_api_validation_error(
    fake_factory: Factory, xendit: Any
) -> None:
    [result] = xendit(fake_factory(secret_key=None))(create(amount=-5))
    assert refusal(result) == (400, "API_VALIDATION_ERROR")


def test_an_injected_server_error_reaches_the_sdk_as_500_server_error(fake_factory: Factory, xendit: Any) -> None:
    fake = fake_factory(secret_key=None)
    fake.backend.set_faults({"fail_api": {"count": 1, "error_code": "SERVER_ERROR"}})
    failed, retried = xendit(fake)(create(), create())
    assert refusal(failed) == (500, "SERVER_ERROR") and invoice(retried)["status"] == "PENDING"


def test_docs_show_the_xendit_recipe_exactly_as_the_tests_run_it() -> None:
    script = (ROOT / "tests" / "node" / "xendit.mjs").read_text()
    recipe = script.split(RECIPE_BEGIN, 1)[1].split(RECIPE_END, 1)[0]
    assert "process.env.XENDIT_BASE_URL" in recipe
    assert f"```js\n{recipe}```" in (ROOT / "docs" / "fakes.md").read_text()
