"""Money is a Decimal with a currency; never a float."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from .errors import ValidationFailed

CENT = Decimal("0.01")
DEFAULT_CURRENCY = "USD"
CURRENCIES = frozenset({"USD", "EUR", "GBP", "CAD", "CHF", "JPY", "AUD"})
# Commas only as thousands separators ("12,500.00"): "12,50" is a decimal comma, not 1250.
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")


def parse_amount(value: object, field: str, *, allow_zero: bool = False) -> Decimal:
    """A positive amount with at most two decimals, from a string, int or Decimal (floats are refused)."""
    if isinstance(value, bool) or value is None or isinstance(value, float):
        raise ValidationFailed(f"{field} must be a decimal amount written as a string or integer, "
                               f"got {value!r}", field=field)
    text = str(value).strip()
    if "," in text and not _GROUPED.match(text):
        raise ValidationFailed(f"{field} is not a valid amount: {value!r} (write 1250.50 or 1,250.50)",
                               field=field)
    try:
        amount = Decimal(text.replace(",", ""))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(f"{field} is not a valid amount: {value!r}", field=field) from None
    if not amount.is_finite():
        raise ValidationFailed(f"{field} is not a valid amount: {value!r}", field=field)
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValidationFailed(f"{field} must be greater than zero, got {value}", field=field)
    if amount != amount.quantize(CENT):
        raise ValidationFailed(f"{field} has more than two decimals: {value}", field=field)
    if amount >= Decimal("1e13"):
        raise ValidationFailed(f"{field} is too large: {value}", field=field)
    return amount.quantize(CENT)


def quantize(amount: Decimal) -> Decimal:
    """Round to cents, banker's rounding (what ledgers use)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, order=True)
class Money:
    amount: Decimal
    currency: str = DEFAULT_CURRENCY

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError("Money.amount must be a Decimal")
        object.__setattr__(self, "amount", quantize(self.amount))

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} and {other.currency}")

    def __str__(self) -> str:
        return f"{self.currency} {self.amount:,.2f}"
