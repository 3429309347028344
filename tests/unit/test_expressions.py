"""JUEL (Camunda 7) and FEEL (Camunda 8) expressions: Camunda's meaning over task data, refusals by position."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bpmn_requests.engine.expressions import (
    FEEL,
    JUEL,
    PYTHON,
    ExpressionFailed,
    ExpressionRefused,
    check_expression,
    condition_holds,
    evaluate,
    language_of,
    normalized,
)

DATA: dict[str, Any] = {
    "amount": Decimal("700.00"), "level": 2, "decision": "approve", "kyc_result": "clear", "accept": True,
    "flag": False, "nothing": None, "blank": "", "items": ["a", "b"], "empty_list": [], "empty_map": {},
    "customer": {"name": "O'Brien", "address": {"city": "Cork"}}, "lines": [{"qty": 1}, {"qty": 2}],
}


def value(text: str, data: dict[str, Any] | None = None) -> Any:
    return evaluate(text, DATA if data is None else data)


@pytest.mark.parametrize(("text", "expected"), [
    ("${amount > 500}", True), ("${amount gt 700}", False), ("${amount >= 700}", True), ("${amount ge 701}", False),
    ("${level < 3}", True), ("${level lt 2}", False), ("${level <= 2}", True), ("${level le 1}", False),
    ("${decision == 'approve'}", True), ("${decision eq 'reject'}", False), ("${decision != 'approve'}", False),
    ("${decision ne 'reject'}", True), ("${accept && level >= 2}", True), ("${accept and flag}", False),
    ("${flag || accept}", True), ("${flag or flag}", False), ("${!flag}", True), ("${not accept}", False),
    ("${empty nothing}", True), ("${empty blank}", True), ("${empty empty_list}", True), ("${empty empty_map}", True),
    ("${not empty items}", True), ("${empty decision}", False),
    ("${decision == 'approve' && level >= 2}", True),
])
def test_juel_operators(text: str, expected: bool) -> None:
    assert value(text) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("${1 + 2 * 3}", 7), ("${(1 + 2) * 3}", 9), ("${10 - 4 - 3}", 3), ("${-2 * 3}", -6), ("${7 % 3}", 1),
    ("${7 mod 3}", 1), ("${flag || accept && flag}", False), ("${!flag && accept}", True),
    ("${1 < 2 == true}", True), ("${level + 1 > 2 && decision == 'approve'}", True),
])
def test_juel_precedence(text: str, expected: Any) -> None:
    assert value(text) == expected


def test_juel_numbers_are_decimals_and_integers_stay_integers() -> None:
    assert value("${amount * 2}") == Decimal("1400.00")
    assert value("${amount - 0.1}") == Decimal("699.90")
    assert value("${1.5 + 1}") == Decimal("2.5") and isinstance(value("${1.5 + 1}"), Decimal)
    assert value("${0.1 + 0.2}") == Decimal("0.3")
    assert value("${7 / 2}") == Decimal("3.5") and value("${7 div 2}") == Decimal("3.5")
    assert value("${level + 1}") == 3 and isinstance(value("${level + 1}"), int)


def test_juel_division_of_a_decimal_keeps_the_dividends_scale_rounding_half_up() -> None:
    assert value("${amount / 3}") == Decimal("233.33")
    assert value("${amount / 8}") == Decimal("87.50")
    assert value("${amount / 2000}") == Decimal("0.35")
    assert value("${-amount / 2000}") == Decimal("-0.35")


def test_juel_null_equals_only_null_orders_with_nothing_and_counts_as_zero_in_arithmetic() -> None:
    assert value("${nothing == null}") is True and value("${nothing != null}") is False
    assert value("${amount == null}") is False
    assert value("${nothing > 1}") is False and value("${nothing < 1}") is False and value("${nothing >= 0}") is False
    assert value("${nothing + 1}") == 1 and value("${null + null}") == 0
    assert value("${nothing && accept}") is False


def test_juel_coerces_strings_and_numbers_as_el_does() -> None:
    assert value("${level == '2'}") is True
    assert value("${amount == '700'}") is True
    assert value("${accept == 'true'}") is True
    assert value("${'10' + 5}") == 15
    assert value("${decision < 'b'}") is True
    with pytest.raises(ExpressionFailed, match="cannot coerce 'approve' to a number"):
        value("${decision == 1}")
    with pytest.raises(ExpressionFailed, match="cannot coerce"):
        value("${accept == 1}")


def test_juel_strings_with_quotes_and_escapes() -> None:
    assert value("${customer.name == 'O\\'Brien'}") is True
    assert value('${customer.name == "O\'Brien"}') is True
    assert value('${"say \\"hi\\""}') == 'say "hi"'
    assert value("${'back\\\\slash'}") == "back\\slash"


def test_juel_property_access_on_maps_and_lists() -> None:
    assert value("${customer.address.city}") == "Cork"
    assert value("${customer['address']['city']}") == "Cork"
    assert value("${customer.phone}") is None
    assert value("${items[1]}") == "b" and value("${items[5]}") is None
    assert value("${nothing.name}") is None


def test_juel_unknown_variable_fails_naming_its_position() -> None:
    with pytest.raises(ExpressionFailed) as caught:
        value("${level > 1 && missing}")
    assert caught.value.position == 15 and "unknown variable 'missing'" in str(caught.value)
    assert "column 16" in str(caught.value)


def test_juel_division_by_zero_fails() -> None:
    with pytest.raises(ExpressionFailed, match="division by zero"):
        value("${amount / 0}")


@pytest.mark.parametrize(("text", "position", "reason"), [
    ("${customer.name()}", 15, "method calls"),
    ("${accept ? 1 : 2}", 9, "conditional operator"),
    ("${fn:length(items)}", 2, "function calls"),
    ("${size(items)}", 2, "function calls"),
    ("${level = 2}", 8, "assignment"),
    ("${[1, 2]}", 2, "list literals"),
    ("${x -> x}", 4, "lambda"),
    ("${items instanceof list}", 8, "instanceof"),
    ("${'a\\q'}", 4, "unknown escape"),
    ("${}", 2, "empty expression"),
    ("${level} and ${accept}", 7, "unexpected '}'"),
    ("${level >}", 9, "unexpected end"),
])
def test_juel_outside_the_subset_is_refused_at_its_position(text: str, position: int, reason: str) -> None:
    with pytest.raises(ExpressionRefused) as caught:
        check_expression(text)
    assert caught.value.position == position and reason in caught.value.reason
    assert caught.value.language == JUEL and not isinstance(caught.value, ExpressionFailed)


@pytest.mark.parametrize(("text", "expected"), [
    ("=amount > 500", True), ("=amount >= 700.00", True), ("=level < 2", False), ("=level <= 2", True),
    ('=decision = "approve"', True), ('=decision != "approve"', False), ("=level = 2.0", True),
    ('=decision = "approve" and level >= 2', True), ("=flag or accept", True), ("=not(flag)", True),
    ("=level in [1, 2]", True), ("=level in (1, 2)", True), ("=level in (3, 4)", False), ('=kyc_result in "clear"', True),
    ("=list contains(items, \"b\")", True), ("=list contains(items, \"c\")", False),
    ("=is defined(nothing)", True), ("=is defined(missing)", False), ("=is defined(customer.name)", True),
    ("=is defined(customer.phone)", False), ('="a" < "b"', True), ('="b" <= "a"', False),
])
def test_feel_operators(text: str, expected: bool) -> None:
    assert value(text) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("=1 + 2 * 3", Decimal(7)), ("=(1 + 2) * 3", Decimal(9)), ("=10 - 4 - 3", Decimal(3)), ("=-2 * 3", Decimal(-6)),
    ("=true or false and false", True), ("=1 + 1 = 2", True), ("=level * 2 > 3 and not(flag)", True),
])
def test_feel_precedence(text: str, expected: Any) -> None:
    assert value(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("=nothing = null", True), ("=missing = null", True), ("=amount = null", False), ("=nothing != 1", True),
    ("=nothing > 1", None), ("=nothing + 1", None), ("=1 = \"1\"", None), ("=1 < \"2\"", None), ("=1 / 0", None),
    ("=null and false", False), ("=null or true", True), ("=null and true", None), ("=not(null)", None),
    ("=missing.name", None), ("=nothing.name", None),
])
def test_feel_null_semantics(text: str, expected: Any) -> None:
    assert value(text) is expected


def test_feel_null_and_non_booleans_count_as_false_in_conditions() -> None:
    assert condition_holds("=nothing > 1", value("=nothing > 1")) is False
    assert condition_holds('=decision', value('=decision')) is False
    assert condition_holds("=accept", True) is True


def test_juel_condition_must_give_a_boolean() -> None:
    assert condition_holds("${accept}", True) is True
    with pytest.raises(ExpressionFailed, match="not true or false"):
        condition_holds("${decision}", value("${decision}"))


def test_feel_numbers_are_decimal128() -> None:
    assert value("=0.1 + 0.2 = 0.3") is True
    assert value("=amount * 2") == Decimal("1400.00")
    assert value("=amount - 0.5") == Decimal("699.50")
    assert value("=1 / 3") == Decimal("0.3333333333333333333333333333333333")
    assert isinstance(value("=level + 1"), Decimal)
    assert value("=level") == 2 and isinstance(value("=level"), int)  # a variable is handed back as it is


def test_feel_strings_with_quotes_escapes_and_concatenation() -> None:
    assert value('=customer.name = "O\'Brien"') is True
    assert value('="say \\"hi\\""') == 'say "hi"'
    assert value('="a\\nb"') == "a\nb" and value('="\\u0041"') == "A"
    assert value('=decision + "d"') == "approved"


def test_feel_paths_contexts_and_if() -> None:
    assert value("=customer.address.city") == "Cork"
    assert value("=lines.qty") == [1, 2]
    assert value("={a: 1, b: a + 1}") == {"a": Decimal(1), "b": Decimal(2)}
    assert value('={"full name": customer.name}') == {"full name": "O'Brien"}
    assert value('=if level > 1 then "high" else "low"') == "high"
    assert value('=if nothing then "yes" else "no"') == "no"  # a null condition takes the else branch


@pytest.mark.parametrize(("text", "position", "reason"), [
    ("=for x in items return x", 1, "'for' loops"),
    ("=some x in items satisfies x = \"a\"", 1, "'some' quantifiers"),
    ("=every x in items satisfies x = \"a\"", 1, "'every' quantifiers"),
    ("=string length(decision) > 3", 1, "function 'string length' is not supported"),
    ("=count(items)", 1, "function 'count' is not supported"),
    ("=items[1]", 6, "filters and indexes"),
    ("=level in [1..3]", 12, "ranges"),
    ("=level in < 3", 10, "unary tests"),
    ("=level ** 2", 7, "exponentiation"),
    ("=not flag", 1, "'not' is a function"),
    ("='approve'", 1, "single-quoted strings"),
    ('=@"2026-01-01"', 1, "temporal literals"),
    ("=function(x) x", 1, "function definitions"),
    ("=1 < level < 3", 11, "chained comparisons"),
    ("=level between 1 and 3", 7, "'between' tests"),
    ("=level instance of number", 7, "'instance of' tests"),
    ("=", 1, "empty expression"),
    ('="open', 1, "unexpected character"),
])
def test_feel_outside_the_subset_is_refused_at_its_position(text: str, position: int, reason: str) -> None:
    with pytest.raises(ExpressionRefused) as caught:
        check_expression(text)
    assert caught.value.position == position and reason in caught.value.reason
    assert caught.value.language == FEEL


def test_refusal_names_line_and_column_in_multiline_expressions() -> None:
    with pytest.raises(ExpressionRefused, match="line 2, column 6"):
        check_expression("={a: 1,\n  b: count(items)}")


def test_language_comes_from_the_attribute_or_else_from_the_form() -> None:
    assert language_of("${x}") == JUEL and language_of("#{x}") == JUEL and language_of("=x") == FEEL
    assert language_of("x == 'a'") == PYTHON and language_of("x", "FEEL") == FEEL
    assert normalized("x = 1", "feel") == "=x = 1"
    assert normalized("${x}", "juel") == "${x}"
    with pytest.raises(ExpressionRefused, match="declared JUEL but written as Python"):
        normalized("x == 1", "juel")
    with pytest.raises(ExpressionRefused, match="declared Python but written as JUEL"):
        normalized("${x}", "python")
    with pytest.raises(ExpressionRefused, match="'javascript' are not supported"):
        normalized("x === 1", "javascript")


def test_python_passes_the_check_and_is_never_evaluated_here() -> None:
    check_expression("kyc_result == 'clear'")
    with pytest.raises(ExpressionRefused, match="not a JUEL"):
        evaluate("kyc_result == 'clear'", DATA)
