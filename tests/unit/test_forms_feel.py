"""The FEEL subset used by Camunda Forms: semantics, precedence, null handling and refusals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bpmn_requests.domain.errors import ValidationFailed
from bpmn_requests.forms import FeelError, compile_feel, compile_template


def feel(expression: str, **data: Any) -> Any:
    return compile_feel(expression).evaluate(data)


@pytest.mark.parametrize(("expression", "expected"), [
    ("x = 5", True), ("x != 5", False), ("x < 6", True), ("x <= 5", True), ("x > 5", False), ("x >= 5.0", True),
    ('name = "Ada"', True), ('name < "Bob"', True), ('name != "Ada"', False),
])
def test_each_comparison_operator(expression: str, expected: bool) -> None:
    assert feel(expression, x=5, name="Ada") is expected


def test_a_leading_equals_sign_marks_an_expression_as_form_js_writes_it() -> None:
    assert feel('=decision = "reject"', decision="reject") is True


def test_numbers_are_decimals_so_float_rounding_never_decides() -> None:
    assert feel("x = 0.3", x=0.1 + 0.2) is False  # 0.30000000000000004 really is not 0.3
    assert feel("x = 0.3", x=Decimal("0.3")) is True
    assert feel("x = 0.1", x=0.1) is True
    assert feel("1.10") == Decimal("1.10")
    assert isinstance(feel("n", n=7), Decimal)


def test_and_or_not_and_parentheses() -> None:
    assert feel("a and b", a=True, b=False) is False
    assert feel("a or b", a=False, b=True) is True
    assert feel("not(a)", a=False) is True
    assert feel("not(a or b) and c", a=False, b=False, c=True) is True


def test_and_binds_tighter_than_or() -> None:
    assert feel("true or false and false") is True
    assert feel("(true or false) and false") is False


def test_comparisons_bind_tighter_than_and() -> None:
    assert feel('x > 1 and d = "adjust"', x=2, d="adjust") is True


def test_missing_variables_are_null_and_null_equals_only_null() -> None:
    assert feel("x = null") is True
    assert feel("x != null", x=1) is True
    assert feel('decision != "adjust"') is True
    assert feel('decision = "adjust"') is False


def test_ordering_with_null_or_across_types_is_null() -> None:
    assert feel("x < 1") is None
    assert feel('x < "a"', x=1) is None
    assert feel('x = "1"', x=1) is None
    assert feel("flag = 1", flag=True) is None


def test_three_valued_logic_follows_feel() -> None:
    assert feel("x < 1 and false") is False
    assert feel("x < 1 and true") is None
    assert feel("x < 1 or true") is True
    assert feel("x < 1 or false") is None
    assert feel("not(x)", x="text") is None


def test_is_true_treats_null_as_not_true() -> None:
    assert compile_feel("x < 1").is_true({}) is False


def test_string_literals_with_escapes() -> None:
    assert feel(r'"say \"hi\"\n" = s', s='say "hi"\n') is True
    assert feel(r'"\u00e9"') == "é"


def test_true_false_null_literals_and_negative_numbers() -> None:
    assert feel("true") is True
    assert feel("false") is False
    assert feel("null") is None
    assert feel("x > -1.5", x=-1) is True


def test_dotted_property_access_reaches_nested_values() -> None:
    assert feel('customer.address.country = "DE"', customer={"address": {"country": "DE"}}) is True
    assert feel("customer.address.country = null", customer={"address": None}) is True
    assert feel("customer.name = null", customer="not a context") is True


def test_list_literals_and_membership() -> None:
    assert feel("[1, 2, 3]") == [Decimal(1), Decimal(2), Decimal(3)]
    assert feel('decision in ["adjust", "reject"]', decision="reject") is True
    assert feel('decision in ["adjust", "reject"]', decision="other") is False
    assert feel("x in (1, 2)", x=2) is True
    assert feel('x in ("a")', x="a") is True
    assert feel("[1, [2]] = [1, [2]]") is True


def test_list_contains() -> None:
    assert feel('list contains(tags, "vip")', tags=["vip", "new"]) is True
    assert feel("list contains(tags, 3)", tags=[1, 2]) is False
    assert feel("list contains(tags, 3)") is None


def test_a_variable_named_list_is_still_a_variable() -> None:
    assert feel("list = 1", list=1) is True


@pytest.mark.parametrize(("expression", "reason", "column"), [
    ("for x in items return x", "'for' loops are not supported", 1),
    ("some x in items satisfies x > 1", "'some' quantifiers are not supported", 1),
    ("every x in items satisfies x > 1", "'every' quantifiers are not supported", 1),
    ("function(a) a", "function definitions are not supported", 1),
    ("if a then b else c", "'if' expressions are not supported", 1),
    ("amount + 1 > 2", "'+' (arithmetic) is not supported", 8),
    ("count(items) > 2", "function 'count' is not supported", 1),
    ("x = 'a'", "single-quoted strings", 5),
    ("x between 1 and 2", "'between' tests are not supported", 3),
    ("{a: 1}", "'{' (context literals) is not supported", 1),
    ("x in 1..5", "'..' (ranges) is not supported", 7),
    ("1 < x < 3", "chained comparisons are not supported", 7),
    ("not x", "expected '('", 5),
    ("a = ", "unexpected end of expression", 5),
    ('a = "open', "unexpected character", 5),
    ("", "empty expression", 1),
    ("a b", "unexpected 'b'", 3),
])
def test_syntax_outside_the_subset_is_refused_with_its_position(expression: str, reason: str, column: int) -> None:
    with pytest.raises(FeelError) as raised:
        compile_feel(expression)
    assert reason in raised.value.reason
    assert f"column {column}" in str(raised.value)
    assert raised.value.position == column - 1


def test_positions_count_the_leading_equals_sign() -> None:
    with pytest.raises(FeelError) as raised:
        compile_feel("=a + 1")
    assert raised.value.position == 3


def test_multi_line_expressions_report_line_and_column() -> None:
    with pytest.raises(FeelError, match="line 2, column 3"):
        compile_feel("a = 1 and\nb * 2")


def test_feel_errors_are_validation_failures_for_the_error_handler() -> None:
    with pytest.raises(ValidationFailed):
        compile_feel("for")


def test_templates_fill_placeholders_with_plain_text() -> None:
    template = compile_template("Invoice {{ invoice_number }} over {{invoice_amount}}; hits: {{hits}}{{none}}.")
    text = template.render({"invoice_number": "INV-1", "invoice_amount": Decimal("1E+2"), "hits": ["A", "B"]})
    assert text == "Invoice INV-1 over 100; hits: A, B."


def test_a_whole_text_expression_is_evaluated() -> None:
    assert compile_template('=status = "open"').render({"status": "open"}) == "true"


def test_template_blocks_are_refused() -> None:
    with pytest.raises(FeelError, match="template blocks"):
        compile_template("{{#if vip}}Dear VIP{{/if}}")


def test_template_placeholders_outside_the_subset_are_refused_at_their_position_in_the_text() -> None:
    with pytest.raises(FeelError) as raised:
        compile_template("Total: {{amount * 2}}")
    assert raised.value.position == len("Total: {{amount ")
