"""Secrets a scenario may use (``{{ secrets.callback_token }}``) but a run never shows.

A scenario testing the Xendit webhook by hand needs the callback token in a
header; one probing the ``_test`` guard needs the test token.  Both belong to the
target, not to the scenario file, and both must stay out of everything a run
writes: the transcript, step summaries and failure details, the report JSON.
Redaction is by value, at recording time, so a secret echoed back by a server
or quoted in a failed expectation is hidden as well as one sent in a header.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from halo_sim.targets.base import Target
from simkit.errors import CapabilityMissing

MASK = "***"
MIN_TAIL = 6  # a secret cut by a summary's truncation still hides its first characters from this many on
# Name in templates → what it is; the value comes from the target (see secret_values).
SECRET_NAMES = {
    "callback_token": "the Xendit callback token the target's webhook checks (x-callback-token)",
    "test_token": "the token of the target's /internal/_test surface (x-test-token)",
    "xendit_secret_key": "the secret key fake Xendit's Invoice API takes (the http step's xendit_key sends it)",
}


def secret_values(target: Target) -> dict[str, str | None]:
    """Every secret of ``target`` by template name (None: the target holds none by that name)."""
    return {
        "callback_token": target.xendit_callback_token,
        "test_token": target.test_token,
        "xendit_secret_key": target.xendit_secret_key,
    }


class Secrets(Mapping[str, str]):
    """What ``{{ secrets.* }}`` reads: a known name the target lacks skips the scenario, saying which."""

    def __init__(self, target: Target) -> None:
        self._values = secret_values(target)
        self._target = target.name

    def __getitem__(self, name: str) -> str:
        value = self._values[name]
        if value is None:
            raise CapabilityMissing(f"target {self._target!r} holds no secret {name!r} ({SECRET_NAMES[name]})")
        return value

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:  # error messages show the mapping: never its values
        return "secrets(" + ", ".join(f"{n}={MASK if v else 'unset'}" for n, v in self._values.items()) + ")"


def redact(value: Any, secrets: tuple[str, ...]) -> Any:
    """``value`` with every secret (recursively through lists and mappings, keys too) shown as ``***``."""
    if not secrets:
        return value
    if isinstance(value, str):
        return _redact_text(value, secrets)
    if isinstance(value, Mapping):
        return {redact(k, secrets): redact(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v, secrets) for v in value]
    return value


def _redact_text(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        text = _cut_tail(text.replace(secret, MASK), secret)
    return text


def _cut_tail(text: str, secret: str) -> str:
    """A one-line summary cut mid-secret (``… abc12 ...``) would still show its start: hide that too."""
    for ellipsis in (" ...", "..."):
        if not text.endswith(ellipsis):
            continue
        body = text[: -len(ellipsis)]
        for size in range(len(secret) - 1, MIN_TAIL - 1, -1):
            if body.endswith(secret[:size]):
                return body[:-size] + MASK + ellipsis
    return text
