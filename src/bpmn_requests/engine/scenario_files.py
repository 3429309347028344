"""Scenario files: `<diagram>.scenarios.json` next to a diagram, read and checked before anything runs.

A file names the process to start (default: the diagram's only executable process), optional defaults
shared by its scenarios, and the scenarios: start data, what service tasks return (by element id or
topic; a list for repeated calls; `{"raise": {...}}` for an error), what each user task or receive task
is submitted with (by element id; a list for loops), the variables of the messages message catch events
receive (by element id), the timer events to fire (in order), and what is expected at the end. Numbers with a fraction are
read as Decimal, as money is everywhere else. processes/README.md describes the format for analysts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..domain.errors import ValidationFailed

SUFFIX = ".scenarios.json"
FILE_KEYS = {"process", "description", "defaults", "scenarios"}
SCENARIO_KEYS = {"name", "description", "start", "services", "tasks", "messages", "timers", "expect"}
DEFAULT_KEYS = {"start", "services", "tasks", "messages"}
EXPECT_KEYS = {"end", "data", "path", "error"}


@dataclass(frozen=True)
class Expectation:
    end: str | None = None  # the end event reached
    data: dict[str, Any] = field(default_factory=dict)  # process variables at the end
    path: tuple[str, ...] = ()  # elements that must have been reached
    error: str | None = None  # the run must stop with an error containing this text


@dataclass(frozen=True)
class Scenario:
    name: str
    start: dict[str, Any]
    services: dict[str, Any]  # element id or topic -> result, list of results, or {"raise": {...}}
    tasks: dict[str, Any]  # user or receive task element id -> submitted data, or a list of them
    expect: Expectation
    messages: dict[str, Any] = field(default_factory=dict)  # message catch event id -> variables (or a list)
    timers: tuple[str, ...] = ()  # timer events to fire, in order, each once, when they wait


@dataclass(frozen=True)
class ScenarioFile:
    path: Path
    diagram: Path
    process_id: str | None
    scenarios: tuple[Scenario, ...]


def scenario_path(diagram: Path) -> Path:
    return diagram.with_name(diagram.name.removesuffix(".bpmn") + SUFFIX)


def diagram_path(scenarios: Path) -> Path:
    return scenarios.with_name(scenarios.name.removesuffix(SUFFIX) + ".bpmn")


def find_diagrams(paths: list[Path]) -> list[Path]:
    """The diagrams named by `paths`: folders (every .bpmn in them), diagrams, or scenario files."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(path.glob("*.bpmn"))
        elif path.name.endswith(SUFFIX):
            found.append(diagram_path(path))
        elif path.suffix == ".bpmn":
            found.append(path)
        else:
            raise ValidationFailed(f"{path}: not a folder, a .bpmn diagram or a {SUFFIX} file", field=str(path))
    for diagram in found:
        if not diagram.is_file():
            raise ValidationFailed(f"{diagram}: no such diagram", field=str(diagram))
    return list(dict.fromkeys(found))


def _object(value: Any, where: str, keys: set[str] | None = None) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationFailed(f"{where} must be a JSON object", field=where)
    unknown = set(value) - keys if keys is not None else set()
    if unknown:
        raise ValidationFailed(f"{where}: unknown key {sorted(unknown)[0]!r} (allowed: {', '.join(sorted(keys or ()))})",
                               field=where)
    return dict(value)


def _results(value: Any, where: str) -> dict[str, Any]:
    """Each entry is an object or a list of objects; `raise` entries name a code and a message."""
    results = _object(value, where)
    for key, result in results.items():
        for item in result if isinstance(result, list) else [result]:
            _object(item, f"{where}.{key}")
            if "raise" in item:
                _object(item["raise"], f"{where}.{key}.raise", {"code", "message"})
    return results


def _submissions(defaults: dict[str, Any], body: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    """Element id -> an object of data, or a list of them (one per visit); the scenario's own entries win."""
    found = {**_object(defaults.get(key), f"{where}: {key}"), **_object(body.get(key), f"{where}: {key}")}
    for element, submitted in found.items():
        for item in submitted if isinstance(submitted, list) else [submitted]:
            _object(item, f"{where}: {key}.{element}")
    return found


def _scenario(raw: Any, index: int, defaults: dict[str, Any], source: Path) -> Scenario:
    where = f"{source.name}: scenario {index + 1}"
    body = _object(raw, where, SCENARIO_KEYS)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValidationFailed(f"{where} has no name", field="name")
    where = f"{source.name}: scenario {name!r}"
    expect = _object(body.get("expect"), f"{where}: expect", EXPECT_KEYS)
    path = expect.get("path", [])
    if not isinstance(path, list) or not all(isinstance(p, str) for p in path):
        raise ValidationFailed(f"{where}: expect.path must be a list of element ids", field="path")
    tasks = _submissions(defaults, body, "tasks", where)
    messages = _submissions(defaults, body, "messages", where)
    timers = body.get("timers", [])
    if not isinstance(timers, list) or not all(isinstance(t, str) and t for t in timers):
        raise ValidationFailed(f"{where}: timers must be a list of timer event ids", field="timers")
    return Scenario(
        name=name.strip(),
        start={**_object(defaults.get("start"), f"{where}: start"), **_object(body.get("start"), f"{where}: start")},
        services={**_results(defaults.get("services"), f"{where}: services"),
                  **_results(body.get("services"), f"{where}: services")},
        tasks=tasks,
        messages=messages,
        timers=tuple(timers),
        expect=Expectation(end=expect.get("end"), data=_object(expect.get("data"), f"{where}: expect.data"),
                           path=tuple(path), error=expect.get("error")),
    )


def load_scenarios(path: Path) -> ScenarioFile:
    """Read and check one scenario file; ValidationFailed names the file, the scenario and the key."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"{path}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
                               field=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"{path}: cannot be read: {exc}", field=str(path)) from None
    body = _object(raw, path.name, FILE_KEYS)
    defaults = _object(body.get("defaults"), f"{path.name}: defaults", DEFAULT_KEYS)
    scenarios = body.get("scenarios")
    if not isinstance(scenarios, list) or not scenarios:
        raise ValidationFailed(f"{path.name}: 'scenarios' must be a non-empty list", field="scenarios")
    parsed = tuple(_scenario(item, i, defaults, path) for i, item in enumerate(scenarios))
    names = [s.name for s in parsed]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValidationFailed(f"{path.name}: scenario name {twice[0]!r} is used twice", field="name")
    process = body.get("process")
    if process is not None and not isinstance(process, str):
        raise ValidationFailed(f"{path.name}: 'process' must be a process id", field="process")
    return ScenarioFile(path, diagram_path(path), process, parsed)
