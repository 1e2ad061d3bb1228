"""The control center in a real browser: Debian's chromium driven by Playwright, at a phone's width.

QA keeps the page open beside an emulator, so it is checked at 390 × 844: it loads with no
console error, a payment made through the API appears without a reload, each button changes
the backend as its scenario step would (read back through the API, not the page), and nothing
overflows sideways.  One test opens the page on a server started as ``halo-sim serve`` starts it
and runs a real catalog scenario against that server's URL: what the scenario creates shows up
live.  Screenshots go to ``reports/screenshots/`` (git-ignored).  Outside CI a machine without
chromium skips with a printed reason; in CI (``CI`` set) that is a failure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from halo_sim.stack import Stack
from simkit.clock import SystemClock

if TYPE_CHECKING:
    from conftest import World
    from playwright.sync_api import ConsoleMessage, Page

PHONE = {"width": 390, "height": 844}
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "reports" / "screenshots"
#: A catalog scenario that makes a payment, has it confirmed and a mitra accept: one payment, one session.
SCENARIO = ROOT / "scenarios" / "the-mitra-sees-the-customers-display-name-in-the-offer.yaml"
SCENARIO_TIMEOUT_S = 120  # a bound on a stuck run, never a measured time
WAIT_MS = 10_000  # a bound on waiting for the live update, never a measured time


class Browser:
    """One chromium page on the control center, recording console errors and page loads."""

    def __init__(self, page: Page, url: str) -> None:
        self.page = page
        self.errors: list[str] = []
        self.loads = 0
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("load", lambda _: setattr(self, "loads", self.loads + 1))
        page.on("dialog", lambda d: d.accept())
        page.goto(url + "/control")
        page.get_by_test_id("live").filter(has_text="live").wait_for(timeout=WAIT_MS)

    def _console(self, message: ConsoleMessage) -> None:
        """Console errors, except chromium's note on a button's refusal (shown in the result box by design)."""
        refusal = "/control/actions/" in message.location.get("url", "") and message.text.startswith("Failed to load")
        if message.type == "error" and not refusal:
            self.errors.append(message.text)

    def row(self, testid: str) -> Any:
        locator = self.page.get_by_test_id(testid)
        locator.wait_for(timeout=WAIT_MS)
        return locator

    def click(self, testid: str, button: str) -> None:
        self.row(testid).get_by_role("button", name=button).click()
        self.page.get_by_test_id("result").wait_for(timeout=WAIT_MS)

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"control-{name}.png"), full_page=True)


@contextmanager
def opened(url: str, chromium: dict[str, Any]) -> Iterator[Browser]:
    """Chromium at a phone's width on the control center of the backend at ``url``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(**chromium)
        try:
            yield Browser(launched.new_page(viewport=PHONE), url)
        finally:
            launched.close()


@pytest.fixture
def browser(world: World, stack: Stack, chromium: dict[str, Any]) -> Iterator[Browser]:
    with opened(stack.urls()["backend"], chromium) as page:
        yield page


@pytest.fixture(scope="module")
def served() -> Iterator[Stack]:
    """A stack as ``halo-sim serve`` starts one: the system clock, its fakes advertised for discovery."""
    running = Stack(SystemClock())
    try:
        yield running
    finally:
        running.stop()


def _until(check: Any, what: str) -> None:
    """Poll the backend (the page answers before the fake's callback may have landed)."""
    import time

    deadline = time.monotonic() + WAIT_MS / 1000
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.02)


def test_the_page_loads_without_console_errors_and_a_new_payment_appears_live(browser: Browser, world: World) -> None:
    payment = world.payment()  # made after the page loaded: only the stream can bring it
    row = browser.row(f"payment-{payment['id']}")
    assert row.get_by_test_id("payment-status").inner_text() == "pending"
    row.get_by_test_id("invoice-status").filter(has_text="PENDING").wait_for(timeout=WAIT_MS)  # read from the fake
    assert browser.loads == 1  # no reload
    browser.shot("payment-live")
    assert browser.errors == []


def test_the_buttons_change_the_backend_as_their_steps_would(browser: Browser, world: World) -> None:
    browser.click(f"mitra-{world.mitra_id}", "Online")
    profile = world.api.get("/api/mitra/profile", headers={"Authorization": f"Bearer {world.mitra_token}"})
    assert profile.json()["is_online"] is True
    payment = world.payment()
    browser.click(f"payment-{payment['id']}", "Pay")
    _until(lambda: world.payment_status(payment["id"]) != "pending", "the PAID callback")
    assert world.payment_status(payment["id"]) == "confirmed"
    browser.click(f"mitra-{world.mitra_id}", "Accept latest")
    session = world.snapshot()["sessions"][0]
    assert (session["status"], session["payment_request_id"]) == ("active", payment["id"])
    _send_from_the_form(browser, session["id"])
    messages = world.api.get(
        f"/api/chat/sessions/{session['id']}/messages", headers={"Authorization": f"Bearer {world.customer_token}"}
    )
    assert [(m["sender_role"], m["text"]) for m in messages.json()["messages"]] == [("mitra", "dari QA")]
    browser.shot("after-actions")
    assert browser.errors == []


def _send_from_the_form(browser: Browser, session_id: str) -> None:
    browser.row(f"session-{session_id}").get_by_role("button", name="Message…").click()
    form = browser.page.get_by_test_id("form-message")
    assert form.locator('[name="session_id"]').input_value() == session_id
    form.locator('[name="as"]').select_option("mitra")
    form.locator('[name="text"]').fill("dari QA")
    form.get_by_role("button", name="Send").click()
    browser.page.get_by_test_id("result").filter(has_text="send-as-mitra → 201").wait_for(timeout=WAIT_MS)


def test_the_forms_advance_the_clock_and_change_the_config(browser: Browser, world: World) -> None:
    before = world.api.get("/internal/_test/clock").json()["now"]
    clock = browser.page.get_by_test_id("form-clock")
    clock.locator('[name="seconds"]').fill("120")
    clock.get_by_role("button", name="Advance").click()
    browser.page.get_by_test_id("result").filter(has_text="advance-clock → 200").wait_for(timeout=WAIT_MS)
    assert world.api.get("/internal/_test/clock").json()["now"] == pytest.approx(before + 120)
    config = browser.page.get_by_test_id("form-config")
    config.locator('[name="support.whatsapp"]').fill("https://wa.me/628999")
    config.locator('[name="prices"]').fill("15=16000, 30=29000")
    config.get_by_role("button", name="Save").click()
    browser.page.get_by_test_id("support-whatsapp").filter(has_text="https://wa.me/628999").wait_for(timeout=WAIT_MS)
    read = world.api.get("/api/config").json()
    assert read["support"]["whatsapp"] == "https://wa.me/628999"
    assert {"duration_minutes": 30, "amount": 29000} in read["prices"]
    assert browser.errors == []


def test_an_expired_invoice_and_a_refused_webhook_show_as_the_backend_has_them(browser: Browser, world: World) -> None:
    payment = world.payment()
    browser.click(f"payment-{payment['id']}", "Expire")
    _until(lambda: world.payment_status(payment["id"]) == "expired", "the EXPIRED callback")
    row = browser.page.get_by_test_id(f"payment-{payment['id']}")
    row.get_by_test_id("payment-status").filter(has_text="expired").wait_for(timeout=WAIT_MS)
    form = browser.page.get_by_test_id("form-webhook")
    other = world.payment()
    form.locator('[name="external_id"]').fill(other["id"])
    form.locator('[name="token"]').select_option("wrong")
    form.get_by_role("button", name="Fire").click()
    browser.page.get_by_test_id("result").filter(has_text="INVALID_CALLBACK_TOKEN").wait_for(timeout=WAIT_MS)
    assert world.payment_status(other["id"]) == "pending"
    assert browser.errors == []


def test_at_a_phones_width_nothing_overflows_sideways(browser: Browser, world: World, stack: Stack) -> None:
    for _ in range(3):
        world.payment()
    browser.click(f"mitra-{world.mitra_id}", "Online")
    httpx.post(stack.urls()["backend"] + "/control/actions/xendit-faults", json={"reorder": True}, trust_env=False)
    browser.page.get_by_test_id("faults").wait_for(timeout=WAIT_MS)
    widths = browser.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    browser.shot("phone-width")
    assert widths[0] <= widths[1] == PHONE["width"]
    tables = "els => els.filter(e => e.scrollWidth > e.clientWidth).map(e => e.closest('section').dataset.testid)"
    assert browser.page.eval_on_selector_all(".scroll", tables) == []  # no table needs sideways scrolling either


def test_clicking_an_id_filters_the_timeline(browser: Browser, world: World) -> None:
    payment = world.payment()
    world.act("pay-invoice", {"invoice_id": payment["xendit_invoice_id"]}).raise_for_status()
    browser.page.locator(f'#panel-timeline li[data-refs~="{payment["id"]}"]').first.wait_for(timeout=WAIT_MS)
    link = browser.row(f"payment-{payment['id']}").locator(f'[data-filter="{payment["id"]}"]')
    link.click()
    assert browser.page.get_by_test_id("filter").input_value() == payment["id"]
    shown = browser.page.eval_on_selector_all(
        "#panel-timeline li[data-refs]:not([hidden])", "items => items.map(i => i.dataset.refs + ' ' + i.textContent)"
    )
    hidden = browser.page.locator("#panel-timeline li[hidden]").count()
    assert shown and hidden > 0
    assert all(payment["id"] in line for line in shown)
    browser.shot("timeline-filtered")


def _run_scenario_against(url: str) -> object:
    """The catalog scenario against ``url``, as ``halo-sim scenario ID --target URL`` runs it (its own
    thread and loop: the sync Playwright API owns this one)."""
    from halo_sim.scenario.loader import load_scenario
    from halo_sim.scenario.runner import run_scenario
    from halo_sim.targets.profiles import url_target

    def run() -> object:
        return asyncio.run(run_scenario(load_scenario(SCENARIO), url_target(url)))

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result(timeout=SCENARIO_TIMEOUT_S)


def test_a_scenario_run_against_the_server_shows_its_payment_and_session_live(
    served: Stack, chromium: dict[str, Any]
) -> None:
    url = served.urls()["backend"]
    with opened(url, chromium) as page:
        assert page.page.locator('[data-testid^="payment-"]').count() == 0  # nothing yet on a fresh server
        result: Any = _run_scenario_against(url)
        assert result.status == "passed", result.reason
        snap = httpx.get(url + "/control/snapshot", trust_env=False).json()
        payment, session = snap["payments"][0], snap["sessions"][0]
        assert session["payment_request_id"] == payment["id"]
        row = page.row(f"payment-{payment['id']}")  # only the stream can bring it: the page loaded before
        assert payment["status"] != "pending"  # the scenario had it confirmed
        row.get_by_test_id("payment-status").filter(has_text=payment["status"]).wait_for(timeout=WAIT_MS)
        page.row(f"session-{session['id']}").filter(has_text=session["status"]).wait_for(timeout=WAIT_MS)
        assert page.loads == 1  # no reload
        page.shot("scenario-live")
        assert page.errors == []
