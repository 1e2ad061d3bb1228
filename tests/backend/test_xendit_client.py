"""XenditClient against a mocked Xendit Invoice API (respx): auth, bodies, error mapping."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest
import respx

from halo_sim.backend.xendit import XenditClient, XenditRejected
from simkit.errors import UpstreamError

BASE = "https://xendit.example.test"
SECRET = "xnd_development_secret_123"
INVOICE = {
    "id": "65a1b2c30000000000000001",
    "external_id": "pay-1",
    "status": "PENDING",
    "amount": 15000,
    "invoice_url": f"{BASE}/web/invoices/65a1b2c30000000000000001",
    "expiry_date": "2026-01-02T00:00:00.000Z",
}

T = TypeVar("T")


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield router


def call(action: Callable[[XenditClient], Awaitable[T]], base: str = f"{BASE}/") -> T:
    """Run one client call on a fresh client, closing it afterwards."""

    async def run() -> T:
        client = XenditClient(base, SECRET, timeout=2.0)
        try:
            return await action(client)
        finally:
            await client.aclose()

    return asyncio.run(run())


def rejected(action: Callable[[XenditClient], Awaitable[Any]]) -> XenditRejected:
    with pytest.raises(XenditRejected) as caught:
        call(action)
    return caught.value


def create(client: XenditClient) -> Awaitable[dict[str, Any]]:
    return client.create_invoice("pay-1", 15000, "Halo chat 15 menit", 86400)


# --- success ---------------------------------------------------------------------------------


def test_create_invoice_sends_basic_auth_with_the_secret_key_and_an_empty_password(mock: respx.MockRouter) -> None:
    route = mock.post(f"{BASE}/v2/invoices").respond(200, json=INVOICE)

    call(create)

    assert route.call_count == 1
    header = route.calls.last.request.headers["authorization"]
    scheme, _, encoded = header.partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(encoded).decode() == f"{SECRET}:"


def test_create_invoice_posts_the_invoice_body_as_json_and_returns_the_invoice(mock: respx.MockRouter) -> None:
    route = mock.post(f"{BASE}/v2/invoices").respond(200, json=INVOICE)

    answer = call(create)

    assert answer == INVOICE
    request = route.calls.last.request
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {
        "external_id": "pay-1",
        "amount": 15000,
        "description": "Halo chat 15 menit",
        "invoice_duration": 86400,
        "currency": "IDR",
    }


def test_create_invoice_passes_extra_fields_through(mock: respx.MockRouter) -> None:
    route = mock.post(f"{BASE}/v2/invoices").respond(200, json=INVOICE)

    call(lambda c: c.create_invoice("pay-1", 15000, "d", 60, payer_email="a@b.co", currency="USD"))

    body = json.loads(route.calls.last.request.content)
    assert body["payer_email"] == "a@b.co"
    assert body["currency"] == "USD"  # an extra overrides the default
    assert body["invoice_duration"] == 60


def test_base_url_trailing_slash_gives_no_double_slash(mock: respx.MockRouter) -> None:
    route = mock.post(f"{BASE}/v2/invoices").respond(200, json=INVOICE)
    call(create, base=f"{BASE}///")
    assert str(route.calls.last.request.url) == f"{BASE}/v2/invoices"


def test_get_invoice_reads_the_invoice_by_id_with_basic_auth(mock: respx.MockRouter) -> None:
    route = mock.get(f"{BASE}/v2/invoices/{INVOICE['id']}").respond(200, json={**INVOICE, "status": "PAID"})

    answer = call(lambda c: c.get_invoice(str(INVOICE["id"])))

    assert answer["status"] == "PAID"
    assert route.calls.last.request.headers["authorization"].startswith("Basic ")


def test_list_invoices_sends_the_filters_as_query_parameters(mock: respx.MockRouter) -> None:
    route = mock.get(f"{BASE}/v2/invoices").respond(200, json=[INVOICE])

    answer = call(lambda c: c.list_invoices(external_id="pay-1", limit=5))

    assert answer == [INVOICE]
    params = route.calls.last.request.url.params
    assert params["external_id"] == "pay-1"
    assert params["limit"] == "5"


# --- errors ----------------------------------------------------------------------------------


def test_xendit_error_body_on_401_raises_rejected_with_its_code_and_status(mock: respx.MockRouter) -> None:
    mock.post(f"{BASE}/v2/invoices").respond(
        401, json={"error_code": "INVALID_API_KEY", "message": "API key is not authorized for this API service"}
    )

    error = rejected(create)

    assert error.code == "INVALID_API_KEY"
    assert error.status == 401
    assert error.service == "xendit"
    assert isinstance(error, UpstreamError)
    assert "API key is not authorized" in str(error)


def test_invoice_not_found_on_get_raises_rejected_404(mock: respx.MockRouter) -> None:
    mock.get(f"{BASE}/v2/invoices/nope").respond(
        404, json={"error_code": "INVOICE_NOT_FOUND_ERROR", "message": "Invoice not found"}
    )

    error = rejected(lambda c: c.get_invoice("nope"))

    assert (error.status, error.code) == (404, "INVOICE_NOT_FOUND_ERROR")


def test_non_json_500_raises_rejected_with_code_unknown_and_keeps_the_text(mock: respx.MockRouter) -> None:
    mock.post(f"{BASE}/v2/invoices").respond(500, text="<html>Internal Server Error</html>")

    error = rejected(create)

    assert error.code == "UNKNOWN"
    assert error.status == 500
    assert "Internal Server Error" in str(error)


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"message": "no code"}, id="json-without-error_code"),
        pytest.param(["not", "an", "object"], id="json-array"),
        pytest.param("just a string", id="json-string"),
    ],
)
def test_json_error_without_xendit_shape_raises_rejected_with_code_unknown(
    mock: respx.MockRouter, payload: Any
) -> None:
    mock.post(f"{BASE}/v2/invoices").respond(503, json=payload)

    error = rejected(create)

    assert (error.status, error.code) == (503, "UNKNOWN")


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(httpx.ConnectError("connection refused"), id="connect-error"),
        pytest.param(httpx.ReadTimeout("timed out"), id="read-timeout"),
        pytest.param(httpx.RemoteProtocolError("server hung up"), id="protocol-error"),
    ],
)
def test_transport_error_raises_rejected_unreachable_with_status_0(mock: respx.MockRouter, failure: Exception) -> None:
    mock.post(f"{BASE}/v2/invoices").mock(side_effect=failure)

    error = rejected(create)

    assert error.code == "UNREACHABLE"
    assert error.status == 0
    assert type(failure).__name__ in str(error)
    assert isinstance(error.__cause__, httpx.HTTPError)


def test_a_2xx_answer_that_is_not_json_is_a_bad_response_not_a_crash() -> None:
    import asyncio

    import httpx
    import respx

    from halo_sim.backend.xendit import XenditClient, XenditRejected

    async def run() -> XenditRejected:
        client = XenditClient("https://xendit.test", "xnd_key")
        with respx.mock:
            respx.get("https://xendit.test/v2/invoices/inv1").mock(return_value=httpx.Response(200, text="<html>"))
            try:
                await client.get_invoice("inv1")
            except XenditRejected as exc:
                return exc
            finally:
                await client.aclose()
        raise AssertionError("no XenditRejected raised")

    assert asyncio.run(run()).code == "BAD_RESPONSE"
