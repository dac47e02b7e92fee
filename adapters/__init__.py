"""SOAP clients (zeep over the WSDLs in contracts/) implementing the back-end ports the gateway declares."""

from __future__ import annotations

from adapters.fund import FundAdapter
from adapters.insurer import InsurerAdapter, InsurerDirectory
from adapters.soap import SoapClient, new_session
from gateway.correlation import correlation_id, set_correlation_id

__all__ = [
    "FundAdapter",
    "InsurerAdapter",
    "InsurerDirectory",
    "SoapClient",
    "correlation_id",
    "new_session",
    "set_correlation_id",
]
