"""Form definitions: a Camunda Form's JSON parsed into the dataclasses of `components.py`, or refused.

Accepts files exactly as Camunda Modeler's form editor writes them (layout, appearance and custom properties
are kept or ignored) and refuses, in one FormError listing every problem, anything the server could not
render or validate.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from .components import (
    CONTAINER_TYPES,
    INPUT_TYPES,
    MIN_SCHEMA_VERSION,
    OPTION_TYPES,
    SUPPORTED_TYPES,
    Component,
    Flag,
    FormDefinition,
    FormError,
    FormProblem,
    LengthRule,
    NumberRule,
    Option,
    ValidationRules,
    to_decimal,
)
from .feel import FeelError, FeelExpression, compile_feel, compile_template

__all__ = ["Component", "FormDefinition", "FormError", "FormProblem", "Option", "ValidationRules", "parse_form"]

_KEY = re.compile(r"^\w+(\.\w+)*$")


def parse_form(text: str, source: str) -> FormDefinition:
    """Parse one form file's text; `source` names it in problems. Raises FormError listing every problem."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise FormError([FormProblem(source, None, None, f"not valid JSON: {error.msg} "
                                                         f"at line {error.lineno}, column {error.colno}")]) from None
    if not isinstance(raw, dict):
        raise FormError([FormProblem(source, None, None, "a form must be a JSON object")])
    reader = _Reader(source)
    form_id, version = reader.header(raw)
    components = reader.components(raw.get("components"), "components")
    reader.check_keys(components)
    reader.check_ids(components)
    if reader.problems:
        raise FormError(reader.problems)
    return FormDefinition(form_id, version, components, source)


class _Reader:
    """Reads the raw JSON into components, collecting problems instead of stopping at the first."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[FormProblem] = []

    def problem(self, message: str, component_id: str | None = None, key: str | None = None) -> None:
        self.problems.append(FormProblem(self.source, component_id, key, message))

    def header(self, raw: Mapping[str, Any]) -> tuple[str, int]:
        form_id, version = raw.get("id"), raw.get("schemaVersion")
        if not isinstance(form_id, str) or not form_id.strip():
            self.problem("the form has no id (set one in Camunda Modeler's form properties)")
        if raw.get("type", "default") != "default":
            self.problem(f"the form type is {raw.get('type')!r}; only 'default' forms are supported")
        if not isinstance(version, int) or isinstance(version, bool):
            self.problem("schemaVersion is missing or not a number")
        elif version < MIN_SCHEMA_VERSION:
            self.problem(f"schemaVersion {version} is too old: open and save the form in a current "
                         f"Camunda Modeler (schemaVersion {MIN_SCHEMA_VERSION} or later)")
        return (form_id if isinstance(form_id, str) else ""), (version if isinstance(version, int) else 0)

    def components(self, raw: Any, where: str) -> tuple[Component, ...]:
        if not isinstance(raw, list):
            self.problem(f"{where} must be a list of components")
            return ()
        parsed = (self.component(item, f"{where}[{i}]") for i, item in enumerate(raw))
        return tuple(component for component in parsed if component is not None)

    def component(self, raw: Any, where: str) -> Component | None:
        if not isinstance(raw, dict):
            self.problem(f"{where} is not a component object")
            return None
        kind, cid, key = raw.get("type"), raw.get("id"), raw.get("key")
        key = key if isinstance(key, str) else None
        if not isinstance(cid, str) or not cid:
            self.problem(f"{where} (type {kind}) has no id; save the form in Camunda Modeler to assign one",
                         key=key)
            return None
        if kind not in SUPPORTED_TYPES:
            self.problem(f"type {kind!r} is not supported; supported types: {', '.join(sorted(SUPPORTED_TYPES))}",
                         cid, key)
            return None
        if kind in INPUT_TYPES and (key is None or not _KEY.match(key)):
            self.problem(f"a {kind} needs a key made of letters, digits, _ and dots (found {key!r})", cid, key)
            return None
        layout, properties, conditional = (_object(raw.get(name)) for name in ("layout", "properties", "conditional"))
        return Component(
            type=kind, id=cid, key=key if kind in INPUT_TYPES else None,
            label=_text(raw.get("label")) or _text(raw.get("dateLabel")) or _text(raw.get("timeLabel")),
            description=_text(raw.get("description")),
            readonly=self.flag(raw.get("readonly"), cid, key, "readonly"),
            disabled=self.flag(raw.get("disabled"), cid, key, "disabled"),
            conditional_hide=self.flag(conditional.get("hide"), cid, key, "conditional.hide"),
            layout_row=_text(layout.get("row")),
            layout_columns=layout["columns"] if isinstance(layout.get("columns"), int) else None,
            properties=MappingProxyType(dict(properties)), action=_text(raw.get("action")),
            **self.type_specific(kind, raw, cid, key, where),
        )

    def type_specific(self, kind: str, raw: Mapping[str, Any], cid: str, key: str | None,
                      where: str) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if kind in INPUT_TYPES:
            extra["validate"] = self.rules(raw.get("validate") or {}, cid, key)
            extra.update(self.default(raw, cid, key))
        if kind in OPTION_TYPES:
            extra.update(self.options(raw, cid, key))
        if kind == "number":
            extra.update(self.number_settings(raw, cid, key))
        if kind == "datetime":
            extra["subtype"] = raw.get("subtype") or "date"
            extra["disallow_passed_dates"] = raw.get("disallowPassedDates") is True
            if extra["subtype"] not in ("date", "time", "datetime"):
                self.problem(f"datetime subtype {extra['subtype']!r} is not date, time or datetime", cid, key)
        if kind in CONTAINER_TYPES:
            extra.update(self.container(kind, raw, cid, where))
        if kind == "text":
            extra.update(self.text(raw, cid))
        return extra

    def flag(self, raw: Any, cid: str, key: str | None, what: str) -> Flag:
        if raw is None or raw == "" or isinstance(raw, bool):
            return raw is True  # an empty condition is no condition
        if isinstance(raw, str) and raw.strip():
            return self.expression(raw, cid, key, what) or False
        self.problem(f"{what} must be true, false or a FEEL expression", cid, key)
        return False

    def expression(self, raw: str, cid: str, key: str | None, what: str) -> FeelExpression | None:
        try:
            return compile_feel(raw)
        except FeelError as error:
            self.problem(f"{what}: {error}", cid, key)
            return None

    def rules(self, raw: Any, cid: str, key: str | None) -> ValidationRules:
        if not isinstance(raw, dict):
            self.problem("validate must be an object", cid, key)
            return ValidationRules()
        pattern = None
        if isinstance(raw.get("pattern"), str) and raw["pattern"]:
            try:
                pattern = re.compile(raw["pattern"])
            except re.error as error:
                self.problem(f"validate.pattern {raw['pattern']!r} is not a valid regular expression: {error}",
                             cid, key)
        kind_of_check = raw.get("validationType")
        return ValidationRules(
            required=raw.get("required") is True,
            min=self.number_rule(raw.get("min"), cid, key, "validate.min"),
            max=self.number_rule(raw.get("max"), cid, key, "validate.max"),
            min_length=self.length_rule(raw.get("minLength"), cid, key, "validate.minLength"),
            max_length=self.length_rule(raw.get("maxLength"), cid, key, "validate.maxLength"),
            pattern=pattern, pattern_error_message=_text(raw.get("patternErrorMessage")),
            validation_type=kind_of_check if kind_of_check in ("email", "phone") else None,
        )

    def number_rule(self, raw: Any, cid: str, key: str | None, what: str) -> NumberRule:
        if raw is None or raw == "":
            return None
        if isinstance(raw, str) and raw.startswith("="):
            return self.expression(raw, cid, key, what)
        number = to_decimal(raw)
        if number is None:
            self.problem(f"{what} must be a number (found {raw!r})", cid, key)
        return number

    def length_rule(self, raw: Any, cid: str, key: str | None, what: str) -> LengthRule:
        rule = self.number_rule(raw, cid, key, what)
        if isinstance(rule, Decimal):
            if rule != rule.to_integral_value() or rule < 0:
                self.problem(f"{what} must be a whole number of characters (found {raw!r})", cid, key)
                return None
            return int(rule)
        return rule

    def default(self, raw: Mapping[str, Any], cid: str, key: str | None) -> dict[str, Any]:
        if "defaultValue" not in raw:
            return {}
        value = raw["defaultValue"]
        if raw.get("type") == "number" and value != "" and to_decimal(value) is None:
            self.problem(f"defaultValue {value!r} is not a number", cid, key)
        return {"has_default": True, "default_value": value}

    def options(self, raw: Mapping[str, Any], cid: str, key: str | None) -> dict[str, Any]:
        if isinstance(raw.get("valuesExpression"), str) and raw["valuesExpression"]:
            return {"values_expression": self.expression(raw["valuesExpression"], cid, key, "valuesExpression")}
        if isinstance(raw.get("valuesKey"), str) and raw["valuesKey"]:
            return {"values_key": raw["valuesKey"]}
        values = raw.get("values")
        if not isinstance(values, list) or not values:
            self.problem("has no options: give it static values or an input data key (valuesKey)", cid, key)
            return {}
        options = tuple(Option(str(v.get("label", v.get("value"))), v.get("value"))
                        for v in values if isinstance(v, dict) and v.get("value") not in (None, ""))
        seen = [option.value for option in options]
        if len(options) != len(values) or len(set(map(str, seen))) != len(seen):
            self.problem("every option needs a value, and option values must be unique", cid, key)
        default = raw.get("defaultValue")
        chosen = default if isinstance(default, list) else [default] if default not in (None, "") else []
        for value in chosen:
            if value not in seen:
                self.problem(f"defaultValue {value!r} is not one of the options", cid, key)
        return {"values": options}

    def number_settings(self, raw: Mapping[str, Any], cid: str, key: str | None) -> dict[str, Any]:
        digits, increment = raw.get("decimalDigits"), raw.get("increment")
        extra: dict[str, Any] = {}
        if digits is not None:
            if isinstance(digits, int) and not isinstance(digits, bool) and digits >= 0:
                extra["decimal_digits"] = digits
            else:
                self.problem(f"decimalDigits must be a whole number, 0 or more (found {digits!r})", cid, key)
        if increment not in (None, ""):
            step = to_decimal(increment)
            if step is None or step <= 0:
                self.problem(f"increment must be a positive number (found {increment!r})", cid, key)
            extra["increment"] = step
        return extra

    def container(self, kind: str, raw: Mapping[str, Any], cid: str, where: str) -> dict[str, Any]:
        path = raw.get("path") or None
        if path is not None and (not isinstance(path, str) or not _KEY.match(path)):
            self.problem(f"path {path!r} must be made of letters, digits, _ and dots", cid)
            path = None
        elif kind == "dynamiclist" and path is None:
            self.problem("a dynamic list needs a path: the list variable its rows are stored in", cid)
        return {"path": path, "children": self.components(raw.get("components", []), f"{where}.components")}

    def text(self, raw: Mapping[str, Any], cid: str) -> dict[str, Any]:
        text = _text(raw.get("text")) or ""
        try:
            return {"text": text, "template": compile_template(text)}
        except FeelError as error:
            self.problem(f"text: {error}", cid)
            return {"text": text}

    def check_keys(self, components: Sequence[Component]) -> None:
        """Two fields bound to the same variable, or one inside another, would overwrite each other."""
        bound: dict[tuple[str, ...], Component] = {}
        for path, component in _bindings(components, ()):
            if path in bound:
                self.problem(f"key {'.'.join(path)!r} is also used by {bound[path].id}",
                             component.id, component.key)
            bound.setdefault(path, component)
        for path, component in bound.items():
            for length in range(1, len(path)):
                if path[:length] in bound:
                    self.problem(f"{'.'.join(path)!r} lies inside the field {'.'.join(path[:length])!r}",
                                 component.id, component.key)
        for component in _all(components, into_lists=False):
            if component.type == "dynamiclist":
                self.check_keys(component.children)  # each row is its own scope

    def check_ids(self, components: Sequence[Component]) -> None:
        seen: set[str] = set()
        for component in _all(components, into_lists=True):
            if component.id in seen:
                self.problem("the component id is used more than once", component.id, component.key)
            seen.add(component.id)


def _bindings(components: Sequence[Component], prefix: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Component]]:
    for component in components:
        if component.key is not None:
            yield prefix + tuple(component.key.split(".")), component
        elif component.type == "dynamiclist" and component.path:
            yield prefix + tuple(component.path.split(".")), component
        elif component.type == "group":
            inner = prefix + tuple(component.path.split(".")) if component.path else prefix
            yield from _bindings(component.children, inner)


def _all(components: Sequence[Component], *, into_lists: bool) -> Iterator[Component]:
    """Every component, depth first; dynamic lists' rows only when `into_lists`."""
    for component in components:
        yield component
        if component.type == "group" or into_lists:
            yield from _all(component.children, into_lists=into_lists)


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value != "" else None
