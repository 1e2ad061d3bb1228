"""One TLS context for every outbound HTTP client.

Each ``httpx.AsyncClient`` built with defaults loads the CA bundle again (50–120 ms);
a scenario run makes several clients (the runner's, the backend's FCM and Xendit
clients, the fake's callback dispatcher).  Building the context once, with
httpx's own defaults (``SSL_CERT_FILE``/``SSL_CERT_DIR`` honoured), removes that
cost without weakening verification for real https targets.
"""

from __future__ import annotations

import ssl
from functools import lru_cache

import httpx


@lru_cache(maxsize=1)
def client_context() -> ssl.SSLContext:
    """The shared, verifying client context (built on first use)."""
    return httpx.create_ssl_context()
