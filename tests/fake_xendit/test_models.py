"""The pure model: Xendit's rules on a virtual clock, no HTTP."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest

from fake_xendit.errors import XenditError
from fake_xendit.models import XenditBackend
from simkit.clock import VirtualClock, isoformat
from simkit.scheduler import Scheduler
from simkit.xendit_wire import EXPIRED_CALLBACK_FIELDS, PAID_CALLBACK_FIELDS

SDK_REQUIRED_FIELDS = {
    "id",
    "external_id",
    "user_id",
    "status",
    "merchant_name",
    "merchant_profile_picture_url",
    "amount",
    "expiry_date",
    "invoice_url",
    "available_banks",
    "available_retail_outlets",
    "available_ewallets",
    "available_qr_codes",
    "available_direct_debits",
    "available_paylaters",
    "should_send_email",
    "created",
    "updated",
}


def make_backend(**kwargs: Any) -> XenditBackend:
    return XenditBackend(Scheduler(VirtualClock()), **kwargs)


def basic(username: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def refusal(call: Any) -> XenditError:
    with pytest.raises(XenditError) as info:
        call()
    return info.value


# --- create ---------------------------------------------------------------------------------


def test_create_answers_pending_invoice_with_every_field_the_sdk_requires() -> None:
    backend = make_backend()
    body = backend.create_invoice({"external_id": "pay-1", "amount": 25000}).to_json()
    assert SDK_REQUIRED_FIELDS <= body.keys()
    assert body["status"] == "PENDING"
    assert body["external_id"] == "pay-1"
    assert body["amount"] == 25000


def test_create_defaults_to_idr_and_one_day_expiry_stamped_on_the_clock() -> None:
    backend = make_backend()
    now = backend.now()
    body = backend.create_invoice({"external_id": "pay-1", "amount": 25000}).to_json()
    assert body["currency"] == "IDR"
    assert body["created"] == body["updated"] == isoformat(now)
    assert body["expiry_date"] == isoformat(now + 86400)
    assert body["expiry_date"].endswith("Z")


def test_create_keeps_optional_fields_and_honours_invoice_duration() -> None:
    backend = make_backend()
    request = {
        "external_id": "pay-2",
        "amount": 50000,
        "payer_email": "budi@example.com",
        "description": "Curhat 30 menit",
        "invoice_duration": 600,
        "success_redirect_url": "https://ok",
        "failure_redirect_url": "https://ko",
        "currency": "idr",
        "items": [{"name": "Sesi", "price": 50000, "quantity": 1}],
        "metadata": {"product": "chat"},
        "customer": {"given_names": "Budi"},
    }
    body = backend.create_invoice(request).to_json()
    for key in (
        "payer_email",
        "description",
        "success_redirect_url",
        "failure_redirect_url",
        "items",
        "metadata",
        "customer",
    ):
        assert body[key] == request[key]
    assert body["currency"] == "IDR"
    assert body["expiry_date"] == isoformat(backend.now() + 600)


def test_invoice_url_points_at_the_checkout_page_of_the_configured_base_url() -> None:
    backend = make_backend(base_url="http://10.0.2.2:9000/")
    invoice = backend.create_invoice({"external_id": "pay-1", "amount": 1000})
    assert invoice.invoice_url == f"http://10.0.2.2:9000/web/invoices/{invoice.id}"


def test_ids_are_distinct_24_hex_chars_identical_across_runs() -> None:
    def run() -> list[str]:
        backend = make_backend()
        return [backend.create_invoice({"external_id": f"x{i}", "amount": 1}).id for i in range(3)]

    ids = run()
    assert run() == ids
    assert len(set(ids)) == 3
    assert all(len(i) == 24 and set(i) <= set("0123456789abcdef") for i in ids)


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"amount": 1000}, "external_id"),
        ({"external_id": 42, "amount": 1000}, "external_id"),
        ({"external_id": "", "amount": 1000}, "external_id"),
        ({"external_id": "x"}, "amount"),
        ({"external_id": "x", "amount": "1000"}, "amount"),
        ({"external_id": "x", "amount": True}, "amount"),
        ({"external_id": "x", "amount": 0}, "amount"),
        ({"external_id": "x", "amount": -5}, "amount"),
        ({"external_id": "x", "amount": 1, "invoice_duration": 0}, "invoice_duration"),
        ({"external_id": "x", "amount": 1, "payer_email": "not-an-email"}, "payer_email"),
        ({"external_id": "x", "amount": 1, "items": [{"name": "no price"}]}, "items.0"),
        ({"external_id": "x", "amount": 1, "metadata": "flat"}, "metadata"),
    ],
)
def test_create_refuses_invalid_body_with_api_validation_error_naming_the_field(
    body: dict[str, Any], path: str
) -> None:
    error = refusal(lambda: make_backend().create_invoice(body))
    assert (error.status, error.error_code) == (400, "API_VALIDATION_ERROR")
    assert error.errors is not None and [path] in [e["path"] for e in error.errors]
    assert error.to_body()["message"] == error.errors[0]["message"]


def test_create_refuses_a_body_that_is_not_an_object() -> None:
    error = refusal(lambda: make_backend().create_invoice(["external_id"]))
    assert error.error_code == "API_VALIDATION_ERROR"


def test_create_refuses_a_currency_xendit_does_not_support() -> None:
    error = refusal(lambda: make_backend().create_invoice({"external_id": "x", "amount": 1, "currency": "EUR"}))
    assert (error.status, error.error_code) == (400, "UNSUPPORTED_CURRENCY")


def test_refused_create_changes_nothing() -> None:
    backend = make_backend()
    refusal(lambda: backend.create_invoice({"external_id": "x"}))
    assert backend.invoices == {}
    assert backend.scheduler.pending() == []


# --- idempotency and external ids ---------------------------------------------------------


def test_same_idempotency_key_and_body_answers_the_first_invoice() -> None:
    backend = make_backend()
    body = {"external_id": "pay-1", "amount": 1000}
    first = backend.create_invoice(body, idempotency_key="k1")
    again = backend.create_invoice(dict(body), idempotency_key="k1")
    assert again.id == first.id
    assert len(backend.invoices) == 1


def test_reused_idempotency_key_with_a_different_body_is_refused_with_409() -> None:
    backend = make_backend()
    backend.create_invoice({"external_id": "pay-1", "amount": 1000}, idempotency_key="k1")
    error = refusal(lambda: backend.create_invoice({"external_id": "pay-1", "amount": 2000}, idempotency_key="k1"))
    assert (error.status, error.error_code) == (409, "IDEMPOTENCY_ERROR")
    assert len(backend.invoices) == 1


def test_refused_create_does_not_consume_its_idempotency_key() -> None:
    backend = make_backend()
    refusal(lambda: backend.create_invoice({"external_id": "pay-1"}, idempotency_key="k1"))
    invoice = backend.create_invoice({"external_id": "pay-1", "amount": 1}, idempotency_key="k1")
    assert invoice.status == "PENDING"


def test_external_id_need_not_be_unique() -> None:
    backend = make_backend()
    a = backend.create_invoice({"external_id": "same", "amount": 1})
    b = backend.create_invoice({"external_id": "same", "amount": 1})
    assert a.id != b.id
    assert [i.id for i in backend.list_invoices(external_id="same")] == [b.id, a.id]


# --- get and list -----------------------------------------------------------------------------


def test_get_unknown_invoice_is_invoice_not_found_error() -> None:
    error = refusal(lambda: make_backend().get_invoice("nope"))
    assert (error.status, error.error_code) == (404, "INVOICE_NOT_FOUND_ERROR")


def test_list_filters_by_external_id_and_statuses_newest_first_and_honours_limit() -> None:
    backend = make_backend()
    clock = backend.scheduler.clock
    assert isinstance(clock, VirtualClock)
    ids = []
    for n in range(4):
        ids.append(backend.create_invoice({"external_id": "a" if n < 3 else "b", "amount": 1}).id)
        clock.advance(1)
    backend.pay_invoice(ids[0])
    assert [i.id for i in backend.list_invoices()] == ids[::-1]
    assert [i.id for i in backend.list_invoices(external_id="a")] == ids[2::-1]
    assert [i.id for i in backend.list_invoices(statuses=["paid"])] == [ids[0]]
    assert [i.id for i in backend.list_invoices(statuses=["PENDING", "PAID"], limit=2)] == [ids[3], ids[2]]


def test_list_defaults_to_ten_invoices() -> None:
    backend = make_backend()
    for n in range(12):
        backend.create_invoice({"external_id": f"x{n}", "amount": 1})
    assert len(backend.list_invoices()) == 10


@pytest.mark.parametrize("kwargs", [{"limit": 0}, {"limit": 101}, {"statuses": ["UNPAID"]}])
def test_list_refuses_bad_limit_or_unknown_status(kwargs: dict[str, Any]) -> None:
    error = refusal(lambda: make_backend().list_invoices(**kwargs))
    assert error.error_code == "API_VALIDATION_ERROR"


# --- expire -----------------------------------------------------------------------------------


def test_expire_turns_pending_to_expired_now_and_queues_expired_callback() -> None:
    backend = make_backend()
    invoice = backend.create_invoice({"external_id": "pay-1", "amount": 1000})
    backend.expire_invoice(invoice.id)
    assert invoice.status == "EXPIRED"
    assert invoice.expiry_date == backend.now()
    assert [(cb.invoice_id, cb.status) for cb in backend.outbox] == [(invoice.id, "EXPIRED")]
    assert backend.scheduler.pending() == []


@pytest.mark.parametrize("first", ["expire", "pay"])
def test_expire_of_an_invoice_no_longer_pending_is_xendits_404(first: str) -> None:
    backend = make_backend()
    invoice = backend.create_invoice({"external_id": "pay-1", "amount": 1000})
    backend.expire_invoice(invoice.id) if first == "expire" else backend.pay_invoice(invoice.id)
    error = refusal(lambda: backend.expire_invoice(invoice.id))
    assert (error.status, error.error_code) == (404, "INVOICE_NOT_FOUND_ERROR")
    assert "Could not find and update PENDING invoice" in error.message
    assert len(backend.outbox) == 1


# --- pay and settle -----------------------------------------------------------------------------


def test_pay_records_the_payment_and_queues_a_paid_callback() -> None:
    backend = make_backend()
    invoice = backend.create_invoice({"external_id": "pay-1", "amount": 25000})
    backend.pay_invoice(invoice.id, "BANK_TRANSFER", bank_code="bni")
    body = invoice.to_json()
    assert body["status"] == "PAID"
    assert (body["payment_method"], body["bank_code"], body["payment_channel"]) == ("BANK_TRANSFER", "BNI", "BNI")
    assert body["paid_amount"] == 25000
    assert [cb.status for cb in backend.outbox] == ["PAID"]
    assert backend.scheduler.pending() == []


def test_pay_by_ewallet_has_a_channel_and_no_bank_code() -> None:
    backend = make_backend()
    invoice = backend.create_invoice({"external_id": "pay-1", "amount": 25000})
    backend.pay_invoice(invoice.id, "EWALLET", payment_channel="DANA")
    body = invoice.callback_body()
    assert (body["payment_method"], body["payment_channel"]) == ("EWALLET", "DANA")
    assert "bank_code" not in body


@pytest.mark.parametrize("first", ["expire", "pay"])
def test_pay_of_an_invoice_no_longer_pending_is_refused(first: str) -> None:
    backend = make_backend()
    invoice = backend.create_invoice({"external_id": "pay-1", "amount": 1000})
    backend.expire_invoice(invoice.id) if first == "expire" else backend.pay_invoice(invoice.id)
    error = refusal(lambda: backend.pay_invoice(invoice.id))
    assert (error.status, error.error_code) == (409, "INVOICE_NOT_PENDING")


def test_pay_refuses_an_unknown_payment_method() -> None:
    backend = make_backend()
    invoice = backend.create_invoice({"external_id": "pay-1", "amount": 1000})
    error = refusal(lambda: backend.pay_invoice(invoice.id, "BARTER"))
    assert error.error_code == "API_VALIDATION_ERROR"
    assert invoice.status == "PENDING"


def test_settle_needs_a_paid_invoice_and_queues_a_settled_callback() -> None:
    backend = make_backend()
    invoice = backend.create_invoice({"external_id": "pay-1", "amount": 1000})
    assert refusal(lambda: backend.settle_invoice(invoice.id)).error_code == "INVOICE_NOT_PAID"
    backend.pay_invoice(invoice.id)
    backend.settle_invoice(invoice.id)
    assert invoice.status == "SETTLED"
    assert [cb.status for cb in backend.outbox] == ["PAID", "SETTLED"]
    assert set(backend.outbox[1].body) == set(PAID_CALLBACK_FIELDS) - {"payer_email", "description"}


# --- callback bodies ------------------------------------------------------------------------------


def test_paid_callback_body_has_exactly_xendits_fields_in_order() -> None:
    backend = make_backend()
    invoice = backend.create_invoice(
        {"external_id": "pay-1", "amount": 25000, "payer_email": "a@b.co", "description": "d"}
    )
    backend.pay_invoice(invoice.id)
    body = backend.outbox[0].body
    assert tuple(body) == PAID_CALLBACK_FIELDS
    assert body["is_high"] is False
    assert body["adjusted_received_amount"] == 25000 and body["fees_paid_amount"] == 0
    assert body["paid_at"] == isoformat(backend.now())


def test_expired_callback_body_is_the_envelope_without_payment_fields() -> None:
    backend = make_backend()
    invoice = backend.create_invoice(
        {"external_id": "pay-1", "amount": 25000, "payer_email": "a@b.co", "description": "d"}
    )
    backend.expire_invoice(invoice.id)
    assert tuple(backend.outbox[0].body) == EXPIRED_CALLBACK_FIELDS
    assert "paid_amount" not in EXPIRED_CALLBACK_FIELDS and "id" in EXPIRED_CALLBACK_FIELDS


def test_callback_body_leaves_out_payer_email_and_description_the_invoice_lacks() -> None:
    backend = make_backend()
    invoice = backend.create_invoice({"external_id": "pay-1", "amount": 25000})
    backend.expire_invoice(invoice.id)
    assert set(backend.outbox[0].body) == set(EXPIRED_CALLBACK_FIELDS) - {"payer_email", "description"}


# --- expiry on the scheduler ------------------------------------------------------------------------


def test_expiry_fires_once_virtual_time_passes_expiry_date() -> None:
    backend = make_backend()
    invoice = backend.create_invoice({"external_id": "pay-1", "amount": 1000, "invoice_duration": 300})

    async def scenario() -> tuple[str, str]:
        await backend.scheduler.advance(299)
        before = invoice.status
        await backend.scheduler.advance(1)
        return before, invoice.status

    assert asyncio.run(scenario()) == ("PENDING", "EXPIRED")
    assert invoice.updated == invoice.expiry_date
    assert [cb.status for cb in backend.outbox] == ["EXPIRED"]


def test_reads_never_expire_an_invoice_whose_timer_has_not_fired() -> None:
    backend = make_backend()
    invoice = backend.create_invoice({"external_id": "pay-1", "amount": 1000, "invoice_duration": 60})
    clock = backend.scheduler.clock
    assert isinstance(clock, VirtualClock)
    clock.advance(120)  # the clock moved but no timer ran
    assert backend.get_invoice(invoice.id).status == "PENDING"
    assert backend.list_invoices(statuses=["PENDING"]) == [invoice]
    assert backend.outbox == []


def test_a_paid_invoice_never_expires() -> None:
    backend = make_backend()
    invoice = backend.create_invoice({"external_id": "pay-1", "amount": 1000, "invoice_duration": 60})
    backend.pay_invoice(invoice.id)
    asyncio.run(backend.scheduler.advance(3600))
    assert invoice.status == "PAID"
    assert [cb.status for cb in backend.outbox] == ["PAID"]


# --- control plane: reset, state, faults, config, auth -------------------------------------------------


def test_reset_forgets_invoices_timers_callbacks_and_faults_but_keeps_config() -> None:
    backend = make_backend(callback_url="http://hook")
    invoice = backend.create_invoice({"external_id": "pay-1", "amount": 1000}, idempotency_key="k")
    backend.expire_invoice(backend.create_invoice({"external_id": "pay-2", "amount": 1}).id)
    backend.set_faults({"drop": True})
    heard: list[str] = []
    backend.add_reset_listener(lambda: heard.append("reset"))
    backend.reset()
    assert backend.invoices == {} and backend.outbox == [] and backend.scheduler.pending() == []
    assert backend.faults()["drop"] is False
    assert backend.callback_url == "http://hook"
    assert heard == ["reset"]
    again = backend.create_invoice({"external_id": "pay-3", "amount": 5}, idempotency_key="k")
    assert again.id == invoice.id  # counters restart: a reset run replays the same ids


def test_state_dump_lists_invoices_callbacks_and_expiry_timers() -> None:
    backend = make_backend()
    invoice = backend.create_invoice({"external_id": "pay-1", "amount": 1000})
    state = backend.state()
    assert [i["id"] for i in state["invoices"]] == [invoice.id]
    assert state["timers"] == [{"name": f"xendit-expire-{invoice.id}", "due": isoformat(invoice.expiry_date)}]
    assert state["callbacks"] == []


def test_faults_merge_and_validate() -> None:
    backend = make_backend()
    backend.set_faults({"duplicate": True})
    merged = backend.set_faults({"delay_s": 5, "fail_api": {"count": 2}})
    assert merged["duplicate"] is True and merged["delay_s"] == 5
    assert merged["fail_api"] == {"count": 2, "error_code": "SERVER_ERROR", "message": None}
    for bad in ({"delay_s": -1}, {"nonsense": True}, {"fail_api": {"count": 0}}, {"fail_api": {"error_code": "NOPE"}}):
        with pytest.raises(ValueError):
            backend.set_faults(bad)
    assert backend.faults() == merged
    backend.clear_faults()
    assert backend.faults()["duplicate"] is False


def test_fail_api_fault_answers_count_times_then_disarms() -> None:
    backend = make_backend()
    backend.set_faults({"fail_api": {"count": 2, "error_code": "ACCESS_SUSPENDED"}})
    first, second, third = backend.take_api_fault(), backend.take_api_fault(), backend.take_api_fault()
    assert first is not None and (first.status, first.error_code) == (403, "ACCESS_SUSPENDED")
    assert second is not None and third is None
    assert backend.faults()["fail_api"] is None


def test_configure_applies_only_given_settings_and_refuses_unknown_ones() -> None:
    backend = make_backend(callback_token="old")
    backend.configure({"callback_url": "http://hook"})
    assert (backend.callback_url, backend.callback_token) == ("http://hook", "old")
    with pytest.raises(ValueError):
        backend.configure({"callbak_url": "typo"})


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer xnd_development_fake", basic("wrong"), basic("xnd_development_fake", "pw"), "Basic !!!"],
)
def test_auth_refuses_missing_or_wrong_basic_credentials(header: str | None) -> None:
    error = refusal(lambda: make_backend().check_auth(header))
    assert error.to_body() == {"error_code": "INVALID_API_KEY", "message": "API key is invalid"}
    assert error.status == 401


def test_auth_accepts_the_secret_key_as_username_with_empty_password() -> None:
    def accepts(header: str) -> bool:
        try:
            backend.check_auth(header)
        except XenditError:
            return False
        return True

    backend = make_backend(secret_key="sk")
    assert accepts(basic("sk"))
    assert accepts("basic " + base64.b64encode(b"sk:").decode())  # the scheme is case-insensitive
    assert not accepts(basic("sk2"))


def test_standalone_callbacks_have_xendits_field_sets() -> None:
    from simkit.xendit_wire import EXPIRED_CALLBACK_FIELDS, PAID_CALLBACK_FIELDS, standalone_callback

    paid = standalone_callback("inv1", "pay-1", "PAID", 25000, 1_767_225_600.0, description="Halo chat")
    expired = standalone_callback("inv1", "pay-1", "EXPIRED", 25000, 1_767_225_600.0)
    assert list(paid) == [f for f in PAID_CALLBACK_FIELDS if f != "payer_email"]
    assert list(expired) == [f for f in EXPIRED_CALLBACK_FIELDS if f not in ("payer_email", "description")]
    assert paid["paid_amount"] == 25000 and paid["updated"] == "2026-01-01T00:00:00.000Z"
