"""``halo-sim target init``: a commented profile a new user starts from, and the shipped example."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from halo_sim.cli.app import app
from halo_sim.targets.profiles import build_target, load_targets

runner = CliRunner(env={"COLUMNS": "200"})
ROOT = Path(__file__).resolve().parents[2]


def _init(tmp_path: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["target", "init", *args, "--targets", str(tmp_path / "halo-sim.yaml")])
    return result.exit_code, result.output


def test_init_creates_a_commented_profile_that_loads_as_a_target(tmp_path: Path) -> None:
    code, out = _init(tmp_path, "staging", "--url", "https://staging.halo.example/")
    assert code == 0, out
    assert f"created target 'staging' in {tmp_path / 'halo-sim.yaml'}" in out
    text = (tmp_path / "halo-sim.yaml").read_text()
    assert "# test_token_env: HALO_TEST_TOKEN" in text and "password_env: STAGING_MITRA_PASSWORD" in text
    profile = load_targets(tmp_path / "halo-sim.yaml").targets["staging"]
    target = build_target("staging", profile, environ={})
    assert target.base_url == "https://staging.halo.example" and target.ws_url == "wss://staging.halo.example"
    assert target.capabilities == {"test_endpoints", "otp_readable"} and target.mitras == ()


def test_init_appends_to_an_existing_file_keeping_its_comments_and_indentation(tmp_path: Path) -> None:
    path = tmp_path / "halo-sim.yaml"
    path.write_text("# ours\ntargets:\n    local:   # four spaces here\n        base_url: http://127.0.0.1:3000\n")
    code, out = _init(tmp_path, "staging", "--url", "https://staging.halo.example")
    assert code == 0, out
    assert "added target 'staging'" in out
    text = path.read_text()
    assert text.startswith("# ours\ntargets:\n    local:   # four spaces here\n") and "\n    staging:\n" in text
    assert sorted(load_targets(path).targets) == ["local", "staging"]


def test_init_refuses_to_overwrite_a_profile_without_force_and_replaces_only_it_with_force(tmp_path: Path) -> None:
    assert _init(tmp_path, "staging", "--url", "https://old.example")[0] == 0
    assert _init(tmp_path, "local", "--url", "http://127.0.0.1:3000")[0] == 0
    before = (tmp_path / "halo-sim.yaml").read_text()
    code, out = _init(tmp_path, "staging", "--url", "https://new.example")
    assert code == 2
    assert (
        out.strip()
        == f"{tmp_path / 'halo-sim.yaml'} already has a target 'staging'; edit it, or replace it with --force"
    )
    assert (tmp_path / "halo-sim.yaml").read_text() == before
    code, out = _init(tmp_path, "staging", "--url", "https://new.example", "--force")
    assert code == 0 and "replaced target 'staging'" in out
    targets = load_targets(tmp_path / "halo-sim.yaml").targets
    assert targets["staging"].base_url == "https://new.example"
    assert targets["local"].base_url == "http://127.0.0.1:3000"
    assert "old.example" not in (tmp_path / "halo-sim.yaml").read_text()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["staging", "--url", "staging.halo.example"], "--url 'staging.halo.example' is not a backend's base URL"),
        (["embedded", "--url", "http://127.0.0.1:3000"], "'embedded' cannot name a target"),
        (["my staging", "--url", "http://127.0.0.1:3000"], "'my staging' cannot name a target"),
    ],
)
def test_init_refuses_a_bad_url_or_name_in_one_line_and_writes_nothing(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    code, out = _init(tmp_path, *args)
    assert code == 2 and out.strip().startswith(expected) and len(out.strip().splitlines()) == 1
    assert not (tmp_path / "halo-sim.yaml").exists()


def test_init_leaves_a_file_that_does_not_load_alone(tmp_path: Path) -> None:
    path = tmp_path / "halo-sim.yaml"
    path.write_text("targets:\n  local: {base_url: http://127.0.0.1:3000, colour: blue}\n")
    code, out = _init(tmp_path, "staging", "--url", "https://staging.halo.example")
    assert code == 2 and "colour" in out
    assert path.read_text() == "targets:\n  local: {base_url: http://127.0.0.1:3000, colour: blue}\n"


def test_the_shipped_example_profiles_load_and_read_their_secrets_from_the_environment() -> None:
    profiles = load_targets(ROOT / "halo-sim.example.yaml").targets
    assert {"staging", "local-node"} <= set(profiles)
    for name, profile in profiles.items():
        named = [profile.test_token_env, profile.xendit_callback_token_env, *(m.password_env for m in profile.mitras)]
        env = {variable: "from-the-environment" for variable in named if variable}
        target = build_target(name, profile, environ=env)
        assert all(m.password == "from-the-environment" for m in target.mitras)  # no secret is in the file
    assert profiles["staging"].test_token_env == "HALO_TEST_TOKEN" and len(profiles["staging"].mitras) == 2
