"""Intake: what a new request must say, by type. The one validation behind the portal, API and CLI."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .errors import ValidationFailed
from .money import CURRENCIES, parse_amount
from .requests import CHANNELS, PRIORITIES, REQUEST_TYPES

FIELDS = frozenset({
    "type", "customer_id", "description", "invoice_numbers", "payment_references", "disputed_amount",
    "requested_limit", "installments", "adjustment_kind", "channel", "priority", "currency",
})
CUSTOMER_ID = re.compile(r"^C-\d{3,10}$")
INVOICE_NUMBER = re.compile(r"^INV-[0-9A-Z-]{1,30}$")
PAYMENT_REFERENCE = re.compile(r"^PAY-[0-9A-Z-]{1,30}$")
ADJUSTMENT_KINDS = ("refund", "write_off")

# What each type needs besides customer and description.
REQUIRED_BY_TYPE: dict[str, tuple[str, ...]] = {
    "billing_dispute": ("invoice_numbers",),
    "payment_issue": ("payment_references",),
    "credit_onboarding": ("requested_limit",),
    "credit_adjustment": ("invoice_numbers", "adjustment_kind", "disputed_amount"),
    "debt_restructuring": ("installments",),
}


@dataclass(frozen=True)
class Intake:
    type: str
    customer_id: str
    description: str
    invoice_numbers: tuple[str, ...] = ()
    payment_references: tuple[str, ...] = ()
    disputed_amount: Decimal | None = None
    requested_limit: Decimal | None = None
    installments: int | None = None
    adjustment_kind: str | None = None
    channel: str = "cli"
    priority: str = "normal"
    currency: str = "USD"
    extra: dict[str, Any] = field(default_factory=dict)

    def process_data(self) -> dict[str, Any]:
        """The start variables of the lifecycle (processes/README.md)."""
        return {
            "request_type": self.type, "customer_id": self.customer_id, "description": self.description,
            "invoice_numbers": list(self.invoice_numbers), "payment_references": list(self.payment_references),
            "disputed_amount": self.disputed_amount, "requested_limit": self.requested_limit,
            "installments": self.installments, "adjustment_kind": self.adjustment_kind,
            "channel": self.channel, "priority": self.priority, "currency": self.currency,
        }


def _text(data: Mapping[str, Any], name: str, errors: dict[str, str], *, max_len: int) -> str:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        errors[name] = "is required"
        return ""
    if not isinstance(value, str):
        errors[name] = f"must be text, got {type(value).__name__}"
        return ""
    if len(value) > max_len:
        errors[name] = f"is longer than {max_len} characters"
    return value.strip()


def _codes(data: Mapping[str, Any], name: str, pattern: re.Pattern[str], errors: dict[str, str]) -> tuple[str, ...]:
    value = data.get(name)
    if value in (None, []):
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors[name] = "must be a list of strings"
        return ()
    codes = tuple(v.strip().upper() for v in value)
    bad = [c for c in codes if not pattern.match(c)]
    if bad:
        errors[name] = f"{', '.join(bad)} is not a valid reference"
    if len(set(codes)) != len(codes):
        errors[name] = "names the same reference twice"
    return codes


def _amount(data: Mapping[str, Any], name: str, errors: dict[str, str]) -> Decimal | None:
    if data.get(name) in (None, ""):
        return None
    try:
        return parse_amount(data[name], name)
    except ValidationFailed as exc:
        errors[name] = exc.message.removeprefix(f"{name} ")
        return None


def _choice(data: Mapping[str, Any], name: str, options: tuple[str, ...], default: str | None,
            errors: dict[str, str]) -> str | None:
    value = data.get(name, default)
    if value is None:
        return None
    if value not in options:
        errors[name] = f"must be one of {', '.join(options)}, got {value!r}"
    return str(value)


def _installments(data: Mapping[str, Any], errors: dict[str, str]) -> int | None:
    value = data.get("installments")
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        errors["installments"] = f"must be a whole number, got {value!r}"
        return None
    number = int(value)
    if not 2 <= number <= 60:
        errors["installments"] = f"must be between 2 and 60, got {number}"
    return number


def parse_intake(data: Mapping[str, Any], *, default_channel: str = "cli") -> Intake:
    """Check a submission and return it typed, or refuse naming every bad field."""
    if not isinstance(data, Mapping):
        raise ValidationFailed("a request must be a JSON object", field="request")
    errors: dict[str, str] = {f: "is not a field of a request" for f in data if f not in FIELDS}
    request_type = _choice(data, "type", REQUEST_TYPES, None, errors)
    if "type" not in data:
        errors["type"] = "is required"
    customer_id = _text(data, "customer_id", errors, max_len=20)
    if customer_id and not CUSTOMER_ID.match(customer_id):
        errors["customer_id"] = f"{customer_id!r} is not a customer id (C- and digits)"
    intake = Intake(
        type=request_type or "", customer_id=customer_id,
        description=_text(data, "description", errors, max_len=4000),
        invoice_numbers=_codes(data, "invoice_numbers", INVOICE_NUMBER, errors),
        payment_references=_codes(data, "payment_references", PAYMENT_REFERENCE, errors),
        disputed_amount=_amount(data, "disputed_amount", errors),
        requested_limit=_amount(data, "requested_limit", errors),
        installments=_installments(data, errors),
        adjustment_kind=_choice(data, "adjustment_kind", ADJUSTMENT_KINDS, None, errors),
        channel=_choice(data, "channel", CHANNELS, default_channel, errors) or default_channel,
        priority=_choice(data, "priority", PRIORITIES, "normal", errors) or "normal",
        currency=_choice(data, "currency", tuple(sorted(CURRENCIES)), "USD", errors) or "USD",
    )
    for name in REQUIRED_BY_TYPE.get(intake.type, ()):
        if not getattr(intake, name) and name not in errors:
            errors[name] = f"is required for a {intake.type} request"
    if errors:
        raise ValidationFailed.for_fields(errors)
    return intake
