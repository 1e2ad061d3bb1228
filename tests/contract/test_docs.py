"""docs/contract.md carries the catalogue's tables, generated, never hand-edited."""

from __future__ import annotations

from pathlib import Path

import pytest

from halo_sim.contract import docs
from halo_sim.contract.codes import REFUSAL_CODES
from halo_sim.contract.frames import CLIENT_FRAMES, SERVER_FRAMES

MARKERS = (
    "# c\n<!-- frames:begin -->\nHAND-WRITTEN\n<!-- frames:end -->\ntext\n<!-- codes:begin -->\n<!-- codes:end -->\n"
)


CONTRACT_MD = Path(__file__).resolve().parents[2] / "docs" / "contract.md"


def test_docs_contract_md_is_generated_from_the_catalogue() -> None:
    assert docs.is_current(CONTRACT_MD), f"docs/contract.md is out of date with halo_sim/contract/; run: {docs.COMMAND}"


def test_the_frame_table_has_a_row_per_frame_with_its_fields_and_when() -> None:
    table = docs.frame_table()
    for name in [*CLIENT_FRAMES, *SERVER_FRAMES]:
        assert f"| `{name}` |" in table
    assert (
        "| server→client | `session_ended` | `session_id`: str, "
        "`reason`: time_over\\|ended_by_customer\\|ended_by_mitra | To both participants, when the session ends"
        in table
    )
    assert "`client_id?`: str |" in table  # optional: may be absent


def test_the_code_table_has_a_row_per_code_with_status_and_meaning() -> None:
    table = docs.code_table()
    assert len(table.splitlines()) == 2 + len(REFUSAL_CODES)
    assert "| `OTP_BLOCKED` | 429 | error | Too many wrong codes" in table


def test_write_replaces_only_the_marked_sections(tmp_path: Path) -> None:
    path = tmp_path / "contract.md"
    path.write_text(MARKERS)
    assert docs.main([str(path), "--check"]) == 1
    assert docs.main([str(path)]) == 0
    text = path.read_text()
    assert text.startswith("# c\n<!-- frames:begin -->\n| direction |") and "HAND-WRITTEN" not in text
    assert "<!-- frames:end -->\ntext\n<!-- codes:begin -->\n| code |" in text
    assert docs.main([str(path), "--check"]) == 0
    assert docs.write(path) is False


def test_a_document_without_markers_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "contract.md"
    path.write_text("# no markers\n")
    with pytest.raises(ValueError, match="frames:begin"):
        docs.write(path)
