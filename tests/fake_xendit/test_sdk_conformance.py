"""The official ``xendit-python`` SDK pointed at the fake: every answer must deserialize into its models.

The SDK validates each response against its OpenAPI models (required fields,
enums, date-times), so these tests pin that the fake's bodies are ones a real
Xendit client accepts, not merely ones our own tests expect.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pytest
import xendit
from xendit.apis import InvoiceApi
from xendit.invoice.model.create_invoice_request import CreateInvoiceRequest
from xendit.invoice.model.invoice import Invoice
from xendit.invoice.model.invoice_item import InvoiceItem

if TYPE_CHECKING:
    from conftest import RunningFake

SECRET = "xnd_development_test_secret"  # the key conftest's fake_factory configures
Factory = Callable[..., "RunningFake"]


def sdk(fake: RunningFake, key: str = SECRET) -> InvoiceApi:
    configuration = xendit.Configuration(host=fake.url, api_key=key)
    return InvoiceApi(xendit.ApiClient(configuration=configuration))


def request(**extra: Any) -> CreateInvoiceRequest:
    return CreateInvoiceRequest(external_id=extra.pop("external_id", "pay-1"), amount=25000.0, **extra)


def test_sdk_creates_an_invoice_and_deserializes_every_required_field(fake_factory: Factory) -> None:
    fake = fake_factory()
    invoice = sdk(fake).create_invoice(create_invoice_request=request())
    assert isinstance(invoice, Invoice)
    assert str(invoice.status) == "PENDING"
    assert invoice.amount == 25000.0
    assert isinstance(invoice.expiry_date, datetime) and isinstance(invoice.created, datetime)
    assert str(invoice.available_banks[0].bank_code) == "BCA"
    assert invoice.invoice_url == f"{fake.url}/web/invoices/{invoice.id}"


def test_sdk_round_trips_every_optional_create_field(fake_factory: Factory) -> None:
    invoice = sdk(fake_factory()).create_invoice(
        create_invoice_request=request(
            payer_email="budi@example.com",
            description="Curhat 30 menit",
            invoice_duration=600.0,
            success_redirect_url="https://merchant.example/ok",
            failure_redirect_url="https://merchant.example/ko",
            currency="IDR",
            items=[InvoiceItem(name="Sesi curhat", price=25000.0, quantity=1.0)],
            metadata={"product": "chat"},
        )
    )
    assert (invoice.payer_email, invoice.description) == ("budi@example.com", "Curhat 30 menit")
    assert str(invoice.currency) == "IDR"
    assert invoice.items[0].name == "Sesi curhat"
    assert invoice.metadata == {"product": "chat"}
    assert (invoice.expiry_date - invoice.created).total_seconds() == 600


def test_sdk_gets_lists_and_expires(fake_factory: Factory) -> None:
    api = sdk(fake_factory())
    created = api.create_invoice(create_invoice_request=request(external_id="pay-42"))
    api.create_invoice(create_invoice_request=request(external_id="other"))
    assert api.get_invoice_by_id(invoice_id=created.id).id == created.id
    listed = api.get_invoices(external_id="pay-42")
    assert [i.id for i in listed] == [created.id]
    expired = api.expire_invoice(invoice_id=created.id)
    assert str(expired.status) == "EXPIRED"
    assert [i.id for i in api.get_invoices(statuses=["EXPIRED"])] == [created.id]


def test_sdk_deserializes_a_paid_and_a_settled_invoice_with_their_payment_fields(fake_factory: Factory) -> None:
    fake = fake_factory()
    api = sdk(fake)
    created = api.create_invoice(create_invoice_request=request())
    fake.backend.pay_invoice(created.id, "BANK_TRANSFER", bank_code="BRI")
    paid = api.get_invoice_by_id(invoice_id=created.id)
    assert str(paid.status) == "PAID"
    assert str(paid.payment_method) == "BANK_TRANSFER"
    fake.backend.settle_invoice(created.id)
    assert str(api.get_invoice_by_id(invoice_id=created.id).status) == "SETTLED"


def test_wrong_key_raises_the_sdks_error_with_invalid_api_key(fake_factory: Factory) -> None:
    with pytest.raises(xendit.XenditSdkException) as info:
        sdk(fake_factory(), key="xnd_development_wrong").create_invoice(create_invoice_request=request())
    assert (str(info.value.status), info.value.errorCode) == ("401", "INVALID_API_KEY")


def test_unknown_invoice_raises_the_sdks_error_with_invoice_not_found(fake_factory: Factory) -> None:
    with pytest.raises(xendit.XenditSdkException) as info:
        sdk(fake_factory()).get_invoice_by_id(invoice_id="000000000000000000000000")
    assert (str(info.value.status), info.value.errorCode) == ("404", "INVOICE_NOT_FOUND_ERROR")


def test_expiring_twice_raises_the_sdks_error_with_xendits_message(fake_factory: Factory) -> None:
    api = sdk(fake_factory())
    created = api.create_invoice(create_invoice_request=request())
    api.expire_invoice(invoice_id=created.id)
    with pytest.raises(xendit.XenditSdkException) as info:
        api.expire_invoice(invoice_id=created.id)
    assert info.value.errorCode == "INVOICE_NOT_FOUND_ERROR"
    assert "Could not find and update PENDING invoice" in info.value.errorMessage


def test_injected_server_error_reaches_the_sdk_as_server_error(fake_factory: Factory) -> None:
    fake = fake_factory()
    fake.backend.set_faults({"fail_api": {"count": 1}})
    api = sdk(fake)
    with pytest.raises(xendit.XenditSdkException) as info:
        api.create_invoice(create_invoice_request=request())
    assert (str(info.value.status), info.value.errorCode) == ("500", "SERVER_ERROR")
    assert str(api.create_invoice(create_invoice_request=request()).status) == "PENDING"
