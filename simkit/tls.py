"""One TLS context for every outbound HTTP client, whose CA bundle is read at the first TLS handshake.

Each ``httpx.AsyncClient`` built with defaults loads the CA bundle again (50–120 ms);
a scenario run makes several clients (the runner's, the backend's FCM and Xendit
clients, the fake's callback dispatcher).  They all share this context.  Reading the
bundle costs 20–40 ms even once, and an embedded run speaks plain http on loopback
only, so the context reads it when it wraps its first socket: every https connection
is verified exactly as with httpx's defaults (``SSL_CERT_FILE``/``SSL_CERT_DIR``
honoured, else certifi), and a process that never opens one never pays for it.
"""

from __future__ import annotations

import os
import ssl
import sys
import threading
from functools import lru_cache
from typing import Any

_TRUST_LOCK = threading.Lock()


class DeferredTrustContext(ssl.SSLContext):
    """A verifying client context (hostname and certificate checked) that loads its CAs on first wrap."""

    trusted = False

    def trust(self) -> None:
        """Load the CA locations httpx would (once; the servers' loop and the caller's may race here)."""
        with _TRUST_LOCK:
            if self.trusted:
                return
            if os.environ.get("SSL_CERT_FILE"):
                self.load_verify_locations(cafile=os.environ["SSL_CERT_FILE"])
            elif os.environ.get("SSL_CERT_DIR"):
                self.load_verify_locations(capath=os.environ["SSL_CERT_DIR"])
            else:
                import certifi

                self.load_verify_locations(cafile=certifi.where())
            self.trusted = True

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        self.trust()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        self.trust()
        return super().wrap_bio(*args, **kwargs)


def deferred_trust_context() -> DeferredTrustContext:
    """A new context with ``ssl.create_default_context``'s client settings, CAs not yet loaded."""
    context = DeferredTrustContext(ssl.PROTOCOL_TLS_CLIENT)
    context.verify_mode = ssl.CERT_REQUIRED
    context.check_hostname = True
    keylog = os.environ.get("SSLKEYLOGFILE")
    if keylog and not sys.flags.ignore_environment:
        context.keylog_filename = keylog
    return context


@lru_cache(maxsize=1)
def client_context() -> ssl.SSLContext:
    """The shared, verifying client context (made on first use, its CAs read on first handshake)."""
    return deferred_trust_context()
