"""The HTML report of a failing run in a real browser (Debian's chromium driven by Playwright).

The page is opened from disk with every network request refused, as a CI artifact is opened.
A screenshot of the whole page is kept under ``reports/screenshots/`` (git-ignored) for CI to upload.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from halo_sim.cli.app import app

SCREENSHOTS = Path(__file__).resolve().parents[2] / "reports" / "screenshots"


def test_the_report_of_a_failing_run_shows_the_conversation_and_the_failed_step(
    chromium: dict[str, Any], data_dir: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "wrong_expectation.html"
    scenario = str(data_dir / "wrong_expectation.yaml")
    done = CliRunner().invoke(app, ["scenario", scenario, "--html", str(page_file), "--report-dir", str(tmp_path)])
    assert done.exit_code == 1, done.output
    errors: list[str] = []
    fetched: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(**chromium)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.route("**/*", lambda route: (fetched.append(route.request.url), route.continue_()))
            page.goto(page_file.as_uri())

            diagram = page.get_by_test_id("diagram")
            assert diagram.locator("svg .lane").count() == 4  # harness, customer, mitra, backend
            assert diagram.is_visible() and diagram.locator("svg .msg").count() > 20
            band = page.locator("#failed-step")
            assert band.is_visible()
            heading = page.locator("a.step-heading", has_text="step 6 · test.send_chat_message_as_mitra")
            assert heading.locator("text").get_attribute("fill") == "#c81e1e"
            assert band.bounding_box()["y"] <= heading.bounding_box()["y"]  # type: ignore[index]
            failed_row = page.locator("tr.failed-step")
            assert failed_row.count() == 1 and "test.send_chat_message_as_mitra" in failed_row.inner_text()
            assert "expected 'ws', got 'fcm'" in page.get_by_test_id("failure").inner_text()

            payload = page.get_by_test_id("payload")
            assert payload.is_hidden()
            page.locator("svg .msg", has_text="201 delivered_via=fcm").click()
            assert payload.is_visible()
            assert '"delivered_via": "fcm"' in page.locator("#payload-body").inner_text()
            assert "backend → harness" in page.locator("#payload-meta").inner_text()
            page.locator("svg .msg", has_text="WS pairing_offer").focus()
            page.keyboard.press("Enter")  # the keyboard opens a payload too
            assert '"type": "pairing_offer"' in page.locator("#payload-body").inner_text()

            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "html-report-failing-run.png"), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert fetched == [page_file.as_uri()]  # the page itself, nothing else
