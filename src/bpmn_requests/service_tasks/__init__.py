"""Named service tasks. `build_registry()` collects every module's DEFINITION(S)."""

from __future__ import annotations

import importlib

from .registry import Registry, ServiceTaskDefinition

MODULES = (
    "request_register", "request_route", "request_close", "approval_auto", "notify_customer",
    "kyc.validate", "invoice_lookup", "payment_match", "credit_score", "ledger_post", "task_sla",
    "payment_receive",
)


def build_registry() -> Registry:
    definitions: list[ServiceTaskDefinition] = []
    for name in MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        definitions.extend(getattr(module, "DEFINITIONS", None) or (module.DEFINITION,))
    return Registry(definitions)
