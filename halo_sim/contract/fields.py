"""Constrained field types shared by the request bodies, the query parameters and the client frames.

The real backend stores what a client sends in Postgres, whose ``text`` columns refuse NUL
characters and whose UTF-8 cannot carry a lone surrogate; Python's ``json.loads`` happily
produces both from ``"\\u0000"`` and ``"\\ud800"``.  A value the real backend would refuse must
be refused here too, at the edge, before it is stored: once stored, it breaks every response
that renders it (JSON encoding fails on a surrogate).  Sizes are bounded for the same reason a
real column has a length: so one request cannot make every later read slow or huge.
"""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any

from pydantic import AfterValidator, Field

_SURROGATE = re.compile("[\ud800-\udfff]")
METADATA_MAX_BYTES = 4096
METADATA_MAX_DEPTH = 8


def postgres_text(value: str) -> str:
    """Refuse what a Postgres text column refuses: NUL characters and (unencodable) lone surrogates."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    if _SURROGATE.search(value):
        raise ValueError("must not contain lone surrogates (invalid UTF-8)")
    return value


Clean = AfterValidator(postgres_text)

Id = Annotated[str, Field(min_length=1, max_length=64), Clean]
"""A row id or an invoice id: what a client echoes back, never longer than the ids the backend issues."""

PhoneRef = Annotated[str, Field(min_length=1, max_length=32), Clean]
"""A phone number naming an existing user (the OTP request checks the real format)."""

Name = Annotated[str, Field(max_length=100), Clean]
"""A display name or a topic."""

Secret = Annotated[str, Field(max_length=128), Clean]
"""A password or an OTP code."""

Label = Annotated[str, Field(max_length=200), Clean]
"""A short free text: a product, a topic sensitivity, a push title, a client's own message id."""

LongText = Annotated[str, Field(max_length=4000), Clean]
"""A chat message or a push body: at most 4000 characters."""

DeviceToken = Annotated[str, Field(min_length=1, max_length=4096), Clean]
"""An FCM registration token (about 160 characters today; generous for what Google may issue)."""


def json_metadata(value: dict[str, Any]) -> dict[str, Any]:
    """A small JSON object (a Postgres ``jsonb``): clean strings, finite numbers, bounded depth and size."""
    _check_json(value, 0)
    if len(json.dumps(value)) > METADATA_MAX_BYTES:
        raise ValueError(f"must be at most {METADATA_MAX_BYTES} bytes as JSON")
    return value


def _check_json(value: Any, depth: int) -> None:
    if depth > METADATA_MAX_DEPTH:
        raise ValueError(f"must be nested at most {METADATA_MAX_DEPTH} deep")
    if isinstance(value, str):
        postgres_text(value)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError("numbers must be finite")
    elif isinstance(value, dict):
        for key, item in value.items():
            postgres_text(key)
            _check_json(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_json(item, depth + 1)


Metadata = Annotated[dict[str, Any], AfterValidator(json_metadata)]
"""A free-form JSON object the backend stores as is (a payment's ``metadata``)."""
