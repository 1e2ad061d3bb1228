"""Which Xendit API keys the fake takes, and why it refuses the others.

Like stripe-mock with Stripe's test keys, the fake accepts by default any
test-mode secret key (``xnd_development_…``): a real backend's ``.env`` already
carries one, and the fake has no account behind it to protect.  Given a key
(``--secret-key``), it accepts that key only, for tests that want to see a
wrong key refused.  A live key (``xnd_production_…``) is always refused: it
is a real secret and has no business reaching a fake, so the log says so
loudly.  The reasons returned here are for the log; Xendit's 401 body never
says why.
"""

from __future__ import annotations

import base64
import binascii
import hmac

TEST_KEY_PREFIX = "xnd_development_"
PRODUCTION_KEY_PREFIX = "xnd_production_"
PUBLIC_KEY_PREFIX = "xnd_public_"


def basic_username(authorization: str | None) -> tuple[str | None, str]:
    """The key sent as HTTP Basic username (empty password), or None and why it could not be read."""
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None, "no HTTP Basic Authorization header (send the secret key as username, empty password)"
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, "the Basic credentials are not valid base64 of UTF-8"
    username, _, password = decoded.partition(":")
    if password:
        return None, "the Basic password must be empty (Xendit takes the key as username only)"
    return username, ""


def key_refusal(key: str, required: str | None) -> str | None:
    """Why ``key`` is refused (None when accepted); ``required`` None means any test-mode key."""
    if key.startswith(PRODUCTION_KEY_PREFIX):
        return f"production key {mask(key)} refused: the fake takes test-mode keys ({TEST_KEY_PREFIX}…) only"
    if key.startswith(PUBLIC_KEY_PREFIX):
        return f"public key {mask(key)} refused: the Invoice API needs a secret key"
    if required is not None:
        if hmac.compare_digest(key.encode(), required.encode()):
            return None
        return f"key {mask(key)} is not the one this fake was started with (--secret-key {mask(required)})"
    if key.startswith(TEST_KEY_PREFIX) and len(key) > len(TEST_KEY_PREFIX):
        return None
    return f"key {mask(key)} is not a test-mode secret key ({TEST_KEY_PREFIX}…)"


def mask(key: str) -> str:
    """Enough of a key to recognise it in a log, never the whole secret."""
    for prefix in (PRODUCTION_KEY_PREFIX, TEST_KEY_PREFIX, PUBLIC_KEY_PREFIX):
        if key.startswith(prefix) and len(key) > len(prefix) + 8:
            return f"{prefix}…{key[-4:]}"
    return repr(key) if len(key) <= 8 else f"{key[:4]}…{key[-4:]}"
