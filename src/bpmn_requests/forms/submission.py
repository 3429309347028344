"""Server-side validation of what a user submits through a form: the one check every submit path runs.

Values are converted to the types the process expects (numbers are Decimal, never float; dates are `date`),
checked against the form's rules and returned cleaned. Fields hidden by `conditional.hide` are neither
required nor stored, readonly and disabled fields are never taken from the user, and keys the form does
not have are refused. Every bad field is named in one ValidationFailed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from ..domain.errors import ValidationFailed
from .components import Component, FormDefinition
from .feel import FeelExpression
from .fields import Invalid, clean_value, field_options

_MISSING: Any = object()
_INDEX = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def validate_submission(form: FormDefinition, data: Mapping[str, Any], *,
                        context: Mapping[str, Any] | None = None, today: date | None = None) -> dict[str, Any]:
    """The cleaned values of `data` submitted through `form`, or ValidationFailed naming every bad field.

    `context` holds the process variables the form was shown with (for conditions and `valuesKey` options);
    `today` decides what "passed dates" are and defaults to the server's date.
    """
    context = dict(context or {})
    errors = _unknown_keys(form.components, data, "", form.id)
    # First a lenient pass, so that conditions see typed values ("12.50" as a number) like the browser does.
    preview: dict[str, Any] = {}
    _Walk(context, today, strict=False).components(form.components, data, preview, "", context, ())
    env = _merged(context, preview)
    walk = _Walk(context, today, strict=True)
    cleaned: dict[str, Any] = {}
    walk.components(form.components, data, cleaned, "", env, ())
    errors.update(walk.errors)
    if errors:
        raise ValidationFailed.for_fields(errors)
    return cleaned


class _Walk:
    """One pass over the components, reading `raw` values and writing cleaned ones into `out`.

    `base` is the path of the current level from the root of the data (None inside dynamic-list rows,
    which have no counterpart among the process variables).
    """

    def __init__(self, context: Mapping[str, Any], today: date | None, *, strict: bool):
        self.context = context
        self.today = today or date.today()
        self.strict = strict
        self.errors: dict[str, str] = {}

    def components(self, components: Sequence[Component], raw: Mapping[str, Any], out: dict[str, Any],
                   prefix: str, env: Mapping[str, Any], base: tuple[str, ...] | None) -> None:
        for component in components:
            if self.strict and _is_on(component.conditional_hide, env):
                continue
            if component.is_input:
                self.field(component, raw, out, prefix, env, base)
            elif component.type == "group":
                self.group(component, raw, out, prefix, env, base)
            elif component.type == "dynamiclist":
                self.rows(component, raw, out, prefix, env)

    def group(self, group: Component, raw: Mapping[str, Any], out: dict[str, Any], prefix: str,
              env: Mapping[str, Any], base: tuple[str, ...] | None) -> None:
        if not group.path:
            self.components(group.children, raw, out, prefix, env, base)
            return
        names = tuple(group.path.split("."))
        inner = _get(raw, names)
        if inner is not _MISSING and not isinstance(inner, Mapping):
            self.fail(prefix + group.path, "must be a group of values")
            return
        inner_base = base + names if base is not None else None
        self.components(group.children, inner if isinstance(inner, Mapping) else {}, _ensure(out, names),
                        f"{prefix}{group.path}.", env, inner_base)

    def rows(self, dynamic_list: Component, raw: Mapping[str, Any], out: dict[str, Any], prefix: str,
             env: Mapping[str, Any]) -> None:
        path = dynamic_list.path or ""
        names = tuple(path.split("."))
        value = _get(raw, names)
        if value is _MISSING or value is None:
            value = []
        if not isinstance(value, list | tuple):
            self.fail(prefix + path, "must be a list of rows")
            return
        rows: list[dict[str, Any]] = []
        typed_rows = _get(env, names)
        for index, row in enumerate(value):
            name = f"{prefix}{path}[{index}]"
            cleaned: dict[str, Any] = {}
            rows.append(cleaned)  # one entry per submitted row, so that row numbers line up in both passes
            if not isinstance(row, Mapping):
                self.fail(name, "must be a row of values")
                continue
            typed = typed_rows[index] if isinstance(typed_rows, list) and index < len(typed_rows) else row
            typed = typed if isinstance(typed, Mapping) else row
            # Inside a row, the row's own fields shadow same-named variables; `this` is the row.
            row_env = {**env, **typed, "this": typed}
            self.components(dynamic_list.children, row, cleaned, name + ".", row_env, None)
        _put(out, names, rows)

    def field(self, component: Component, raw: Mapping[str, Any], out: dict[str, Any], prefix: str,
              env: Mapping[str, Any], base: tuple[str, ...] | None) -> None:
        assert component.key is not None  # inputs always have a key (checked by parse_form)
        names, name = tuple(component.key.split(".")), prefix + component.key
        if _is_on(component.readonly, env) or _is_on(component.disabled, env):
            self.keep_default(component, out, names, base)
            return
        value = _get(raw, names)
        if value is _MISSING:
            value = _absent_value(component)
        try:
            options = field_options(component, env)
            cleaned = clean_value(component, value, options, self.today, env, check_rules=self.strict)
        except Invalid as invalid:
            self.fail(name, invalid.message)
            if not self.strict:
                _put(out, names, value)
            return
        _put(out, names, cleaned)

    def keep_default(self, component: Component, out: dict[str, Any], names: tuple[str, ...],
                     base: tuple[str, ...] | None) -> None:
        """Readonly and disabled fields keep the process variable, or get their default when there is none."""
        if not component.has_default or (base is not None and _get(self.context, base + names) is not _MISSING):
            return
        try:
            _put(out, names, clean_value(component, component.default_value, field_options(component, self.context),
                                         self.today, self.context, check_rules=False))
        except Invalid:
            return  # a default the form cannot hold is left out rather than stored wrongly

    def fail(self, name: str, message: str) -> None:
        if self.strict:
            self.errors.setdefault(name, message)


def _absent_value(component: Component) -> Any:
    # Browsers send nothing for an unticked checkbox or an empty checklist: absent means "none".
    if component.type == "checkbox":
        return False
    if component.type in ("checklist", "taglist"):
        return []
    return component.default_value if component.has_default else None


def _is_on(flag: bool | FeelExpression, env: Mapping[str, Any]) -> bool:
    return flag.is_true(env) if isinstance(flag, FeelExpression) else flag


def _unknown_keys(components: Sequence[Component], data: Mapping[str, Any], prefix: str,
                  form_id: str) -> dict[str, str]:
    """Every submitted name the form has no field for."""
    errors: dict[str, str] = {}
    shape = _shape(components)

    def walk(value: Mapping[str, Any], level: Mapping[str, Any], prefix: str) -> None:
        for name, item in value.items():
            expected = level.get(name, _MISSING) if isinstance(name, str) else _MISSING
            if expected is _MISSING:
                errors[f"{prefix}{name}"] = f"not a field of form {form_id}"
            elif isinstance(expected, dict) and isinstance(item, Mapping):
                walk(item, expected, f"{prefix}{name}.")
            elif isinstance(expected, _Rows) and isinstance(item, list | tuple):
                for index, row in enumerate(item):
                    if isinstance(row, Mapping):
                        walk(row, expected.shape, f"{prefix}{name}[{index}].")

    walk(data, shape, prefix)
    return errors


class _Rows:
    """The shape of one dynamic-list row."""

    def __init__(self, shape: dict[str, Any]):
        self.shape = shape


def _shape(components: Sequence[Component], shape: dict[str, Any] | None = None) -> dict[str, Any]:
    """Nested names the form accepts: a field is None, an object a dict, a dynamic list a _Rows."""
    shape = {} if shape is None else shape
    for component in components:
        if component.key is not None:
            *parents, last = component.key.split(".")
            _ensure(shape, tuple(parents))[last] = None
        elif component.type == "dynamiclist" and component.path:
            *parents, last = component.path.split(".")
            _ensure(shape, tuple(parents))[last] = _Rows(_shape(component.children))
        elif component.type == "group":
            _shape(component.children, _ensure(shape, tuple(component.path.split("."))) if component.path else shape)
    return shape


def _get(data: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    value: Any = data
    for name in names:
        if not isinstance(value, Mapping) or name not in value:
            return _MISSING
        value = value[name]
    return value


def _ensure(data: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    for name in names:
        existing = data.get(name)
        if not isinstance(existing, dict):
            existing = data[name] = {}
        data = existing
    return data


def _put(data: dict[str, Any], names: tuple[str, ...], value: Any) -> None:
    _ensure(data, names[:-1])[names[-1]] = value


def _merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for name, value in over.items():
        below = merged.get(name)
        both = isinstance(below, Mapping) and isinstance(value, Mapping)
        merged[name] = _merged(below, value) if both else value  # type: ignore[arg-type]
    return merged


def nest_fields(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Nested data from flat field names as an HTML form posts them: `a.b` and `items[0].amount`."""
    nested: dict[Any, Any] = {}
    for name, value in flat.items():
        parts: list[str | int] = [m.group(1) if m.group(1) is not None else int(m.group(2))
                                  for m in _INDEX.finditer(name)]
        target = nested
        for part in parts[:-1]:
            if not isinstance(target.get(part, {}), dict):
                raise ValidationFailed.for_fields({name: "clashes with another field of the same name"})
            target = target.setdefault(part, {})
        if parts:
            target[parts[-1]] = value
    return _as_lists(nested)  # type: ignore[no-any-return]


def _as_lists(value: Any) -> Any:
    """Dicts keyed by row numbers become lists in row order."""
    if not isinstance(value, dict):
        return value
    if value and all(isinstance(name, int) for name in value):
        return [_as_lists(value[index]) for index in sorted(value)]
    return {name: _as_lists(item) for name, item in value.items()}
