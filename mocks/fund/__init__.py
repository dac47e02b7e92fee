"""The mock fund (ТФОМС / ЕРЗЛ): a stateful registry that applies the registry's rules, behind fund.wsdl."""

from __future__ import annotations

from mocks.fund.registry import Registry
from mocks.fund.service import create_fund_service

__all__ = ["Registry", "create_fund_service"]
