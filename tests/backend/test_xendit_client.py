"""XenditClient against fake Xendit served on 127.0.0.1: auth, bodies, filters and every refusal the fake can give.

The fake insists on HTTP Basic with its secret key and an empty password, validates bodies as
Xendit does and injects failures through ``/_fake/faults``; ``/_fake/calls`` shows what the
client actually sent.  Transport failures come from real sockets (``refusing_url``,
``silent_url``).  respx is kept only for answers no well-behaved server gives: a hang-up
mid-answer, and bodies that are not Xendit's JSON.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import pytest
import respx

from halo_sim.backend.xendit import XenditClient, XenditRejected
from simkit.errors import UpstreamError

if TYPE_CHECKING:
    from conftest import FakeEndpoint

MOCK_BASE = "https://xendit.example.test"  # only the respx tests use it: nothing listens there
T = TypeVar("T")


def call(base: str, secret: str, action: Callable[[XenditClient], Awaitable[T]], timeout: float = 5.0) -> T:
    """Run one client call on a fresh client, closing it afterwards."""

    async def run() -> T:
        client = XenditClient(base, secret, timeout=timeout)
        try:
            return await action(client)
        finally:
            await client.aclose()

    return asyncio.run(run())


def rejected(base: str, secret: str, action: Callable[[XenditClient], Awaitable[Any]], **kw: Any) -> XenditRejected:
    with pytest.raises(XenditRejected) as caught:
        call(base, secret, action, **kw)
    return caught.value


def create(client: XenditClient) -> Awaitable[dict[str, Any]]:
    return client.create_invoice("pay-1", 15000, "Halo chat 15 menit", 86400)


def create_with(**extra: Any) -> Callable[[XenditClient], Awaitable[dict[str, Any]]]:
    return lambda client: client.create_invoice("pay-1", 15000, "Halo chat 15 menit", 86400, **extra)


def calls(fake: FakeEndpoint) -> list[dict[str, Any]]:
    """What the fake received on its Invoice API, in order."""
    return list(fake.control.get("/_fake/calls").json()["calls"])


# --- success, against the fake ------------------------------------------------------------------


def test_create_invoice_is_accepted_by_a_fake_that_wants_basic_auth_with_the_secret_and_no_password(
    xendit_fake: FakeEndpoint,
) -> None:
    answer = call(xendit_fake.url, xendit_fake.credential, create)

    assert (answer["external_id"], answer["status"]) == ("pay-1", "PENDING")
    assert [c["status"] for c in calls(xendit_fake)] == [200]


def test_create_invoice_posts_exactly_the_invoice_body_and_returns_the_fakes_invoice(xendit_fake: FakeEndpoint) -> None:
    answer = call(xendit_fake.url, xendit_fake.credential, create)

    [sent] = calls(xendit_fake)
    assert (sent["method"], sent["path"]) == ("POST", "/v2/invoices")
    assert sent["body"] == {
        "external_id": "pay-1",
        "amount": 15000,
        "description": "Halo chat 15 menit",
        "invoice_duration": 86400,
        "currency": "IDR",
    }
    stored = xendit_fake.control.get("/_fake/state").json()["invoices"]
    assert [answer["id"]] == [inv["id"] for inv in stored]
    assert (answer["amount"], answer["currency"], answer["description"]) == (15000, "IDR", "Halo chat 15 menit")
    assert answer["invoice_url"].endswith(f"/web/invoices/{answer['id']}")


def test_create_invoice_passes_extra_fields_through_and_an_extra_overrides_a_default(xendit_fake: FakeEndpoint) -> None:
    answer = call(xendit_fake.url, xendit_fake.credential, create_with(payer_email="a@b.co", currency="USD"))

    body = calls(xendit_fake)[0]["body"]
    assert (body["payer_email"], body["currency"], body["invoice_duration"]) == ("a@b.co", "USD", 86400)
    assert (answer["payer_email"], answer["currency"]) == ("a@b.co", "USD")


def test_base_url_trailing_slashes_give_no_double_slash(xendit_fake: FakeEndpoint) -> None:
    call(f"{xendit_fake.url}///", xendit_fake.credential, create)

    assert [(c["path"], c["status"]) for c in calls(xendit_fake)] == [("/v2/invoices", 200)]


def test_get_invoice_reads_the_invoice_by_id_as_the_fake_has_it_now(xendit_fake: FakeEndpoint) -> None:
    invoice_id = call(xendit_fake.url, xendit_fake.credential, create)["id"]
    xendit_fake.control.post(f"/_fake/invoices/{invoice_id}/pay").raise_for_status()

    answer = call(xendit_fake.url, xendit_fake.credential, lambda c: c.get_invoice(invoice_id))

    assert (answer["id"], answer["status"]) == (invoice_id, "PAID")
    assert calls(xendit_fake)[-1]["path"] == f"/v2/invoices/{invoice_id}"


def test_list_invoices_sends_the_filters_as_query_parameters(xendit_fake: FakeEndpoint) -> None:
    def make(external_id: str) -> str:
        created = call(xendit_fake.url, xendit_fake.credential, lambda c: c.create_invoice(external_id, 1000, "d", 60))
        return str(created["id"])

    first, _, third = make("pay-1"), make("pay-2"), make("pay-1")
    xendit_fake.control.post(f"/_fake/invoices/{first}/pay").raise_for_status()

    def listed(**filters: Any) -> list[str]:
        return [
            inv["id"] for inv in call(xendit_fake.url, xendit_fake.credential, lambda c: c.list_invoices(**filters))
        ]

    assert listed(external_id="pay-1") == [third, first]  # newest first
    assert listed(external_id="pay-1", limit=1) == [third]
    assert listed(statuses=["PAID"]) == [first]


# --- Xendit's refusals, from the fake ----------------------------------------------------------


def test_a_wrong_secret_key_is_rejected_401_invalid_api_key(xendit_fake: FakeEndpoint) -> None:
    error = rejected(xendit_fake.url, "xnd_development_not_the_key", create)

    assert (error.status, error.code, error.service) == (401, "INVALID_API_KEY", "xendit")
    assert isinstance(error, UpstreamError)
    assert "API key is invalid" in str(error)


def test_get_of_an_unknown_invoice_is_rejected_404_invoice_not_found(xendit_fake: FakeEndpoint) -> None:
    error = rejected(xendit_fake.url, xendit_fake.credential, lambda c: c.get_invoice("nope"))

    assert (error.status, error.code) == (404, "INVOICE_NOT_FOUND_ERROR")
    assert "nope" in str(error)


@pytest.mark.parametrize(
    ("action", "code", "message"),
    [
        pytest.param(
            lambda c: c.create_invoice("pay-1", 0, "d", 60),
            "API_VALIDATION_ERROR",
            '"amount" must be greater than 0',
            id="create-amount-0",
        ),
        pytest.param(
            create_with(currency="EUR"), "UNSUPPORTED_CURRENCY", "Currency EUR is not supported", id="create-eur"
        ),
        pytest.param(
            lambda c: c.list_invoices(limit=500),
            "API_VALIDATION_ERROR",
            '"limit" must be between 1 and 100',
            id="list-limit-500",
        ),
    ],
)
def test_a_request_the_fake_finds_invalid_is_rejected_400_with_its_code_and_message(
    xendit_fake: FakeEndpoint, action: Callable[[XenditClient], Awaitable[Any]], code: str, message: str
) -> None:
    error = rejected(xendit_fake.url, xendit_fake.credential, action)

    assert (error.status, error.code) == (400, code)
    assert message in str(error)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("SERVER_ERROR", 500),
        ("ACCESS_SUSPENDED", 403),
        ("INVALID_API_KEY", 401),
        ("INVOICE_NOT_FOUND_ERROR", 404),
        ("API_VALIDATION_ERROR", 400),
    ],
)
def test_an_injected_api_failure_is_rejected_with_its_status_code_and_message_and_not_retried(
    xendit_fake: FakeEndpoint, code: str, status: int
) -> None:
    fault = {"fail_api": {"error_code": code, "message": f"told to fail with {code}"}}
    xendit_fake.control.post("/_fake/faults", json=fault).raise_for_status()

    error = rejected(xendit_fake.url, xendit_fake.credential, create)

    assert (error.status, error.code) == (status, code)
    assert f"told to fail with {code}" in str(error)
    assert len(calls(xendit_fake)) == 1


# --- transport failures, from real sockets -----------------------------------------------------


def test_a_refused_connection_is_rejected_unreachable_with_status_0(refusing_url: str) -> None:
    error = rejected(refusing_url, "xnd_key", create)

    assert (error.status, error.code) == (0, "UNREACHABLE")
    assert "ConnectError" in str(error)
    assert isinstance(error.__cause__, httpx.ConnectError)


def test_a_server_that_never_answers_is_rejected_unreachable_after_the_timeout(silent_url: str) -> None:
    error = rejected(silent_url, "xnd_key", create, timeout=0.2)

    assert (error.status, error.code) == (0, "UNREACHABLE")
    assert "ReadTimeout" in str(error)
    assert isinstance(error.__cause__, httpx.ReadTimeout)


# --- what no well-behaved server answers: respx --------------------------------------------------


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield router


def test_a_hang_up_mid_answer_is_rejected_unreachable(mock: respx.MockRouter) -> None:
    # A mock: the fake always answers in full; this is the load balancer dropping the connection.
    failure = httpx.RemoteProtocolError("server hung up")
    mock.post(f"{MOCK_BASE}/v2/invoices").mock(side_effect=failure)

    error = rejected(MOCK_BASE, "xnd_key", create)

    assert (error.status, error.code) == (0, "UNREACHABLE")
    assert "RemoteProtocolError" in str(error)
    assert error.__cause__ is failure


def test_a_non_json_500_is_rejected_unknown_and_keeps_the_text(mock: respx.MockRouter) -> None:
    # A mock: the fake answers even its own crashes in Xendit's JSON shape; a proxy's HTML page it cannot give.
    mock.post(f"{MOCK_BASE}/v2/invoices").respond(500, text="<html>Internal Server Error</html>")

    error = rejected(MOCK_BASE, "xnd_key", create)

    assert (error.status, error.code) == (500, "UNKNOWN")
    assert "Internal Server Error" in str(error)


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"message": "no code"}, id="json-without-error_code"),
        pytest.param(["not", "an", "object"], id="json-array"),
        pytest.param("just a string", id="json-string"),
    ],
)
def test_a_json_error_without_xendits_shape_is_rejected_unknown(mock: respx.MockRouter, payload: Any) -> None:
    # A mock: every error the fake gives has error_code and message; these shapes are garbled answers.
    mock.post(f"{MOCK_BASE}/v2/invoices").respond(503, json=payload)

    error = rejected(MOCK_BASE, "xnd_key", create)

    assert (error.status, error.code) == (503, "UNKNOWN")


def test_a_2xx_answer_that_is_not_json_is_a_bad_response_not_a_crash(mock: respx.MockRouter) -> None:
    # A mock: the fake's Invoice API never answers 200 with anything but JSON.
    mock.get(f"{MOCK_BASE}/v2/invoices/inv1").respond(200, text="<html>")

    error = rejected(MOCK_BASE, "xnd_key", lambda c: c.get_invoice("inv1"))

    assert (error.status, error.code) == (200, "BAD_RESPONSE")
    assert "<html>" in str(error)
