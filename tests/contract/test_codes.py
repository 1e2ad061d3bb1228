"""The refusal-code catalogue against the source: every code raised is listed, every listed code is raised."""

from __future__ import annotations

import re
from pathlib import Path

from halo_sim.contract.codes import BY_CODE, REFUSAL_CODES
from halo_sim.domain.pairing import AcceptOutcome

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "halo_sim" / "contract"

# ``code="X"`` (a raise) and ``code = "X"`` (an error class's default)
ERROR_CODE = re.compile(r'\bcode\s*=\s*"([A-Z][A-Z0-9_]+)"')
# ``"reason": "X"`` / ``answer["reason"] = "X"``: the reasons of an ignored Xendit callback
WEBHOOK_REASON = re.compile(r'"reason"\]?\s*[:=]\s*"([A-Z][A-Z0-9_]+)"')
# ``close(code=4401`` and ``close_all(self, code: int = 1001``
CLOSE_CODE = re.compile(r"\bcode(?::\s*int)?\s*=\s*(\d{4})\b")
# codes computed at run time, and the set each expression can produce
DYNAMIC = {"outcome.value.upper()": {o.value.upper() for o in AcceptOutcome if o is not AcceptOutcome.WON}}
DYNAMIC_CODE = re.compile(r"\bcode=([A-Za-z_][\w.]*(?:\(\))?)")


def _sources() -> dict[Path, str]:
    files = [*(ROOT / "halo_sim").rglob("*.py"), *(ROOT / "simkit").rglob("*.py")]
    return {p: p.read_text(encoding="utf-8") for p in files if CATALOGUE not in p.parents}


def _raised() -> dict[str, str]:
    """Every code the source can answer with, and the kind it is."""
    found: dict[str, str] = {}
    for text in _sources().values():
        found |= {c: "error" for c in ERROR_CODE.findall(text)}
        found |= {c: "webhook" for c in WEBHOOK_REASON.findall(text)}
        found |= {c: "ws_close" for c in CLOSE_CODE.findall(text)}
        for expression in DYNAMIC_CODE.findall(text):
            found |= {c: "error" for c in DYNAMIC.get(expression, ())}
    return found


def test_every_code_the_source_raises_is_in_the_catalogue() -> None:
    missing = sorted(set(_raised()) - set(BY_CODE))
    assert not missing, (
        f"add these to halo_sim/contract/codes.py (then run python -m halo_sim.contract.docs): {missing}"
    )


def test_every_catalogued_code_is_still_raised_somewhere() -> None:
    stale = sorted(set(BY_CODE) - set(_raised()))
    assert not stale, f"no longer raised anywhere; drop them from halo_sim/contract/codes.py: {stale}"


def test_each_code_is_listed_with_the_kind_the_source_uses_it_as() -> None:
    assert {c: BY_CODE[c].kind for c in _raised()} == _raised()


def test_codes_computed_at_run_time_come_from_a_known_expression() -> None:
    """A new ``code=<expression>`` must be taught to this test, or its codes would escape the catalogue."""
    expressions = {e for text in _sources().values() for e in DYNAMIC_CODE.findall(text)}
    assert expressions - {"code"} <= set(DYNAMIC), "teach DYNAMIC in this test which codes the new expression yields"


def test_codes_are_unique_and_error_statuses_match_their_class() -> None:
    from simkit import errors

    assert len(BY_CODE) == len(REFUSAL_CODES)
    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, errors.DomainError)]
    assert {c.code: c.status_code for c in classes} == {c.code: BY_CODE[c.code].status for c in classes}


def test_the_accept_refusals_are_the_domain_outcomes_upper_cased() -> None:
    assert {"OFFER_TAKEN", "NOT_OFFERED", "CLOSED", "MITRA_BUSY"} <= set(_raised())
