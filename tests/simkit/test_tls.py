"""The shared TLS context: built once, and still verifying certificates."""

from __future__ import annotations

import ssl

from simkit.tls import client_context


def test_the_context_is_built_once_and_verifies_hostnames_and_certificates() -> None:
    context = client_context()
    assert client_context() is context
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
