"""Live targets: a deployment named in a targets file, or just a URL.

``halo-sim.yaml`` (in the current folder or above, or ``--targets FILE``)::

    targets:
      local-node:
        base_url: http://127.0.0.1:3000
        test_token_env: HALO_TEST_TOKEN          # secrets come from the environment, never the file
        fcm_url: http://127.0.0.1:9099           # the backend's FCM_BASE_URL points at our fake
        xendit_url: http://127.0.0.1:9098        # its XENDIT_BASE_URL points at our fake
        xendit_callback_token_env: XENDIT_CALLBACK_TOKEN
        xendit_secret_key_env: XENDIT_SECRET_KEY       # sent by the http step's xendit_key to the fake
        capabilities: [test_endpoints, otp_readable]
        mitras: [{phone: "+6281100000001", password_env: MITRA_PASSWORD}]
        routes:                                  # remap semantic steps where the backend differs
          customer.request_payment: {path: /api/customer/payment-requests, rename: {duration_minutes: minutes}}

``fcm_inbox`` and ``xendit_fake`` are implied by ``fcm_url`` / ``xendit_url``.
A bare URL is a live Halo backend with its ``_test`` hooks (``HALO_TEST_TOKEN``
from the environment when set).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import httpx
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from halo_sim.targets.base import CAPABILITIES, MitraAccount, Target
from halo_sim.targets.routes import DEFAULT_ROUTES, Route
from simkit.errors import TargetError
from simkit.yamlsrc import load_located

TARGETS_FILE = "halo-sim.yaml"
URL_CAPABILITIES = frozenset({"test_endpoints", "otp_readable"})
Capability = Literal[
    "test_endpoints",
    "otp_readable",
    "seed_mitra",
    "state_dump",
    "virtual_clock",
    "fcm_inbox",
    "xendit_fake",
    "settings",
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MitraEntry(Strict):
    phone: str
    password: str | None = None
    password_env: str | None = None


class RouteOverride(Strict):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] | None = None
    path: str | None = None
    rename: dict[str, str] = Field(default_factory=dict)


class TargetProfile(Strict):
    """One deployment, as the targets file describes it."""

    base_url: str
    ws_url: str | None = None
    test_token_env: str | None = None
    fcm_url: str | None = None
    xendit_url: str | None = None
    xendit_callback_token_env: str | None = None
    xendit_secret_key_env: str | None = None
    capabilities: list[Capability] = Field(default_factory=list)
    mitras: list[MitraEntry] = Field(default_factory=list)
    routes: dict[str, RouteOverride] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_routes(self) -> TargetProfile:
        unknown = sorted(set(self.routes) - set(DEFAULT_ROUTES))
        if unknown:
            raise ValueError(f"routes {unknown} are not semantic actions (see docs/scenarios.md)")
        return self


class TargetsFile(Strict):
    targets: dict[str, TargetProfile]


def find_targets_file(start: Path | None = None) -> Path | None:
    """``halo-sim.yaml`` in the current folder or the nearest one above."""
    here = (start or Path.cwd()).resolve()
    return next((f / TARGETS_FILE for f in (here, *here.parents) if (f / TARGETS_FILE).is_file()), None)


def load_targets(path: Path) -> TargetsFile:
    """Read and validate a targets file; errors name the file and line."""
    try:
        located = load_located(path.read_text(encoding="utf-8"))
        return TargetsFile.model_validate(located.data)
    except (OSError, yaml.YAMLError) as exc:
        raise TargetError(f"{path}: cannot read the targets file: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        line = located.line_of(tuple(first["loc"]))
        where = ".".join(str(p) for p in first["loc"])
        raise TargetError(f"{path}:{line}: {where}: {first['msg']}") from None


DISCOVERY_PATH = "/internal/_test/discovery"
DISCOVERY_TIMEOUT_S = 5.0


def build_target(name: str, profile: TargetProfile, environ: Mapping[str, str] | None = None) -> Target:
    """A live :class:`Target` from a profile, its secrets read from the environment."""
    env = os.environ if environ is None else environ
    implied = {"fcm_inbox": profile.fcm_url, "xendit_fake": profile.xendit_url}
    capabilities = set(profile.capabilities) | {c for c, url in implied.items() if url}
    return Target(
        name=name,
        base_url=profile.base_url.rstrip("/"),
        ws_url=(profile.ws_url or "ws" + profile.base_url.rstrip("/")[4:]),
        capabilities=frozenset(capabilities),
        test_token=_secret(env, profile.test_token_env, name),
        fcm_url=profile.fcm_url,
        xendit_url=profile.xendit_url,
        xendit_callback_token=_secret(env, profile.xendit_callback_token_env, name),
        xendit_secret_key=_secret(env, profile.xendit_secret_key_env, name),
        routes=_routes(profile.routes),
        live=True,
        mitras=tuple(
            MitraAccount(m.phone, m.password or _secret(env, m.password_env, name) or "") for m in profile.mitras
        ),
    )


def _secret(env: Mapping[str, str], variable: str | None, target: str) -> str | None:
    if variable is None:
        return None
    if not env.get(variable):
        raise TargetError(f"target {target!r} reads a secret from ${variable}, which is not set; export it first")
    return env[variable]


def _routes(overrides: Mapping[str, RouteOverride]) -> dict[str, Route]:
    routes = dict(DEFAULT_ROUTES)
    for key, change in overrides.items():
        routes[key] = replace(routes[key], **{k: v for k, v in change.model_dump().items() if v})
    return routes


def url_target(url: str, environ: Mapping[str, str] | None = None, discover: bool = True) -> Target:
    """A bare URL: a live Halo backend with its test hooks, or a ``halo-sim serve`` that says what it offers.

    ``halo-sim serve`` answers ``GET /internal/_test/discovery`` with its capabilities, its fakes'
    URLs and its callback token, so the whole catalog runs against it without a targets file; any
    other backend (404 there) gets the capabilities every Halo backend with test hooks has.
    """
    env = os.environ if environ is None else environ
    base = url.rstrip("/")
    token = env.get("HALO_TEST_TOKEN") or None
    found = _discover(base, token) if discover else None
    return Target(
        name=base,
        base_url=base,
        ws_url="ws" + base[4:],
        capabilities=frozenset(found["capabilities"]) if found else URL_CAPABILITIES,
        test_token=token,
        fcm_url=found.get("fcm_url") if found else None,
        xendit_url=found.get("xendit_url") if found else None,
        xendit_callback_token=found.get("xendit_callback_token") if found else None,
        live=True,
    )


def _discover(base: str, token: str | None) -> dict[str, Any] | None:
    """The discovery answer of a halo-sim serve at ``base``; None for a backend without the route."""
    headers = {"x-test-token": token} if token else {}
    try:
        answer = httpx.get(f"{base}{DISCOVERY_PATH}", headers=headers, timeout=DISCOVERY_TIMEOUT_S)
    except httpx.HTTPError as exc:
        raise TargetError(
            f"the target is down or unreachable at {base} ({_why(exc)}): is its backend running?"
        ) from None
    if answer.status_code in (401, 403):
        code = _code(answer)
        raise TargetError(
            f"{base} refused its test hooks (HTTP {answer.status_code} {code}): set HALO_TEST_TOKEN to its test token"
        )
    if answer.status_code != 200:
        return None
    data = answer.json()
    return data if isinstance(data, dict) and isinstance(data.get("capabilities"), list) else None


def _why(exc: httpx.HTTPError) -> str:
    return "connection refused" if isinstance(exc, httpx.ConnectError) else type(exc).__name__


def _code(answer: httpx.Response) -> str:
    try:
        return str(answer.json().get("error", ""))
    except ValueError:
        return ""


def named_target(name: str, targets_file: Path | None = None) -> Target:
    """A target from the targets file (given, or found from the current folder up)."""
    path = targets_file or find_targets_file()
    if path is None:
        raise TargetError(
            f"unknown target {name!r}: no {TARGETS_FILE} here or above (use 'embedded', a URL, or --targets FILE)"
        )
    profiles = load_targets(path).targets
    if name not in profiles:
        raise TargetError(f"unknown target {name!r} in {path} (known: {', '.join(sorted(profiles)) or 'none'})")
    return build_target(name, profiles[name])


__all__ = ["CAPABILITIES", "build_target", "find_targets_file", "load_targets", "named_target", "url_target"]
