"""The fakes a scenario runs with and the comparison that finds its first difference.

Service results are looked up by element id first, then by topic; a list gives one result per call.
Values compare the way an analyst reads them: 700 equals Decimal('700.00'), '2026-01-31' equals a date.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from ..domain.errors import DomainError, ServiceTaskError
from .runner import ServiceCall
from .scenario_files import Scenario


class ScenarioDifference(DomainError):
    """The run left what the scenario describes (no result for a service task, no data for a user task)."""


def show(value: Any) -> str:
    """A value as the scenario file would write it (Decimal as a number, a date as its ISO text)."""
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value, default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v))


class ServiceFake:
    """The service bridge of a scenario: results from the scenario, one per call where a list is given."""

    def __init__(self, results: Mapping[str, Any]):
        self.results = dict(results)
        self.used: dict[str, int] = {}

    def __call__(self, call: ServiceCall) -> dict[str, Any]:
        key = call.element_id if call.element_id in self.results else call.topic
        if key not in self.results:
            raise ScenarioDifference(f"service task {call.element_id} (topic {call.topic}) ran, but the scenario "
                                     f"gives no result for it: add {call.element_id!r} or {call.topic!r} under "
                                     f"\"services\"")
        result = self.results[key]
        if isinstance(result, list):
            count = self.used.get(key, 0)
            if count >= len(result):
                raise ScenarioDifference(f"service task {call.element_id} (topic {call.topic}) ran {count + 1} times, "
                                         f"but the scenario gives {len(result)} result(s) for {key!r}")
            self.used[key] = count + 1
            result = result[count]
        else:
            self.used[key] = self.used.get(key, 0) + 1
        if "raise" in result:
            error = result["raise"]
            raise ServiceTaskError(str(error.get("message") or f"{call.topic} failed"),
                                   error_code=str(error.get("code") or "failed"))
        return dict(result)

    def unused(self) -> list[str]:
        return [f"{key!r} ({len(value) - self.used.get(key, 0)} of {len(value)} results unused)"
                for key, value in self.results.items()
                if isinstance(value, list) and self.used.get(key, 0) < len(value)]


class Submissions:
    """What each user task is completed with, in order where a list is given."""

    def __init__(self, tasks: Mapping[str, Any]):
        self.queues = {key: list(value) if isinstance(value, list) else [value] for key, value in tasks.items()}
        self.repeat = {key for key, value in tasks.items() if not isinstance(value, list)}

    def has(self, element_id: str) -> bool:
        return bool(self.queues.get(element_id))

    def take(self, element_id: str) -> dict[str, Any]:
        queue = self.queues[element_id]
        return dict(queue[0] if element_id in self.repeat else queue.pop(0))

    def unused(self) -> list[str]:
        return [f"{key!r} ({len(queue)} submission(s) unused)" for key, queue in self.queues.items()
                if queue and key not in self.repeat]


def same(expected: Any, actual: Any) -> bool:
    """Equal, or equal as numbers or as ISO dates (JSON has neither Decimal nor date)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(same(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list) and isinstance(actual, list | tuple):
        return len(expected) == len(actual) and all(same(e, a) for e, a in zip(expected, actual, strict=True))
    if isinstance(expected, bool) or isinstance(actual, bool) or expected is None or actual is None:
        return expected is actual or expected == actual and type(expected) is type(actual)
    if isinstance(actual, Decimal | int) and isinstance(expected, Decimal | int | str):
        try:
            return Decimal(str(expected)) == Decimal(str(actual))
        except InvalidOperation:
            return False
    if isinstance(actual, date) and isinstance(expected, str):
        return actual.isoformat() == expected
    return bool(expected == actual)


def differences(scenario: Scenario, end: str | None, data: dict[str, Any], visited: list[str],
                error: DomainError | None, services: ServiceFake, tasks: Submissions,
                messages: Submissions | None = None, timers: list[str] | None = None) -> str | None:
    """The first way the run differs from the scenario's expectation, or None when it matches."""
    expect = scenario.expect
    if error is not None:
        if expect.error is None:
            return f"stopped with an error: {error.message}"
        if expect.error not in error.message:
            return f"expected an error containing {expect.error!r}, got: {error.message}"
    elif expect.error is not None:
        return f"expected an error containing {expect.error!r}, but the process ended at {end}"
    if expect.end is not None and end != expect.end:
        return f"expected to end at {expect.end}, ended at {end}"
    missing = [element for element in expect.path if element not in visited]
    if missing:
        return f"expected to pass {missing[0]}, which was not reached (visited: {', '.join(visited)})"
    if error is None:
        for key, value in expect.data.items():
            if key not in data:
                return f"expected {key} = {show(value)}, but {key} is not set"
            if not same(value, data[key]):
                return f"expected {key} = {show(value)}, got {show(data[key])}"
    leftovers = tasks.unused() + (messages.unused() if messages else []) + services.unused()
    leftovers += [f"timer {timer!r} (it never waited)" for timer in timers or []]
    if leftovers:
        return f"the scenario gives more than the run used: {leftovers[0]}"
    return None
