"""``halo-sim target init``: a commented profile written into the targets file.

A new user knows one thing about a deployment, its URL; the profile written here names
everything else a target can have, each line commented with what it enables, so the
next step is uncommenting rather than reading the source.  The file is edited as text
(its comments are the point) and read back before it is written: an edit that would not
load is refused and the file is left as it was.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from pydantic import ValidationError

from halo_sim.targets.profiles import TARGETS_FILE, TargetsFile, load_targets
from simkit.errors import TargetError

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
RESERVED = frozenset({"embedded"})

HEADER = f"""\
# {TARGETS_FILE}: where halo-sim runs scenarios besides the embedded default (docs/targets.md).
# Secrets never go in this file: a profile names the environment variable that holds each one.
# Check a profile with `halo-sim target check NAME`; run with `halo-sim suite --target NAME -n 1`.
targets:
"""

PROFILE = """\
{i}{name}:
{i}{i}base_url: {url}
{i}{i}# ws_url: {ws}   # only if its WebSocket is on another host; /ws is appended
{i}{i}# x-test-token of its /internal/_test hooks, read from this variable (unset there: loopback only)
{i}{i}# test_token_env: HALO_TEST_TOKEN
{i}{i}# Where its FCM_BASE_URL and XENDIT_BASE_URL point when they point at our fakes
{i}{i}# (`halo-sim fake fcm`, `halo-sim fake xendit`): enables the fcm.* and xendit.* steps.
{i}{i}# fcm_url: http://{host}:9099
{i}{i}# xendit_url: http://{host}:9098
{i}{i}# xendit_callback_token_env: XENDIT_CALLBACK_TOKEN   # the token its webhook checks
{i}{i}# xendit_secret_key_env: XENDIT_SECRET_KEY   # the fake's Invoice API key (the http step's xendit_key)
{i}{i}# What else it can do: seed_mitra, state_dump, virtual_clock (halo-sim serve can all of them).
{i}{i}capabilities: [test_endpoints, otp_readable]
{i}{i}# Without seed_mitra, mitra actors log in as these test mitras (one per mitra actor; too few: skip).
{i}{i}mitras: []
{i}{i}# mitras:
{i}{i}#   - {{phone: "+6281100000001", password_env: {var}_MITRA_PASSWORD}}
"""


def profile_text(name: str, url: str, indent: str = "  ") -> str:
    """The commented profile of ``name`` at ``url``, indented under ``targets:``."""
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    var = re.sub(r"[^A-Za-z0-9]", "_", name).upper()
    base = url.rstrip("/")
    return PROFILE.format(i=indent, name=name, url=base, ws="ws" + base[4:], host=host, var=var)


def check_name_and_url(name: str, url: str) -> None:
    """Refuse a name that cannot be a profile's and a URL that is not a backend's base URL."""
    if not NAME.fullmatch(name) or name in RESERVED:
        raise TargetError(f"{name!r} cannot name a target: use letters, digits, '-', '_' or '.' (not 'embedded')")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise TargetError(f"--url {url!r} is not a backend's base URL: use http(s)://HOST[:PORT], e.g. {_EXAMPLE}")


_EXAMPLE = "https://staging.halo.example"


def add_profile(path: Path, name: str, url: str, force: bool = False) -> str:
    """Write ``name``'s profile into ``path`` (created, appended to, or replaced with ``force``).

    Returns what happened ("created", "added", "replaced"); raises :class:`TargetError`
    with the reason when the profile exists (without ``force``) or the file does not load.
    """
    check_name_and_url(name, url)
    if not path.exists():
        _write(path, HEADER + profile_text(name, url), name)
        return "created"
    text = path.read_text(encoding="utf-8")
    profiles = load_targets(path).targets  # a file that does not load is the user's to fix first
    indent = _indent(text)
    if name not in profiles:
        _write(path, text + ("" if text.endswith("\n") else "\n") + profile_text(name, url, indent), name)
        return "added"
    if not force:
        raise TargetError(f"{path} already has a target {name!r}; edit it, or replace it with --force")
    _write(path, _replaced(text, name, profile_text(name, url, indent), indent), name)
    return "replaced"


def _indent(text: str) -> str:
    """The indentation of the profiles under ``targets:`` (two spaces when there are none yet)."""
    found = re.search(r"^targets:[ \t]*(?:#.*)?\n(?:[ \t]*(?:#.*)?\n)*([ \t]+)\S", text, re.MULTILINE)
    return found.group(1) if found else "  "


def _replaced(text: str, name: str, profile: str, indent: str) -> str:
    """``text`` with ``name``'s block (its key line and everything deeper) swapped for ``profile``."""
    lines = text.splitlines(keepends=True)
    head = re.compile(rf"^{re.escape(indent)}{re.escape(name)}\s*:")
    start = next(i for i, line in enumerate(lines) if head.match(line))
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or _deeper(lines[end], indent)):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1  # blank lines after the block stay where they were
    return "".join(lines[:start]) + profile + "".join(lines[end:])


def _deeper(line: str, indent: str) -> bool:
    return len(line) - len(line.lstrip(" \t")) > len(indent)


def _write(path: Path, text: str, name: str) -> None:
    """Write ``text`` only if it loads as a targets file with ``name`` in it."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TargetError(f"{path}: adding {name!r} would not parse ({exc}); add it by hand") from None
    try:
        written = TargetsFile.model_validate(data)
    except ValidationError:
        written = None
    if written is None or name not in written.targets:
        raise TargetError(f"{path}: its layout does not take an appended profile; add {name!r} by hand")
    path.write_text(text, encoding="utf-8")
