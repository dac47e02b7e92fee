"""The interface files of the e-policy gateway: WSDL/XSD of the back-ends, the reason catalogue, samples.

The folder is shipped as package data so that the gateway, the adapters and the mocks all read the same files.
"""

from __future__ import annotations

from pathlib import Path

CONTRACTS_DIR = Path(__file__).resolve().parent


def path(*parts: str) -> Path:
    """Return the path of a file inside `contracts/`."""
    return CONTRACTS_DIR.joinpath(*parts)
