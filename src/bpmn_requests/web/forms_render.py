"""Camunda Forms as HTML: a form definition and the task's data become a tree of fields for the Jinja macros
in templates/forms/, and a posted HTML form becomes the nested data the one validator checks.

Rendering works without JavaScript: hidden fields (`conditional.hide`) are evaluated here over the task data
merged with what the user typed; static/forms.js re-evaluates the same expressions as the user types.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from ..forms import Component, FeelExpression, FormDefinition, Option, display, nest_fields
from ..forms.fields import Invalid, clean_value, field_options

# Names of the renderer's own buttons: a hyphen is never part of a form key, so they cannot clash.
ADD_ROW, REMOVE_ROW, REFRESH = "form-add-row", "form-remove-row", "form-refresh"
CONTROL_NAMES = frozenset({"csrf_token", ADD_ROW, REMOVE_ROW, REFRESH})
MULTI_TYPES = frozenset({"checklist", "taglist"})
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_markdown: Any = None


@dataclass
class Choice:
    label: str
    value: str  # as posted
    selected: bool
    json: str  # the option's typed value, for the script's conditions


@dataclass
class Field:
    """One component ready to draw; `name` is the flat HTML name (`group.key`, `rows[0].amount`)."""

    c: Component
    name: str
    html_id: str
    value: Any = None  # text for inputs, a list of texts for multiple choice, a bool for a checkbox
    choices: list[Choice] = field(default_factory=list)
    error: str | None = None
    hidden: bool = False
    off: bool = False  # hidden itself or inside a hidden group: its inputs are disabled
    locked: bool = False  # readonly or disabled by the form: never taken from the user
    attrs: dict[str, str] = field(default_factory=dict)
    html: Markup | None = None
    rows: list[Row] = field(default_factory=list)  # group: one row without a path; dynamic list: one per entry
    blank: Row | None = None  # dynamic list: the row a script clones

    @property
    def hide(self) -> str | None:
        flag = self.c.conditional_hide
        return flag.source if isinstance(flag, FeelExpression) else None

    @property
    def described_by(self) -> str | None:
        ids = [f"{self.html_id}-desc" if self.c.description else "", f"{self.html_id}-error" if self.error else ""]
        return " ".join(i for i in ids if i) or None


@dataclass
class Row:
    """Fields laid out in lines (form-js layout rows); `path` is a dynamic-list row's name (`rows[0]`)."""

    lines: list[list[Field]]
    path: str = ""


@dataclass
class RenderedForm:
    fields: list[list[Field]]
    other_errors: dict[str, str]  # errors for names no visible field shows
    context: dict[str, Any]  # the task data as plain JSON values, for the script's conditions
    has_conditions: bool


def render_form(form: FormDefinition, data: Mapping[str, Any], submitted: Mapping[str, Any] | None = None,
                errors: Mapping[str, str] | None = None, today: date | None = None) -> RenderedForm:
    """The form's fields with values (submitted ones when given, else the task data and defaults)."""
    today = today or date.today()
    raw = submitted if submitted is not None else _initial(form.components, data)
    env = _merge(data, _typed(form.components, raw, data, today))
    builder = _Builder(data, dict(errors or {}), submitted is not None, today)
    lines = builder.lines(form.components, raw, env, "")
    return RenderedForm(lines, builder.errors, _plain(data), builder.conditions)


class _Builder:
    def __init__(self, data: Mapping[str, Any], errors: dict[str, str], posted: bool, today: date):
        self.data, self.errors, self.posted, self.today, self.conditions = data, errors, posted, today, False

    def lines(self, components: Sequence[Component], raw: Any, env: Mapping[str, Any], prefix: str,
              template: str | None = None, hidden_above: bool = False) -> list[list[Field]]:
        out: list[list[Field]] = []
        last_row: str | None = None
        for component in components:
            built = self.field(component, raw if isinstance(raw, Mapping) else {}, env, prefix, template,
                               hidden_above)
            if out and component.layout_row and component.layout_row == last_row:
                out[-1].append(built)
            else:
                out.append([built])
            last_row = component.layout_row
        return out

    def field(self, c: Component, raw: Mapping[str, Any], env: Mapping[str, Any], prefix: str,
              template: str | None, hidden_above: bool) -> Field:
        key = c.key or c.path or ""
        name = f"{prefix}{key}" if key else f"{prefix}{c.id}"
        f = Field(c, name, _html_id(name if key else f"{prefix}{c.id}"))
        self.conditions = self.conditions or f.hide is not None
        f.hidden = _on(c.conditional_hide, env)
        f.off = f.hidden or hidden_above
        f.error = None if template or f.off else self.errors.pop(name, None)
        if c.is_input:
            self.input(f, raw, env)
        elif c.type == "text" and c.template is not None:
            f.html = _markdown_html(c.template.render(env))
        elif c.type == "group":
            inner = _get(raw, c.path) if c.path else raw
            f.rows = [Row(self.lines(c.children, inner, env, f"{name}." if c.path else prefix, template, f.off))]
        elif c.type == "dynamiclist":
            self.dynamic_list(f, raw, env)
        return f

    def input(self, f: Field, raw: Mapping[str, Any], env: Mapping[str, Any]) -> None:
        c = f.c
        f.locked = _on(c.readonly, env) or _on(c.disabled, env)
        value = _get(raw, c.key) if not f.locked else _get(self.data, c.key)
        if value is None and f.locked and c.has_default:
            value = c.default_value
        try:
            options = field_options(c, env)
        except Invalid as invalid:
            options, f.error = (), f.error or invalid.message
        if c.type in MULTI_TYPES:
            chosen = {display(v) for v in (value if isinstance(value, list | tuple) else [])}
            f.choices = [_choice(o, display(o.value) in chosen) for o in options]
        elif c.type in ("radio", "select"):
            f.choices = [_choice(o, _same(o, value)) for o in options]
        elif c.type == "checkbox":
            f.value = value is True or (isinstance(value, str) and value.lower() in ("true", "on"))
        else:
            f.value = _as_text(value, c.subtype if c.type == "datetime" else None)
        f.attrs = _input_attrs(f, self.today)

    def dynamic_list(self, f: Field, raw: Mapping[str, Any], env: Mapping[str, Any]) -> None:
        c = f.c
        entries = _get(raw, c.path)
        entries = list(entries) if isinstance(entries, list | tuple) else ([] if self.posted else [{}])
        typed_rows = _get(env, c.path)  # conditions see typed values ("3" as a number), as the validator does
        for index, entry in enumerate(entries):
            entry = entry if isinstance(entry, Mapping) else {}
            typed = typed_rows[index] if isinstance(typed_rows, list) and index < len(typed_rows) else entry
            path = f"{f.name}[{index}]"
            row_env = _row_env(env, typed if isinstance(typed, Mapping) else entry)
            f.rows.append(Row(self.lines(c.children, entry, row_env, f"{path}.", None, f.off), path))
        placeholder = f"{f.name}[__ROW_{c.id}__]"
        f.blank = Row(self.lines(c.children, {}, _row_env(env, {}), f"{placeholder}.", template=placeholder),
                      placeholder)
        f.attrs = {"data-next": str(len(entries)), "data-placeholder": f"__ROW_{c.id}__"}


def _input_attrs(f: Field, today: date) -> dict[str, str]:
    """The HTML attributes of the input: type, constraints, state and what describes it."""
    c, rules = f.c, f.c.validate
    attrs: dict[str, str] = {}
    if c.type == "textfield":
        attrs["type"] = {"email": "email", "phone": "tel"}.get(rules.validation_type or "", "text")
    elif c.type == "number":
        attrs.update(type="number", inputmode="decimal", step=_step(c))
    elif c.type == "datetime":
        attrs["type"] = {"time": "time", "datetime": "datetime-local"}.get(c.subtype or "date", "date")
        if c.disallow_passed_dates and c.subtype != "time":
            attrs["min"] = today.isoformat() + ("T00:00" if c.subtype == "datetime" else "")
    for attr, rule in (("min", rules.min), ("max", rules.max)):
        if isinstance(rule, Decimal) and c.type == "number":
            attrs[attr] = display(rule)
    for attr, length in (("minlength", rules.min_length), ("maxlength", rules.max_length)):
        if isinstance(length, int) and c.type in ("textfield", "textarea"):
            attrs[attr] = str(length)
    if rules.pattern is not None and c.type == "textfield":
        # form-js tests the pattern unanchored, HTML anchors it: wrap it so both mean the same.
        attrs["pattern"] = f".*(?:{rules.pattern.pattern}).*"
        if rules.pattern_error_message:
            attrs["title"] = rules.pattern_error_message
    if rules.required and c.type not in ("checklist",):
        attrs["required"] = ""
    if f.locked:
        attrs["data-locked"] = "true"
        attrs["readonly" if c.type in ("textfield", "textarea", "number", "datetime") else "disabled"] = ""
    if f.off:
        attrs["disabled"] = ""  # not submitted while hidden, as with the script
    if f.error:
        attrs["aria-invalid"] = "true"
    if f.described_by:
        attrs["aria-describedby"] = f.described_by
    return attrs


def _step(c: Component) -> str:
    if c.increment is not None:
        return display(c.increment)
    if c.decimal_digits is not None:
        return "1" if c.decimal_digits == 0 else display(Decimal(1).scaleb(-c.decimal_digits))
    return "any"


def parse_post(form: FormDefinition, posted: MultiDict[str, str]) -> dict[str, Any]:
    """The nested data of a posted HTML form: control buttons dropped, multiple choices as lists."""
    multi = _multi_names(form.components, "")
    flat: dict[str, Any] = {}
    for name in posted:
        if name in CONTROL_NAMES:
            continue
        values = posted.getlist(name)
        flat[name] = values if re.sub(r"\[\d+\]", "[]", name) in multi else values[-1]
    return nest_fields(flat)


def _multi_names(components: Sequence[Component], prefix: str) -> set[str]:
    names: set[str] = set()
    for c in components:
        if c.type in MULTI_TYPES and c.key:
            names.add(prefix + c.key)
        elif c.type == "group":
            names |= _multi_names(c.children, f"{prefix}{c.path}." if c.path else prefix)
        elif c.type == "dynamiclist" and c.path:
            names |= _multi_names(c.children, f"{prefix}{c.path}[].")
    return names


def add_row(data: dict[str, Any], list_name: str) -> None:
    """One more (empty) row in the dynamic list named `list_name` (`rows`, `group.rows`, `rows[0].items`)."""
    parent, last = _locate(data, list_name)
    if isinstance(parent, dict) and isinstance(last, str):
        rows = parent.get(last)
        parent[last] = [*rows, {}] if isinstance(rows, list) else [{}]


def remove_row(data: dict[str, Any], row_name: str) -> None:
    """Drop the row named `row_name` (`rows[2]`)."""
    parent, last = _locate(data, row_name)
    if isinstance(parent, list) and isinstance(last, int) and last < len(parent):
        parent.pop(last)


def _locate(data: Any, name: str) -> tuple[Any, str | int | None]:
    parts: list[str | int] = [m.group(1) if m.group(1) is not None else int(m.group(2)) for m in _PART.finditer(name)]
    target = data
    for part in parts[:-1]:
        if isinstance(target, dict) and isinstance(part, str):
            target = target.setdefault(part, {})
        elif isinstance(target, list) and isinstance(part, int) and part < len(target):
            target = target[part]
        else:
            return None, None
    return target, (parts[-1] if parts else None)


def _initial(components: Sequence[Component], data: Mapping[str, Any]) -> dict[str, Any]:
    """What the form starts with: the task's variables, else each field's default."""
    out: dict[str, Any] = {}
    for c in components:
        if c.is_input and c.key:
            value = _get(data, c.key)
            _put(out, c.key, value if value is not None else (c.default_value if c.has_default else None))
        elif c.type == "group":
            inner = _initial(c.children, _get(data, c.path) or {} if c.path else data)
            if c.path:
                _put(out, c.path, inner)
            else:
                out.update(inner)
        elif c.type == "dynamiclist" and c.path and isinstance(_get(data, c.path), list):
            _put(out, c.path, [_initial(c.children, r) if isinstance(r, Mapping) else {} for r in _get(data, c.path)])
    return out


def _typed(components: Sequence[Component], raw: Any, env: Mapping[str, Any], today: date) -> dict[str, Any]:
    """`raw` with each value converted as the validator does (so "12.5" compares as a number), bad ones kept.

    Readonly and disabled fields are left out: they keep the process variable, as the validator does.
    """
    out: dict[str, Any] = {}
    raw = raw if isinstance(raw, Mapping) else {}
    for c in components:
        if c.is_input and c.key and not (_on(c.readonly, env) or _on(c.disabled, env)):
            value = _get(raw, c.key)
            if value is None and c.has_default:
                value = c.default_value
            with contextlib.suppress(Invalid):  # a value that does not convert is compared as typed
                value = clean_value(c, value, field_options(c, env), today, env, check_rules=False)
            _put(out, c.key, value)
        elif c.type == "group":
            inner = _typed(c.children, _get(raw, c.path) if c.path else raw, env, today)
            if c.path:
                _put(out, c.path, inner)
            else:
                out.update(inner)
        elif c.type == "dynamiclist" and c.path and isinstance(_get(raw, c.path), list):
            _put(out, c.path, [_typed(c.children, r, env, today) for r in _get(raw, c.path)])
    return out


def _row_env(env: Mapping[str, Any], row: Mapping[str, Any]) -> dict[str, Any]:
    return {**env, **row, "this": row}  # inside a row, its fields shadow variables of the same name


def _on(flag: bool | FeelExpression, env: Mapping[str, Any]) -> bool:
    return flag.is_true(env) if isinstance(flag, FeelExpression) else flag


def _choice(option: Option, selected: bool) -> Choice:
    return Choice(option.label, display(option.value), selected, json.dumps(_plain(option.value)))


def _same(option: Option, value: Any) -> bool:
    return value is not None and value != "" and display(option.value) == display(value)


def _as_text(value: Any, subtype: str | None) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M") if subtype == "datetime" else value.date().isoformat()
    return display(value) if not isinstance(value, str) else value


def _markdown_html(text: str) -> Markup:
    """Markdown with raw HTML off (so data is escaped); headings one level down, under the page's own h1."""
    global _markdown
    if _markdown is None:
        from markdown_it import MarkdownIt
        _markdown = MarkdownIt("commonmark", {"html": False})
    tokens = _markdown.parse(text)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"
    return Markup(_markdown.renderer.render(tokens, _markdown.options, {}))  # raw HTML is off: markdown-it escapes it


def _html_id(name: str) -> str:
    return "f-" + re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")


def _get(data: Any, dotted: str | None) -> Any:
    for part in (dotted or "").split("."):
        data = data.get(part) if isinstance(data, Mapping) else None
    return data


def _put(data: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        data = data.setdefault(part, {})
    data[last] = value


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        below = merged.get(key)
        merged[key] = _merge(below, value) if isinstance(below, Mapping) and isinstance(value, Mapping) else value
    return merged


def _plain(value: Any) -> Any:
    """JSON values for the browser: numbers stay numbers (the script compares them), dates become text."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value if value is None or isinstance(value, bool | int | float | str) else str(value)
