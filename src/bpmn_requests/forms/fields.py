"""One input field's value: conversion to the type the process expects, its options, and the form's rules.

Messages name what is wrong in words a member of staff or a customer understands; the caller adds the
field's name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from .components import OPTION_TYPES, Component, LengthRule, NumberRule, Option, to_decimal
from .feel import FeelExpression, display

_EMAIL = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")
# Camunda Forms accept phone numbers in international form only: a country code, then digits.
_PHONE = re.compile(r"^(\+|00)[1-9][0-9 ()/-]{5,19}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})?$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?$")
_SHOWN_OPTIONS = 10


class Invalid(Exception):
    """A value a field cannot take; `message` says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def field_options(component: Component, env: Mapping[str, Any]) -> tuple[Option, ...]:
    """The choices of a select, radio, checklist or taglist: static, from the data, or from an expression."""
    if component.type not in OPTION_TYPES:
        return ()
    if component.values_key:
        source: Any = env
        for name in component.values_key.split("."):
            source = source.get(name) if isinstance(source, Mapping) else None
    elif component.values_expression is not None:
        source = component.values_expression.evaluate(env)
    else:
        return component.values
    if not isinstance(source, list | tuple):
        raise Invalid("has no options to choose from right now; ask an administrator to check the form")
    return tuple(_option(item) for item in source)


def _option(item: Any) -> Option:
    if isinstance(item, Mapping):
        return Option(str(item.get("label", item.get("value"))), item.get("value"))
    return Option(display(item), item)


def is_empty(value: Any) -> bool:
    """No answer given: what `required` refuses."""
    return value is None or value is False or (isinstance(value, str | list) and not value) or (
        isinstance(value, str) and not value.strip())


def clean_value(component: Component, value: Any, options: tuple[Option, ...], today: date,
                env: Mapping[str, Any], *, check_rules: bool) -> Any:
    """`value` converted to the field's type and, when `check_rules`, checked against its rules."""
    converted = _CONVERTERS[component.type](component, value, options)
    if not check_rules:
        return converted
    if is_empty(converted):
        if component.validate.required:
            raise Invalid("must be ticked" if component.type == "checkbox" else "is required")
        return converted
    _check_rules(component, converted, today, env)
    return converted


def _text(component: Component, value: Any, options: tuple[Option, ...]) -> Any:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Invalid("must be text")
    return value


def _number(component: Component, value: Any, options: tuple[Option, ...]) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = to_decimal(value)
    if number is None:
        raise Invalid("must be a number, such as 1250.50")
    digits = component.decimal_digits
    if digits is None:
        return number
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > digits:
        # Refuse rather than round: a rounded amount is not the amount the user meant.
        raise Invalid("must be a whole number" if digits == 0 else f"must have at most {digits} decimal places")
    return number.quantize(Decimal(1).scaleb(-digits))


def _checkbox(component: Component, value: Any, options: tuple[Option, ...]) -> Any:
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "on", "false", "off", ""):
        return value.strip().lower() in ("true", "on")  # "on" is what a browser posts for a ticked box
    raise Invalid("must be true or false")


def _single_choice(component: Component, value: Any, options: tuple[Option, ...]) -> Any:
    if value is None or value == "":
        return None
    return _choose(value, options)


def _multiple_choice(component: Component, value: Any, options: tuple[Option, ...]) -> Any:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise Invalid("must be a list of options")
    chosen: list[Any] = []
    for item in value:
        option = _choose(item, options)
        if option not in chosen:
            chosen.append(option)
    return chosen


def _choose(value: Any, options: tuple[Option, ...]) -> Any:
    for option in options:
        same_type = isinstance(value, bool) == isinstance(option.value, bool)
        if (same_type and value == option.value) or (
                isinstance(value, str) and not isinstance(option.value, str) and display(option.value) == value):
            return option.value
    names = ", ".join(display(option.value) for option in options[:_SHOWN_OPTIONS])
    more = ", ..." if len(options) > _SHOWN_OPTIONS else ""
    raise Invalid(f"{display(value)!r} is not one of the options: {names}{more}")


def _datetime(component: Component, value: Any, options: tuple[Option, ...]) -> Any:
    if value is None or value == "":
        return None
    subtype = component.subtype or "date"
    if subtype == "date" and isinstance(value, date) and not isinstance(value, datetime):
        return value
    if subtype == "datetime" and isinstance(value, datetime):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            if subtype == "date" and _DATE.match(text):
                return date.fromisoformat(text)
            if subtype == "time" and _TIME.match(text):
                time.fromisoformat(text)
                return text  # kept as form-js writes it: the engine stores times as text
            if subtype == "datetime" and _DATETIME.match(text):
                return datetime.fromisoformat(text)
        except ValueError:
            pass
    example = {"date": "2024-12-31", "time": "14:30", "datetime": "2024-12-31T14:30"}[subtype]
    raise Invalid(f"must be a {'date and time' if subtype == 'datetime' else subtype} such as {example}")


_CONVERTERS: dict[str, Callable[[Component, Any, tuple[Option, ...]], Any]] = {
    "textfield": _text, "textarea": _text, "number": _number, "checkbox": _checkbox,
    "radio": _single_choice, "select": _single_choice, "checklist": _multiple_choice,
    "taglist": _multiple_choice, "datetime": _datetime,
}


def _check_rules(component: Component, value: Any, today: date, env: Mapping[str, Any]) -> None:
    rules = component.validate
    if isinstance(value, str):
        _check_length(value, _bound(rules.min_length, env), _bound(rules.max_length, env))
        if rules.pattern is not None and not rules.pattern.search(value):
            # form-js tests the pattern like JavaScript's RegExp.test: anchors are the form's to write.
            raise Invalid(rules.pattern_error_message or "does not match the required format")
        if rules.validation_type == "email" and not _EMAIL.match(value):
            raise Invalid("must be an email address, such as name@example.com")
        if rules.validation_type == "phone" and not _PHONE.match(value):
            raise Invalid("must be a phone number with country code, such as +49 30 1234567")
    if isinstance(value, Decimal):
        _check_number(component, value, _bound(rules.min, env), _bound(rules.max, env))
    if isinstance(value, date) and component.disallow_passed_dates:
        day = value.date() if isinstance(value, datetime) else value
        if day < today:
            raise Invalid("must not be in the past")


def _check_length(value: str, least: Decimal | None, most: Decimal | None) -> None:
    if least is not None and len(value) < least:
        raise Invalid(f"must be at least {display(least)} characters long")
    if most is not None and len(value) > most:
        raise Invalid(f"must be at most {display(most)} characters long")


def _check_number(component: Component, value: Decimal, least: Decimal | None, most: Decimal | None) -> None:
    if least is not None and value < least:
        raise Invalid(f"must be at least {display(least)}")
    if most is not None and value > most:
        raise Invalid(f"must be at most {display(most)}")
    step = component.increment
    if step is not None and value % step != 0:
        below = (value / step).to_integral_value(rounding=ROUND_FLOOR) * step
        raise Invalid(f"must be a multiple of {display(step)}; the nearest valid values are "
                      f"{display(below)} and {display(below + step)}")


def _bound(rule: NumberRule | LengthRule, env: Mapping[str, Any]) -> Decimal | None:
    """A rule's limit; an expression that gives no number sets no limit, as in form-js."""
    if isinstance(rule, FeelExpression):
        result = rule.evaluate(env)
        return result if isinstance(result, Decimal) else None
    return Decimal(rule) if rule is not None else None
