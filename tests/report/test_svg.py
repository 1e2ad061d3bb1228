"""The SVG: well-formed, one clickable arrow per message, every step's header, the failed step's band."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from halo_sim.report.sequence import sequence
from halo_sim.report.svg import draw, virtual_offset

NS = {"svg": "http://www.w3.org/2000/svg"}


def parsed(report: dict[str, Any]) -> ET.Element:
    return ET.fromstring(draw(sequence(report)))


def groups(root: ET.Element, css: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{{{NS['svg']}}}g") if css in (g.get("class") or "").split()]


def test_the_svg_is_well_formed_with_one_arrow_per_message(conversation: dict[str, Any]) -> None:
    root = parsed(conversation)
    messages = sequence(conversation).messages
    drawn = groups(root, "msg")
    assert [int(g.get("data-index", -1)) for g in drawn] == [m.index for m in messages]
    assert len(groups(root, "lane")) == 6


def test_labels_are_escaped(conversation: dict[str, Any]) -> None:
    conversation["frames"]["customer"] = [{"type": "<script>&"}]
    text = " ".join(t.text or "" for t in parsed(conversation).iter(f"{{{NS['svg']}}}text"))
    assert "WS <script>&" in text  # parsed back: it was escaped in the markup


def test_every_step_has_a_header_even_one_that_sent_nothing(conversation: dict[str, Any]) -> None:
    conversation["steps"].insert(4, {**conversation["steps"][3], "title": "mitra.expect_frame", "started": 0.46})
    links = parsed(conversation).iter(f"{{{NS['svg']}}}a")
    headings = ["".join(a.itertext()) for a in links if a.get("class") == "step-heading"]
    assert [h.split("· ")[-1] for h in headings] == [
        "customer.foreground",
        "customer.request_payment",
        "test.advance_clock",
        "xendit.expect_callback",
        "mitra.expect_frame",
        "fcm.expect_push",
        "after the steps: clean-up",
    ]
    assert headings[-2].startswith("✗")


def test_the_failed_step_has_a_red_band_over_its_rows(conversation: dict[str, Any]) -> None:
    bands = [r for r in parsed(conversation).iter(f"{{{NS['svg']}}}rect") if r.get("id") == "failed-step"]
    assert len(bands) == 1 and bands[0].get("data-step") == "4"


def test_a_passed_run_has_no_band(conversation: dict[str, Any]) -> None:
    for step in conversation["steps"]:
        step["status"] = "passed"
    assert not [r for r in parsed(conversation).iter(f"{{{NS['svg']}}}rect") if r.get("id") == "failed-step"]


def test_virtual_times_read_as_minutes_since_the_first_reading() -> None:
    assert virtual_offset(840) == "v+14:00"
    assert virtual_offset(3661) == "v+1:01:01"
