"""The FEEL subset that Camunda Forms use for `conditional.hide`, readonly flags and text templates.

Supported: literals (numbers as Decimal, strings, true, false, null), variables and dotted properties,
lists `[a, b]`, comparisons (= != < <= > >=), `and`, `or`, `not(...)`, parentheses, `x in [a, b]`,
`x in (a, b)` and `list contains(list, x)`. Anything else is refused at compile time with its position,
so a form is never evaluated with a meaning it does not have. Semantics follow FEEL (DMN 1.4): missing
variables are null, `null = null` is true, ordering with null or across types gives null, and `and`/`or`
use three-valued logic.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from .feel_syntax import Binary, Call, FeelError, ListOf, Literal, Node, Path, parse

__all__ = ["FeelError", "FeelExpression", "FeelTemplate", "compile_feel", "compile_template", "display",
           "feel_value"]


def feel_value(value: Any) -> Any:
    """A Python value as FEEL sees it: every number a Decimal (floats through their shortest text)."""
    if value is None or isinstance(value, bool | str | Decimal | date):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if value == value and abs(value) != float("inf") else None
    if isinstance(value, list | tuple):
        return [feel_value(item) for item in value]
    return value


def _lookup(data: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    value: Any = data
    for name in names:
        if not isinstance(value, Mapping):
            return None
        value = value.get(name)
    return feel_value(value)


def _equal(a: Any, b: Any) -> bool | None:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b if isinstance(a, bool) and isinstance(b, bool) else None
    if isinstance(a, list) and isinstance(b, list):
        return _all_true([_equal(x, y) for x, y in zip(a, b, strict=False)]) if len(a) == len(b) else False
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        if set(a) != set(b):
            return False
        return _all_true([_equal(feel_value(a[k]), feel_value(b[k])) for k in a])
    if type(a) is type(b) or (isinstance(a, Decimal) and isinstance(b, Decimal)):
        return bool(a == b)
    return None


def _all_true(results: list[bool | None]) -> bool | None:
    if all(result is True for result in results):
        return True
    return False if any(result is False for result in results) else None


def _order(op: str, a: Any, b: Any) -> bool | None:
    comparable = (isinstance(a, Decimal) and isinstance(b, Decimal)) or (
        type(a) is type(b) and isinstance(a, str | date))
    if not comparable:
        return None
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]  # type: ignore[no-any-return]


def _member(needle: Any, items: list[Any]) -> bool | None:
    results = [_equal(needle, item) for item in items]
    if any(result is True for result in results):
        return True
    return False if all(result is False for result in results) else None


def _logic(op: str, left: Any, right: Any) -> bool | None:
    values = [v if isinstance(v, bool) else None for v in (left, right)]
    decisive = op == "or"  # `true` decides an `or`, `false` decides an `and`
    if decisive in values:
        return decisive
    return None if None in values else not decisive


def _eval(node: Node, data: Mapping[str, Any]) -> Any:
    match node:
        case Literal(value):
            return value
        case Path(names):
            return _lookup(data, names)
        case ListOf(items):
            return [_eval(item, data) for item in items]
        case Binary(op, left, right):
            return _binary(op, _eval(left, data), _eval(right, data))
        case Call("not", (operand,)):
            value = _eval(operand, data)
            return not value if isinstance(value, bool) else None
        case Call(_, (items, needle)):
            target = _eval(items, data)
            return _member(_eval(needle, data), target) if isinstance(target, list) else None
    raise AssertionError(f"unknown FEEL node {node!r}")  # pragma: no cover - the parser builds only the above


def _binary(op: str, a: Any, b: Any) -> Any:
    if op in ("and", "or"):
        return _logic(op, a, b)
    if op == "in":
        return _member(a, b) if isinstance(b, list) else _equal(a, b)
    if op in ("=", "!="):
        same = _equal(a, b)
        return same if same is None or op == "=" else not same
    return _order(op, a, b)


@dataclass(frozen=True)
class FeelExpression:
    """A compiled expression; `source` is the text as written (with its leading `=`, if any)."""

    source: str
    _tree: Node

    def evaluate(self, data: Mapping[str, Any]) -> Any:
        """The FEEL value of the expression over `data` (numbers come back as Decimal)."""
        return _eval(self._tree, data)

    def is_true(self, data: Mapping[str, Any]) -> bool:
        """True only when the expression evaluates to `true`; null and non-booleans count as false."""
        return self.evaluate(data) is True


def compile_feel(expression: str) -> FeelExpression:
    """Compile `expression` (a leading `=` is allowed) or raise FeelError naming the position."""
    start = 1 if expression.startswith("=") else 0
    return FeelExpression(expression, parse(expression, start))


_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


@dataclass(frozen=True)
class FeelTemplate:
    """A text with `{{expression}}` placeholders (form-js templating), or a whole `=expression`."""

    source: str
    parts: tuple[str | FeelExpression, ...]

    def render(self, data: Mapping[str, Any]) -> str:
        """The text with every placeholder replaced by its value as plain text (not escaped)."""
        return "".join(part if isinstance(part, str) else display(part.evaluate(data)) for part in self.parts)


def compile_template(text: str) -> FeelTemplate:
    """Compile a text component's content; block helpers (`{{#if}}`, `{{#loop}}`) are refused."""
    if text.startswith("="):
        return FeelTemplate(text, (compile_feel(text),))
    parts: list[str | FeelExpression] = []
    last = 0
    for match in _PLACEHOLDER.finditer(text):
        inner = match.group(1)
        if inner.strip().startswith(("#", "/")):
            raise FeelError("template blocks ({{#if}}, {{#loop}}) are not supported",
                            expression=text, position=match.start())
        # Compile within the whole text so that positions point into the text the analyst wrote.
        node = parse(text, match.start(1), match.end(1))
        parts += [text[last: match.start()], FeelExpression(inner, node)]
        last = match.end()
    parts.append(text[last:])
    return FeelTemplate(text, tuple(part for part in parts if part != ""))


def display(value: Any) -> str:
    """A FEEL value as a person reads it: null is empty, numbers in plain notation, lists comma-separated."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return ", ".join(display(item) for item in value)
    return str(value)
