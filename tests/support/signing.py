"""The signing keys of the test session: the gateway's, the mocks' targets', the conformance suite's, a stranger's.

Made once per session in a folder of its own, by the profile's file names (contracts/signing/README.md): each
mock target signs with `<target>.key` (fund, kz-fund, insurers-<code>), the gateway with `gateway.key`. The
environment of the session points the gateway's settings at them (`signing_environment`), so that every app and
command a test starts signs and trusts as the local stack does; `signing_for` gives an adapter of a test the same.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from lxml import etree

from adapters.signing import SOAP_ENV, WSU, Identity, Signing, TrustStore, development_keys, sign
from gateway.domain.reference import load_reference
from mocks.commands import signing_settings

GATEWAY, SUITE, STRANGER = "gateway", "suite", "stranger"


@functools.cache
def keys_folder() -> Path:
    """The session's keys, made on first use: every party's, and a stranger's nobody trusts."""
    folder = Path(tempfile.mkdtemp(prefix="epolicy-test-keys-"))
    for name in (GATEWAY, SUITE, STRANGER, *targets()):
        development_keys(folder, name)
    return folder


def targets() -> list[str]:
    """The key names of the mocks' targets: the fund, the Kazakh fund and every insurer the gateway knows."""
    return ["fund", "kz-fund", *(f"insurers-{code}" for code in sorted(load_reference().insurers))]


def certificate(name: str) -> Path:
    """The certificate of a party of the session."""
    return keys_folder() / f"{name}.pem"


def identity(name: str = GATEWAY) -> Identity:
    """A party's key and certificate, to sign with."""
    folder = keys_folder()
    return Identity.load(str(folder / f"{name}.key"), str(folder / f"{name}.pem"))


def trust(*names: str) -> TrustStore:
    """A trust store of the certificates of these parties."""
    return TrustStore.load(",".join(str(certificate(name)) for name in names))


def signing_environment() -> dict[str, str]:
    """The gateway's signing settings for the session's keys, as `epolicy stack` sets them for its own."""
    return signing_settings(keys_folder())


def mocks_config() -> dict[str, object]:
    """The mocks' signing settings for the session: their targets' keys, and whom they take requests from."""
    return {
        "SIGNING_KEYS": str(keys_folder()),
        "TRUSTED_CERTIFICATES": [str(certificate(GATEWAY)), str(certificate(SUITE))],
    }


def signing_for(addresses: Mapping[str, str] | str, target: str = "fund", *, name: str = GATEWAY) -> Signing:
    """The signing of an adapter of a test: `addresses` maps each address to its target's key name (or is the one
    address of `target`)."""
    chosen = {addresses: target} if isinstance(addresses, str) else dict(addresses)
    return Signing(identity(name), {address: trust(key) for address, key in chosen.items()})


def install_environment() -> None:
    """Point this process's gateway settings at the session's keys (values set by hand are kept)."""
    for variable, value in signing_environment().items():
        os.environ.setdefault(variable, value)


def insurer_signing(addresses: Mapping[str, str]) -> Signing:
    """The signing of an insurer directory of a test over the mocks: each insurer's address trusts its own key."""
    return signing_for({address: f"insurers-{code}" for code, address in addresses.items()})


def kz_signing(base_url: str) -> Signing:
    """The signing of a Kazakh fund adapter of a test over the mocks at `base_url`."""
    return signing_for(f"{base_url}/kz/fund", "kz-fund")


def signed_envelope(envelope: bytes, name: str = SUITE) -> bytes:
    """A sample request (an envelope as bytes) signed by a party of the session, as a client would send it."""
    root = etree.fromstring(envelope)
    sign(root, identity(name))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))


def unsealed(envelope: bytes) -> bytes:
    """A signed message without its seal (the header and the body's wsu:Id): to compare with an unsigned sample."""
    root = etree.fromstring(envelope)
    header = root.find(f"{{{SOAP_ENV}}}Header")
    if header is not None:
        root.remove(header)
    body = root.find(f"{{{SOAP_ENV}}}Body")
    if body is not None:
        body.attrib.pop(f"{{{WSU}}}Id", None)
    etree.cleanup_namespaces(root)
    return bytes(etree.tostring(root))


def mocks_environment() -> dict[str, str]:
    """The mocks' signing settings for the session as environment variables, for mocks started as a program."""
    config = mocks_config()
    trusted = config["TRUSTED_CERTIFICATES"]
    assert isinstance(trusted, list)
    return {
        "EPOLICY_MOCKS_SIGNING_KEYS": str(config["SIGNING_KEYS"]),
        "EPOLICY_MOCKS_TRUSTED_CERTIFICATES": ",".join(trusted),
    }
