"""Load profiles are validated before anything runs, every problem with its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from halo_sim.load.profile import LoadProfile, ProfileError, load_profile

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", sorted(p.stem for p in (ROOT / "load").glob("*.yaml")))
def test_every_shipped_profile_is_valid(name: str) -> None:
    profile, _ = load_profile(str(ROOT / "load" / f"{name}.yaml"))
    assert isinstance(profile, LoadProfile) and profile.slo


def _broken(tmp_path: Path, text: str) -> str:
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(ProfileError) as caught:
        load_profile(str(path))
    return str(caught.value)


def test_an_unknown_metric_names_its_file_and_line(tmp_path: Path) -> None:
    slos = "slo:\n  - {metric: pairing.offer, p95_ms: 10}\n  - {metric: pairng, p95_ms: 10}\n"
    text = "name: x\nusers: {customer: 1, mitra: 1}\n" + slos
    message = _broken(tmp_path, text)
    assert message.startswith(f"{tmp_path / 'broken.yaml'}:5: slo.1.metric:")


def test_a_misspelt_field_is_refused_not_ignored(tmp_path: Path) -> None:
    message = _broken(tmp_path, "name: x\nusers: {customer: 1, mitra: 1}\ncustomer:\n  mesages: 3\n")
    assert ":4: customer.mesages: Extra inputs are not permitted" in message


def test_an_slo_without_a_bound_is_refused(tmp_path: Path) -> None:
    message = _broken(tmp_path, "name: x\nusers: {customer: 1, mitra: 1}\nslo:\n  - metric: http\n")
    assert ":4: slo.0:" in message and "needs a bound" in message


def test_a_think_time_range_upside_down_is_refused(tmp_path: Path) -> None:
    message = _broken(tmp_path, "name: x\nusers: {customer: 1, mitra: 1}\ncustomer:\n  think_s: {min: 2, max: 1}\n")
    assert ":4: customer.think_s:" in message and "below min" in message


def test_bad_yaml_names_the_line(tmp_path: Path) -> None:
    assert ":2: not valid YAML" in _broken(tmp_path, "name: x\n\tusers: 1\n")


def test_an_unknown_profile_name_lists_the_known_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    with pytest.raises(ProfileError, match="no load profile 'nope'.*smoke"):
        load_profile("nope")
