"""The checkout page in a real browser (Debian's chromium driven by Playwright).

Outside CI a machine without chromium skips this test with a printed reason; in
CI (``CI`` set) a missing browser is a failure, never a skip.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from conftest import Receiver, RunningFake

SECRET = "xnd_development_test_secret"  # the key conftest's fake_factory configures


def test_paying_in_a_browser_marks_the_invoice_paid_and_sends_the_callback(
    fake_factory: Callable[..., RunningFake],
    receiver: Receiver,
    chromium: dict[str, Any],
) -> None:
    from playwright.sync_api import sync_playwright

    fake = fake_factory(callback_url=receiver.callback_url)
    with httpx.Client(base_url=fake.url, auth=(SECRET, ""), trust_env=False) as client:
        invoice = client.post(
            "/v2/invoices",
            json={"external_id": "pay-browser", "amount": 25000, "description": "Curhat 30 menit"},
        ).json()

    with sync_playwright() as p:
        browser = p.chromium.launch(**chromium)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
            page.goto(invoice["invoice_url"])
            assert page.get_by_test_id("amount").inner_text() == "Rp 25.000"
            assert page.get_by_test_id("status").inner_text() == "PENDING"
            with page.expect_navigation():
                page.get_by_role("button", name="Pay").click()  # POST, then 303 back to the page
            assert page.url == invoice["invoice_url"]
            final = page.get_by_test_id("final-status").inner_text()
        finally:
            browser.close()

    assert final == "PAID"
    assert fake.backend.invoices[invoice["id"]].status == "PAID"
    # The page redirects as soon as the invoice is PAID; the callback goes out as a task of the
    # fake's loop.  A flush answers only once in-flight sends have finished: no sleeping.
    with httpx.Client(base_url=fake.url, trust_env=False) as client:
        log = client.post("/_fake/callbacks/flush").json()["log"]
    assert [(e["status"], e["outcome"]) for e in log] == [("PAID", "delivered")]
    assert [(b["id"], b["status"]) for b in receiver.bodies] == [(invoice["id"], "PAID")]
