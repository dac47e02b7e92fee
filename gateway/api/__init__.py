"""The REST API: one module per feature, each with its `routes` (gateway/api/operation.py), its operations declared
once, and `bp`, their blueprint.

A module may also have `SCHEMAS`, a dict of names to marshmallow schemas, so that the OpenAPI document refers to
its request and response schemas by those names.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# The app registers these blueprints and the OpenAPI document lists their operations, in this order.
MODULES = (
    "applications",
    "policies",
    "reference",
    "health",
    "family",
    "coverage",
    "documents",
    "kz",
    "clinics",
)


def api_modules() -> list[ModuleType]:
    """The API's feature modules."""
    return [importlib.import_module(f"gateway.api.{name}") for name in MODULES]
