"""The shared TLS context: built once, still verifying, its CA bundle read at the first handshake only."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

import certifi
import pytest

from simkit.tls import client_context, deferred_trust_context


def test_the_context_is_built_once_and_verifies_hostnames_and_certificates() -> None:
    context = client_context()
    assert client_context() is context
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname


def test_no_ca_is_read_until_a_connection_is_wrapped_then_certifis_bundle_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    context = deferred_trust_context()
    assert context.cert_store_stats()["x509_ca"] == 0
    context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="example.com")
    expected = ssl.create_default_context(cafile=certifi.where()).cert_store_stats()["x509_ca"]
    assert context.cert_store_stats()["x509_ca"] == expected > 0


def test_a_wrapped_socket_reads_the_bundle_too_and_ssl_cert_file_is_honoured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = certifi.contents()
    one_ca = bundle[bundle.index("-----BEGIN CERTIFICATE-----") :]
    one_ca = one_ca[: one_ca.index("-----END CERTIFICATE-----")] + "-----END CERTIFICATE-----\n"
    (tmp_path / "ca.pem").write_text(one_ca)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    context = deferred_trust_context()
    left, right = socket.socketpair()
    with left, right, context.wrap_socket(left, server_hostname="example.com", do_handshake_on_connect=False):
        assert context.cert_store_stats()["x509_ca"] == 1
