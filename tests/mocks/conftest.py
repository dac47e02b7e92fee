"""Fixtures for the mocks' tests: a fresh mocks app per test, trusting a client key, and a client that signs.

The mocks check every SOAP request against the signing profile (contracts/signing/README.md), so the tests call
them as a caller of the profile does: each SOAP post signed with a client key the app trusts.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from werkzeug.serving import BaseWSGIServer, make_server
from zeep import Plugin

from mocks import signing
from mocks.app import create_app
from tests.support.services import RunningMocks
from tests.support.soap import ServiceUnderTest, client_for

SOAP_PATHS = ("/fund", "/kz/fund", "/insurers/")


@pytest.fixture(scope="session")
def client_cert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The certificate of the tests' client key, which every mocks app of these tests trusts."""
    folder = tmp_path_factory.mktemp("client-keys")
    signing.ensure_key(folder, "client")
    return folder / "client.pem"


@pytest.fixture(scope="session")
def client_key(client_cert: Path) -> signing.SigningKey:
    """The tests' client key."""
    return signing.load_key(client_cert.with_suffix(".key"), client_cert)


def sign_request(body: bytes, key: signing.SigningKey, **options: Any) -> bytes:
    """A request envelope signed as a caller of the profile signs it (options as `mocks.signing.sign` takes)."""
    envelope = etree.fromstring(body, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    signing.sign(envelope, key, **options)
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="utf-8"))


class SigningClient(FlaskClient):
    """A test client that signs every SOAP post whose body is an unsigned envelope; anything else goes as it is."""

    signing_key: signing.SigningKey | None = None

    def open(self, *args: Any, **kwargs: Any) -> Any:
        data = kwargs.get("data")
        data = data.encode() if isinstance(data, str) else data
        path = args[0] if args and isinstance(args[0], str) else kwargs.get("path", "")
        soap_post = kwargs.get("method") == "POST" and path.startswith(SOAP_PATHS)
        if self.signing_key and soap_post and isinstance(data, bytes) and _unsigned_envelope(data):
            kwargs["data"] = sign_request(data, self.signing_key)
        return super().open(*args, **kwargs)


def _unsigned_envelope(raw: bytes) -> bool:
    try:
        root = etree.fromstring(raw, parser=etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    except etree.XMLSyntaxError:
        return False
    return root.tag == f"{{{signing.SOAP_ENV}}}Envelope" and root.find(f".//{{{signing.WSSE}}}Security") is None


def trusting_app(client_cert: Path, **config: Any) -> Flask:
    """A mocks app in testing mode that trusts the tests' client key."""
    return create_app({"TESTING": True, "TRUSTED_CERTIFICATES": str(client_cert), **config})


@pytest.fixture
def app(client_cert: Path) -> Flask:
    """A mocks app in testing mode, with its own keys, codes and back-ends, trusting the tests' client key."""
    return trusting_app(client_cert)


@pytest.fixture
def client(app: Flask, client_key: signing.SigningKey) -> FlaskClient:
    """A test client of `app` that signs its SOAP posts with the client key."""
    app.test_client_class = SigningClient
    test_client = app.test_client()
    assert isinstance(test_client, SigningClient)
    test_client.signing_key = client_key
    return test_client


@pytest.fixture(scope="module")
def signed_mocks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningMocks, signing.SigningKey]]:
    """A mocks server of one module's own on a loopback port, trusting a client key of its own."""
    folder = tmp_path_factory.mktemp("module-client")
    key = signing.ensure_key(folder, "client")
    server: BaseWSGIServer = make_server("127.0.0.1", 0, trusting_app(folder / "client.pem"), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="mocks", daemon=True)
    thread.start()
    yield RunningMocks(f"http://127.0.0.1:{server.port}", server), key
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


class SigningPlugin(Plugin):
    """Signs every request a zeep client sends."""

    def __init__(self, key: signing.SigningKey):
        self.key = key

    def egress(self, envelope: Any, http_headers: Any, operation: Any, binding_options: Any) -> Any:
        signing.sign(envelope, self.key)
        return envelope, http_headers


def signed_client(key: signing.SigningKey, kind: str, url: str, timeout: float = 10) -> ServiceUnderTest:
    """The strict zeep client of tests/support/soap.py, signing its requests with `key` (its last plugin)."""
    service = client_for(kind, url, timeout)
    service.service._client.plugins.append(SigningPlugin(key))
    return service
