"""The server's RS256 signing key: generated at start or read from a PEM file, published as a JWKS."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeyParameters, KeySet, RSAKey

ALGORITHM = "RS256"
KEY_SIZE = 2048
_PARAMETERS: KeyParameters = {"use": "sig", "alg": ALGORITHM}


@dataclass(frozen=True)
class SigningKey:
    """The private RSA key that signs every token; its `kid` is the RFC 7638 thumbprint."""

    private: RSAKey

    @property
    def kid(self) -> str:
        """Return the key id (RFC 7638 thumbprint)."""
        return self.private.thumbprint()

    def public_key_set(self) -> KeySet:
        """Return the public half as a joserfc key set, for verifying tokens."""
        public = RSAKey.import_key(self.public_jwks()["keys"][0])
        return KeySet([public])

    def public_jwks(self) -> dict[str, list[dict[str, Any]]]:
        """Return the JWKS document: public members only (kty, n, e) plus kid, use and alg."""
        return {"keys": [dict(self.private.as_dict(private=False))]}

    def sign(self, header: dict[str, Any], claims: dict[str, Any]) -> str:
        """Sign `claims` as a compact JWS with RS256 and this key's kid added to `header`."""
        return jwt.encode({**header, "alg": ALGORITHM, "kid": self.kid}, claims, self.private, [ALGORITHM])


def load_signing_key(key_file: str | None) -> SigningKey:
    """Read the RSA private key from the PEM file `key_file`, or generate a fresh one when it is None."""
    if key_file is None:
        return SigningKey(RSAKey.generate_key(KEY_SIZE, _PARAMETERS, private=True, auto_kid=True))
    try:
        key = RSAKey.import_key(Path(key_file).read_bytes(), _PARAMETERS)
    except (OSError, ValueError, JoseError) as error:
        raise ValueError(f"OAUTH_KEY_FILE {key_file!r}: cannot read an RSA private key in PEM: {error}") from error
    private_key = key.private_key
    if private_key is None:
        raise ValueError(f"OAUTH_KEY_FILE {key_file!r} holds a public key; the server needs the private key")
    if private_key.key_size < KEY_SIZE:
        raise ValueError(f"OAUTH_KEY_FILE {key_file!r}: the RSA key must have at least {KEY_SIZE} bits")
    key.ensure_kid()
    return SigningKey(key)
