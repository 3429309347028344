"""Camunda's expression languages over task data: JUEL (`${...}`, Camunda 7) and FEEL (`=...`, Camunda 8).

Each expression is parsed into our own syntax tree (`expression_syntax.py`) and evaluated here with the
meaning Camunda gives it; user text never reaches Python's eval. What the subsets leave out is refused with
its position before anything runs.

JUEL (EL 2.2 as JUEL implements it): an unknown variable is an error; `==` and `<` coerce as EL does (with a
number, the other side becomes a number: a string is parsed, a boolean is an error; with a boolean, a
string becomes a boolean; else strings compare); null equals only null and orders with nothing; `&&`, `||`,
`!` coerce to boolean (null and "" are false); `empty` is true for null, "" and empty lists and maps; null
in arithmetic is 0. Numbers are Decimals: `+ - *` are exact, and `/` keeps the dividend's scale (HALF_UP)
when a Decimal takes part, as BigDecimal.divide does; integers stay integers.
FEEL (DMN 1.4 as feel-scala evaluates it): a missing variable is null; `=` is equality and null = null;
comparing across types or with null gives null; and/or are three-valued; numbers are Decimals (34 digits,
as decimal128); division by zero is null; `+` also joins strings. A FEEL condition holds only when true.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, ROUND_HALF_EVEN, Context, Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any

from .expression_syntax import (
    Binary,
    Call,
    ContextOf,
    ExpressionRefused,
    IfThen,
    ListOf,
    Literal,
    Member,
    Name,
    Node,
    Unary,
    parse_feel,
    parse_juel,
)

__all__ = ["FEEL", "JUEL", "PYTHON", "ExpressionFailed", "ExpressionRefused", "check_expression",
           "condition_holds", "evaluate", "is_camunda_expression", "language_of", "normalized"]

JUEL, FEEL, PYTHON = "JUEL", "FEEL", "Python"
_DECLARED = {"juel": JUEL, "feel": FEEL, "python": PYTHON, "py": PYTHON}
_FEEL_MATH = Context(prec=34, rounding=ROUND_HALF_EVEN)
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)  # + - * of BigDecimals never round
_COMPARE = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
            ">=": operator.ge}
_JAVA_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


class ExpressionFailed(ExpressionRefused):
    """A valid expression that cannot be evaluated over this data (JUEL: unknown variable, bad coercion)."""


def language_of(text: str, declared: str | None = None) -> str:
    """JUEL, FEEL or Python: the declared `language` attribute if any, else by form (`${}`, `=`, other)."""
    if declared:
        found = _DECLARED.get(declared.strip().lower())
        if found is None:
            raise ExpressionRefused(f"expressions in {declared!r} are not supported (JUEL, FEEL or Python)",
                                    expression=text.strip(), position=0, language=declared)
        return found
    source = text.strip()
    if source.startswith(("${", "#{")) and source.endswith("}"):
        return JUEL
    return FEEL if source.startswith("=") else PYTHON


def is_camunda_expression(text: str) -> bool:
    """True for `${...}` / `#{...}` (JUEL) and `=...` (FEEL), forms a Python expression never takes."""
    return language_of(text) != PYTHON


def normalized(text: str, declared: str | None = None) -> str:
    """`text` in the form that routes it to its language: FEEL with its `=` (language="feel" may omit it)."""
    language, source = language_of(text, declared), text.strip()
    written = language_of(source)
    if language == FEEL and written == PYTHON:
        return "=" + source
    if language != written:
        raise ExpressionRefused(f"the expression is declared {language} but written as {written}",
                                expression=source, position=0, language=language)
    return source


def check_expression(text: str, language: str | None = None) -> None:
    """Refuse (ExpressionRefused, naming the position) a JUEL or FEEL expression outside the subset.

    `language` is the element's `language` attribute, if any. Python passes here: the sandbox
    (`scripting.compile_expression`) checks Python.
    """
    source = normalized(text, language)
    if language_of(source) != PYTHON:
        _compiled(source)


def evaluate(text: str, data: Mapping[str, Any]) -> Any:
    """The value of a JUEL (`${...}`) or FEEL (`=...`) expression over `data`."""
    source = text.strip()
    language, tree = _compiled(source)
    try:
        value = _juel(tree, data) if language == JUEL else _feel(tree, data)
    except _Failure as exc:
        node = exc.node or tree
        raise ExpressionFailed(exc.message, expression=source, position=node.pos, language=language) from None
    return _number(value) if isinstance(value, float) else value  # JUEL's doubles leave as Decimals


def condition_holds(text: str, value: Any) -> bool:
    """Whether an evaluated sequence-flow condition lets the token pass, with its language's meaning."""
    language = language_of(text)
    if language == FEEL:
        return value is True  # null (and anything but true) counts as false
    if language == JUEL and not isinstance(value, bool):  # Camunda 7 refuses a non-boolean condition
        raise ExpressionFailed(f"the condition gives {value!r}, not true or false", expression=text.strip(),
                               position=0, language=JUEL)
    return bool(value)


@lru_cache(maxsize=4096)
def _compiled(source: str) -> tuple[str, Node]:
    language = language_of(source)
    if language == JUEL:
        return JUEL, parse_juel(source, 2, len(source) - 1)
    if language == FEEL:
        return FEEL, parse_feel(source, 1, len(source))
    raise ExpressionRefused("not a JUEL (${...}) or FEEL (=...) expression", expression=source, position=0,
                            language=PYTHON)


class _Failure(Exception):
    def __init__(self, message: str, node: Node | None = None):
        super().__init__(message)
        self.message, self.node = message, node


def _number(value: Any) -> Decimal | None:
    """A number as a Decimal (a float through its shortest text); None for anything else, booleans too."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    if isinstance(value, float):
        return Decimal(repr(value)) if value == value and abs(value) != float("inf") else None
    return Decimal(value)


# --- JUEL ---------------------------------------------------------------------------------------------

def _to_number(value: Any) -> Decimal:
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, str) and _JAVA_NUMBER.fullmatch(value.strip()):
        return Decimal(value.strip())
    number = _number(value)
    if number is None:
        raise _Failure(f"cannot coerce {value!r} to a number")
    return number


def _to_boolean(value: Any) -> bool:
    if value is None or value == "":
        return False
    if isinstance(value, bool | str):
        return value if isinstance(value, bool) else value.lower() == "true"
    raise _Failure(f"cannot coerce {value!r} to a boolean")


def _to_string(value: Any) -> str:
    return "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def _juel_compare(op: str, a: Any, b: Any) -> bool:
    if a is None or b is None:  # null equals only null and orders with nothing
        both = a is None and b is None
        return {"==": both, "!=": not both, "<=": both, ">=": both}.get(op, False)
    equality, x, y = op in ("==", "!="), a, b  # type: tuple[bool, Any, Any]
    if _number(a) is not None or _number(b) is not None:
        x, y = _to_number(a), _to_number(b)
    elif equality and (isinstance(a, bool) or isinstance(b, bool)):
        x, y = _to_boolean(a), _to_boolean(b)
    elif isinstance(a, str) or isinstance(b, str):
        x, y = _to_string(a), _to_string(b)
    try:
        return bool(_COMPARE[op](x, y))
    except TypeError:
        raise _Failure(f"cannot compare {type(a).__name__} with {type(b).__name__}") from None


def _juel_arithmetic(op: str, a: Any, b: Any) -> Any:
    x, y = _to_number(a), _to_number(b)
    if op in ("/", "%") and y == 0:
        raise _Failure("division by zero")
    if op == "/":
        # With a BigDecimal, BigDecimal.divide(y, ROUND_HALF_UP): the dividend's scale. Else as decimal128.
        return _divide_half_up(x, y) if isinstance(a, Decimal) or isinstance(b, Decimal) else _FEEL_MATH.divide(x, y)
    result = {"+": _EXACT.add, "-": _EXACT.subtract, "*": _EXACT.multiply, "%": _EXACT.remainder}[op](x, y)
    return int(result) if _integral(a) and _integral(b) else result


def _integral(value: Any) -> bool:
    """A Java long in EL arithmetic: an integer, null, or a string without '.', 'e' or 'E'."""
    if isinstance(value, str):
        return not any(c in value for c in ".eE")
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def _divide_half_up(x: Decimal, y: Decimal) -> Decimal:
    exponent = x.as_tuple().exponent
    exponent = exponent if isinstance(exponent, int) else 0
    ratio = Fraction(x) / Fraction(y) / Fraction(10) ** exponent
    whole, rest = divmod(abs(ratio.numerator), ratio.denominator)
    whole += 2 * rest >= ratio.denominator
    return Decimal(-whole if ratio < 0 else whole).scaleb(exponent, _EXACT)


def _juel_member(base: Any, key: Any) -> Any:
    if base is None:
        return None
    if isinstance(base, Mapping):
        return base.get(key)
    if isinstance(base, list | tuple):
        index = _to_number(key)
        if index != index.to_integral_value():
            raise _Failure(f"list index {key!r} is not an integer")
        return base[int(index)] if 0 <= index < len(base) else None
    raise _Failure(f"property {key!r} of a {type(base).__name__} is not supported")


def _juel(node: Node, data: Mapping[str, Any]) -> Any:
    try:
        match node:
            case Literal(value):
                return value
            case Name(name):
                if name not in data:
                    raise _Failure(f"unknown variable {name!r}")
                return data[name]
            case Member(base, key):
                return _juel_member(_juel(base, data), _juel(key, data))
            case Unary("-", operand):
                value = _juel(operand, data)
                return -_to_number(value) if not _integral(value) else -int(_to_number(value))
            case Unary("not", operand):
                return not _to_boolean(_juel(operand, data))
            case Unary("empty", operand):
                value = _juel(operand, data)
                return value is None or value == "" or (isinstance(value, list | tuple | Mapping) and not value)
            case Binary("and" | "or" as op, left, right):
                first = _to_boolean(_juel(left, data))
                return first if first == (op == "or") else _to_boolean(_juel(right, data))
            case Binary("==" | "!=" | "<" | "<=" | ">" | ">=" as op, left, right):
                return _juel_compare(op, _juel(left, data), _juel(right, data))
            case Binary(op, left, right):
                return _juel_arithmetic(op, _juel(left, data), _juel(right, data))
    except _Failure as exc:
        exc.node = exc.node or node
        raise
    raise _Failure("construct outside the JUEL subset", node)  # pragma: no cover - the parser builds none


# --- FEEL ---------------------------------------------------------------------------------------------

def _kind(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return "null" if value is None else "boolean"
    if _number(value) is not None:
        return "number"
    return "list" if isinstance(value, list | tuple) else "context" if isinstance(value, Mapping) else \
        type(value).__name__


def _feel_equal(a: Any, b: Any) -> bool | None:
    kind = _kind(a)
    if "null" in (kind, _kind(b)):
        return kind == _kind(b)
    if kind != _kind(b):
        return None
    if kind == "list":
        return _all_true([_feel_equal(x, y) for x, y in zip(a, b, strict=True)]) if len(a) == len(b) else False
    if kind == "context":
        return _all_true([_feel_equal(a[k], b[k]) for k in a]) if set(a) == set(b) else False
    return bool(_number(a) == _number(b)) if kind == "number" else bool(a == b)


def _all_true(results: list[bool | None]) -> bool | None:
    if all(result is True for result in results):
        return True
    return False if False in results else None


def _feel_binary(op: str, a: Any, b: Any) -> Any:
    if op in ("and", "or"):
        values = [v if isinstance(v, bool) else None for v in (a, b)]
        decisive = op == "or"  # true decides an `or`, false decides an `and`
        return decisive if decisive in values else None if None in values else not decisive
    if op == "in":
        if not isinstance(b, list | tuple):
            return _feel_equal(a, b)
        results = [_feel_equal(a, item) for item in b]
        return True if True in results else False if all(r is False for r in results) else None
    if op in ("==", "!="):
        same = _feel_equal(a, b)
        return same if same is None or op == "==" else not same
    kind = _kind(a)
    if op in ("<", "<=", ">", ">="):
        if kind != _kind(b) or kind in ("null", "boolean", "list", "context"):
            return None
        pair: tuple[Any, Any] = (_number(a), _number(b)) if kind == "number" else (a, b)
        try:
            return bool(_COMPARE[op](*pair))
        except TypeError:
            return None
    if op == "+" and isinstance(a, str) and isinstance(b, str):
        return a + b
    x, y = _number(a), _number(b)
    if x is None or y is None or (op == "/" and y == 0):
        return None
    return {"+": _FEEL_MATH.add, "-": _FEEL_MATH.subtract, "*": _FEEL_MATH.multiply,
            "/": _FEEL_MATH.divide}[op](x, y)


def _feel_path(base: Any, key: str) -> Any:
    if isinstance(base, Mapping):
        return base.get(key)
    if isinstance(base, list | tuple):  # a path on a list maps over its items
        return [_feel_path(item, key) for item in base]
    return None


def _feel_defined(node: Node, scope: Mapping[str, Any]) -> bool:
    """`is defined(x)`: false only for a variable (or property) that does not exist; null is defined."""
    if isinstance(node, Name):
        return node.name in scope
    if isinstance(node, Member) and isinstance(node.key, Literal):
        if not _feel_defined(node.base, scope):
            return False
        base = _feel(node.base, scope)
        return isinstance(base, Mapping) and node.key.value in base
    return True


def _feel(node: Node, scope: Mapping[str, Any]) -> Any:
    match node:
        case Literal(value):
            return value
        case Name(name):
            return scope.get(name)
        case Member(base, Literal(key)):
            return _feel_path(_feel(base, scope), str(key))
        case Unary("-", operand):
            number = _number(_feel(operand, scope))
            return None if number is None else -number
        case Binary(op, left, right):
            return _feel_binary(op, _feel(left, scope), _feel(right, scope))
        case ListOf(items):
            return [_feel(item, scope) for item in items]
        case ContextOf(entries):
            built: dict[str, Any] = {}
            for key, value in entries:  # later entries see the earlier ones
                built[key] = _feel(value, {**scope, **built})
            return built
        case IfThen(test, then, otherwise):
            return _feel(then if _feel(test, scope) is True else otherwise, scope)
        case Call("not", (operand,)):
            value = _feel(operand, scope)
            return not value if isinstance(value, bool) else None
        case Call("list contains", (items, needle)):
            found = _feel(items, scope)
            return _feel_binary("in", _feel(needle, scope), found) if isinstance(found, list | tuple) else None
        case Call("is defined", (operand,)):
            return _feel_defined(operand, scope)
    raise _Failure("construct outside the FEEL subset", node)  # pragma: no cover - the parser builds none
