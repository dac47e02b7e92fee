"""What the Kazakh profile needs from its back-end; adapters/kz.py implements it over contracts/kz/osms.wsdl.

Failures are those of gateway.ports: BackendRefusal (a business fault), BackendUnavailable (retry later) and
NotFound (the fund does not know the ИИН).
"""

from __future__ import annotations

from typing import Protocol

from gateway.kz.domain import InsuranceStatus


class KzFundPort(Protocol):
    """The social health insurance fund of Kazakhstan (ФСМС)."""

    def insurance_status(self, message_id: str, iin: str) -> InsuranceStatus:
        """Whether the holder of an ИИН is insured in ОСМС today; raises NotFound for an ИИН the fund lacks."""
        ...
