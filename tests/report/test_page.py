"""The page: self-contained (nothing fetched), payloads embedded, the failure shown; loading refuses junk."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from halo_sim.report.page import ReportError, load, render, render_index

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)


def test_the_page_fetches_nothing(conversation: dict[str, Any]) -> None:
    html = render(conversation)
    assert "<svg" in html and "<style>" in html
    assert EXTERNAL.search(html) is None
    assert "@import" not in html and "url(" not in html


def test_every_arrow_s_payload_is_in_the_page(conversation: dict[str, Any]) -> None:
    html = render(conversation)
    blob = re.search(r'<script type="application/json" id="payloads">(.*?)</script>', html, re.DOTALL)
    assert blob is not None
    payloads = json.loads(blob.group(1))
    assert len(payloads) == html.count('class="msg ')
    assert payloads["1"]["route"] == "customer → backend"
    assert payloads["1"]["payload"]["url"].endswith("/api/customer/payments")


def test_a_payload_cannot_close_the_script_that_holds_it(conversation: dict[str, Any]) -> None:
    conversation["frames"]["customer"] = [{"type": "x", "text": "</script><b>"}]
    assert "</script><b>" not in render(conversation)


def test_the_failure_is_shown_with_its_diff(conversation: dict[str, Any]) -> None:
    html = render(conversation)
    assert 'data-testid="failure"' in html and "✗ no matching push" in html
    assert 'class="failed-step"' in html


def test_the_index_counts_and_links_each_scenario() -> None:
    rows = [
        {"id": "a", "status": "passed", "seconds": 1.0, "reason": "", "file": "a.html"},
        {"id": "b", "status": "failed", "seconds": 2.0, "reason": "step 2 failed", "file": "b.html"},
        {"id": "c", "status": "skipped", "seconds": 0.0, "reason": "no fcm_inbox", "file": None},
    ]
    html = render_index(rows)
    assert "1 passed · 1 failed · 1 skipped" in html
    assert html.index('href="b.html"') < html.index('href="a.html"')  # failures first
    assert "no fcm_inbox" in html


@pytest.mark.parametrize(
    ("content", "said"),
    [(None, "cannot read"), ("not json", "is not JSON"), ('{"id": "x"}', "is not a halo-sim scenario report")],
)
def test_loading_a_missing_or_foreign_file_is_refused_in_one_line(
    tmp_path: Path, content: str | None, said: str
) -> None:
    path = tmp_path / "r.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ReportError, match=said) as caught:
        load(path)
    assert "\n" not in str(caught.value)


def test_a_skipped_run_with_nothing_said_renders_with_its_reason() -> None:
    html = render({"id": "x", "status": "skipped", "reason": "lacks fcm_inbox", "steps": [], "transcript": []})
    assert "lacks fcm_inbox" in html and "<svg" in html and 'id="failed-step"' not in html
