"""What a parsed Camunda Form is made of: immutable dataclasses for the form, its components and
validation rules, and the error that refuses a form file."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from ..domain.errors import ValidationFailed
from .feel import FeelExpression, FeelTemplate

MIN_SCHEMA_VERSION = 16
INPUT_TYPES = frozenset({"textfield", "textarea", "number", "checkbox", "checklist", "radio", "select",
                         "taglist", "datetime"})
OPTION_TYPES = frozenset({"checklist", "radio", "select", "taglist"})
CONTAINER_TYPES = frozenset({"group", "dynamiclist"})
SUPPORTED_TYPES = INPUT_TYPES | CONTAINER_TYPES | {"text", "spacer", "separator", "button"}
_NUMBER_TEXT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")

Flag = bool | FeelExpression  # a static flag or an expression over the form data
NumberRule = Decimal | FeelExpression | None
LengthRule = int | FeelExpression | None


@dataclass(frozen=True)
class FormProblem:
    """One thing wrong with a form file; `component_id` and `key` locate it when it concerns a component."""

    source: str
    component_id: str | None
    key: str | None
    message: str

    def __str__(self) -> str:
        where = f" component {self.component_id}" if self.component_id else ""
        where += f" (key {self.key})" if self.key else ""
        return f"{self.source}{where}: {self.message}"


class FormError(ValidationFailed):
    """A form file that cannot be used; `problems` lists everything wrong with it."""

    def __init__(self, problems: Sequence[FormProblem]):
        self.problems = tuple(problems)
        located = {f"{p.source}#{p.component_id or p.key or 'form'}": p.message for p in self.problems}
        super().__init__("; ".join(str(p) for p in self.problems) or "invalid form", field_errors=located)


@dataclass(frozen=True)
class Option:
    """One choice of a select, radio, checklist or taglist."""

    label: str
    value: Any


@dataclass(frozen=True)
class ValidationRules:
    """A component's `validate` block; bounds may be FEEL expressions over the form data."""

    required: bool = False
    min: NumberRule = None
    max: NumberRule = None
    min_length: LengthRule = None
    max_length: LengthRule = None
    pattern: re.Pattern[str] | None = None
    pattern_error_message: str | None = None
    validation_type: str | None = None  # "email" or "phone"


@dataclass(frozen=True)
class Component:
    """One form-js component; fields that do not apply to its type keep their defaults."""

    type: str
    id: str
    key: str | None = None
    label: str | None = None
    description: str | None = None
    validate: ValidationRules = ValidationRules()
    values: tuple[Option, ...] = ()
    values_key: str | None = None
    values_expression: FeelExpression | None = None
    has_default: bool = False
    default_value: Any = None
    readonly: Flag = False
    disabled: Flag = False
    conditional_hide: Flag = False
    decimal_digits: int | None = None
    increment: Decimal | None = None
    subtype: str | None = None  # datetime: date | time | datetime
    disallow_passed_dates: bool = False
    path: str | None = None  # group and dynamiclist: where the children's values live
    children: tuple[Component, ...] = ()
    text: str | None = None
    template: FeelTemplate | None = None
    action: str | None = None  # button: submit | reset
    layout_row: str | None = None
    layout_columns: int | None = None
    properties: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), hash=False)

    @property
    def is_input(self) -> bool:
        return self.type in INPUT_TYPES


@dataclass(frozen=True)
class FormDefinition:
    """A parsed form; `components` is the top level, containers hold their `children`."""

    id: str
    schema_version: int
    components: tuple[Component, ...]
    source: str = ""

    def inputs(self) -> Iterator[Component]:
        """Every input component, depth first, including those inside groups and dynamic lists."""
        return _walk_inputs(self.components)


def _walk_inputs(components: Sequence[Component]) -> Iterator[Component]:
    for component in components:
        if component.is_input:
            yield component
        yield from _walk_inputs(component.children)


def to_decimal(value: Any) -> Decimal | None:
    """A number from int, Decimal, float (through its shortest text) or plain numeric text; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str) and _NUMBER_TEXT.match(value.strip()):
        try:
            return Decimal(value.strip())
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
            return None
    return None
