"""The mock social health insurance fund of Kazakhstan (ФСМС): insurance status by ИИН, behind kz/osms.wsdl."""

from __future__ import annotations

from mocks.kz.registry import KzRegistry
from mocks.kz.service import create_kz_service

__all__ = ["KzRegistry", "create_kz_service"]
