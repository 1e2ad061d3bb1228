"""The seed's rules at their edges where a scenario cannot look: fake Xendit's invoices, the settings.

The scenarios named in docs/contract.md ("Edges of the seed's rules") pin the wire behaviour;
these tests pin what only the fakes' state or the Python API shows.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from halo_sim.backend.config import Settings
from halo_sim.stack import Stack
from simkit.errors import UniqueViolation

pytestmark = pytest.mark.usefixtures("fresh")


def login(api: httpx.Client, phone: str) -> dict[str, str]:
    api.post("/api/customer/auth/otp/request", json={"phone": phone}).raise_for_status()
    code = api.get("/internal/_test/otp", params={"phone": phone}).json()["code"]
    token = api.post("/api/customer/auth/otp/verify", json={"phone": phone, "code": code}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def invoices(xendit: httpx.Client) -> list[dict[str, Any]]:
    state = xendit.get("/_fake/state").json()
    return list(state["invoices"])


def test_a_targeted_payment_for_an_unknown_mitra_creates_no_invoice(api: httpx.Client, xendit: httpx.Client) -> None:
    headers = login(api, "+6281200000101")
    answer = api.post(
        "/api/customer/payments", json={"duration_minutes": 15, "targeted_mitra_id": "ghost"}, headers=headers
    )
    assert (answer.status_code, answer.json()["error"]) == (404, "MITRA_NOT_FOUND")
    assert invoices(xendit) == []


def test_a_store_failure_after_the_invoice_exists_expires_that_invoice(
    api: httpx.Client, xendit: httpx.Client, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = login(api, "+6281200000102")
    table = stack.backend.store.payment_requests

    def refuse(row: Any) -> Any:
        raise UniqueViolation('duplicate key value violates unique constraint "payment_requests_pkey"')

    monkeypatch.setattr(table, "insert", refuse)
    answer = api.post("/api/customer/payments", json={"duration_minutes": 15}, headers=headers)
    assert (answer.status_code, answer.json()["error"]) == (409, "UNIQUE_VIOLATION")
    [invoice] = invoices(xendit)
    assert invoice["status"] == "EXPIRED"
    assert table.all() == []


def test_prices_and_support_handles_come_from_the_environment_as_the_example_documents() -> None:
    settings = Settings.from_env(
        {
            "HALO_PRICES": '{"15": 11000, "45": 33000}',
            "HALO_SUPPORT_WHATSAPP": "https://wa.me/620000",
            "HALO_SUPPORT_TELEGRAM": "https://t.me/x",
            "HALO_PAID_VALIDITY_S": "120",
        }
    )
    assert settings.prices == {15: 11000, 45: 33000}
    assert (settings.support_whatsapp, settings.support_telegram) == ("https://wa.me/620000", "https://t.me/x")
    assert settings.paid_validity_s == 120


def test_the_control_center_config_write_needs_the_test_token_when_one_is_set(serve_backend: Any) -> None:
    _, server = serve_backend(env="test", test_token="s3cret")
    body = {"support": {"telegram": "https://t.me/other"}}
    with httpx.Client(base_url=server.url) as client:
        refused = client.put("/api/control-center/config", json=body)
        accepted = client.put("/api/control-center/config", json=body, headers={"x-test-token": "s3cret"})
        config = client.get("/api/config").json()
    assert (refused.status_code, refused.json()["error"]) == (401, "TEST_TOKEN_REQUIRED")
    assert accepted.status_code == 200
    assert config["support"]["telegram"] == "https://t.me/other"
