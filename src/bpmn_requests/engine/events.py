"""Timers that read our clock, message receivers we correlate ourselves, and what an instance waits for.

SpiffWorkflow's timers read `datetime.now()`; ours read the clock the use case binds to the script engine
for one run, so tests control time and a worker fires a timer exactly when the database says it is due.
A timer value is a quoted or bare ISO 8601 text (`PT48H`, `2026-12-31T17:00:00Z`, `R3/PT1H`, as Camunda
Modeler writes them), a JUEL/FEEL expression, or a Python expression.

Messages are routed by the application, not by SpiffWorkflow's correlation properties: each waiting
receiver (message catch event, receive task, message boundary event, event-based gateway branch) becomes
a `Subscription` with its message name and correlation key value, stored with the instance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.parser.event_parsers import (
    EventBasedGatewayParser,
    EventDefinitionParser,
    ReceiveTaskParser,
)
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.util import PendingBpmnEvent
from SpiffWorkflow.camunda.parser.event_parsers import (
    CamundaBoundaryEventParser,
    CamundaIntermediateCatchEventParser,
    CamundaStartEventParser,
)

from ..domain.errors import ProcessError

# A literal ISO 8601 date, duration or cycle, as Camunda Modeler writes a timer.
BARE_TIMER = re.compile(r"^(R\d*/|-?P\d|-?PT\d|\d{4}-\d{2}-\d{2})", re.IGNORECASE)


def now_of(task: Any) -> datetime:
    """The time of the current run: the clock the use case bound to the script engine."""
    engine = task.workflow.top_workflow.script_engine
    clock = getattr(engine, "clock", None)
    return clock() if clock is not None else datetime.now(UTC)


def timer_text(task: Any, expression: str) -> str:
    """The ISO 8601 text a timer stands for: a literal, or the value of its expression."""
    text = (expression or "").strip()
    if text.startswith(("'", '"')) and text.endswith(text[0]) and BARE_TIMER.match(text[1:-1]):
        return text[1:-1]
    if BARE_TIMER.match(text):
        return text
    value = task.workflow.script_engine.evaluate(task, text)
    if isinstance(value, datetime):
        return value.isoformat()
    if not isinstance(value, str) or not value.strip():
        raise ProcessError(f"element {task.task_spec.bpmn_id}: the timer {text!r} gave {value!r}, not an ISO 8601 "
                           f"date, duration or cycle", details={"element_id": task.task_spec.bpmn_id})
    return value.strip()


def _parse_duration(text: str, start: datetime) -> timedelta:
    return TimerEventDefinition.get_timedelta_from_start(TimerEventDefinition.parse_iso_duration(text), start)


def _refuse(task: Any, text: str, exc: Exception) -> ProcessError:
    return ProcessError(f"element {task.task_spec.bpmn_id}: the timer value {text!r} does not parse ({exc})",
                        details={"element_id": task.task_spec.bpmn_id})


class ClockedTimeDate(TimeDateEventDefinition):  # type: ignore[misc]
    """A timer at a date and time."""

    def has_fired(self, my_task: Any) -> bool:
        value = my_task._get_internal_data("event_value")
        if value is None:
            value = timer_text(my_task, self.expression)
            try:
                TimerEventDefinition.get_datetime(value)
            except ValueError as exc:
                raise _refuse(my_task, value, exc) from None
            my_task._set_internal_data(event_value=value)
        if TimerEventDefinition.get_datetime(value) <= now_of(my_task):
            my_task._set_internal_data(event_fired=True)
        return bool(my_task._get_internal_data("event_fired", False))


class ClockedDuration(DurationTimerEventDefinition):  # type: ignore[misc]
    """A timer a duration after the element was reached."""

    def has_fired(self, my_task: Any) -> bool:
        value = my_task._get_internal_data("event_value")
        now = now_of(my_task)
        if value is None:
            text = timer_text(my_task, self.expression)
            try:
                value = (now + _parse_duration(text, now)).isoformat()
            except Exception as exc:  # SpiffWorkflow raises a bare Exception for a malformed duration
                raise _refuse(my_task, text, exc) from None
            my_task._set_internal_data(event_value=value)
        if TimerEventDefinition.get_datetime(value) <= now:
            my_task._set_internal_data(event_fired=True)
        return bool(my_task._get_internal_data("event_fired", False))


class ClockedCycle(CycleTimerEventDefinition):  # type: ignore[misc]
    """`R<n>/<start or duration>[/<duration>]`: fires n times (forever without n)."""

    def cycle_complete(self, my_task: Any) -> bool:
        value = my_task._get_internal_data("event_value")
        now = now_of(my_task)
        if value is None:
            value = self._first(my_task, timer_text(my_task, self.expression), now)
        ready = False
        if value["cycles"] != 0:
            due = datetime.fromisoformat(value["next"])
            if due <= now:
                value["next"] = (due + timedelta(seconds=value["duration"])).isoformat()
                value["cycles"] -= 1
                ready = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
        my_task._set_internal_data(event_value=value)
        return ready

    @staticmethod
    def _first(my_task: Any, text: str, now: datetime) -> dict[str, Any]:
        parts = text.upper().replace("--", "/").split("/")
        try:
            cycles = int(parts[0].lstrip("R")) if parts[0].lstrip("R") else -1
            if len(parts) == 2:
                duration = _parse_duration(parts[1], now)
                start = now + duration
            elif parts[1].startswith("P"):
                end = TimerEventDefinition.get_datetime(parts[2])
                duration = TimerEventDefinition.get_timedelta_from_end(
                    TimerEventDefinition.parse_iso_duration(parts[1]), end)
                start = end - duration
            else:
                start = TimerEventDefinition.get_datetime(parts[1])
                duration = _parse_duration(parts[2], start)
        except Exception as exc:
            raise _refuse(my_task, text, exc) from None
        return {"cycles": cycles, "next": start.isoformat(), "duration": duration.total_seconds()}

    def details(self, my_task: Any) -> PendingBpmnEvent:
        value = my_task._get_internal_data("event_value")
        return PendingBpmnEvent(self.name, type(self).__name__, value["next"] if value else None)


TIMER_CLASSES = (ClockedTimeDate, ClockedDuration, ClockedCycle)


class ReceivedMessage(MessageEventDefinition):  # type: ignore[misc]
    """A message whose variables (already checked by the application) become process variables."""


class _EventParserMixin:
    """Our timer and message definitions, for every parser that reads event definitions."""

    def parse_timer_event(self, event: Any) -> Any:
        base = super().parse_timer_event(event)  # type: ignore[misc]  # its checks and error messages
        kinds = {TimeDateEventDefinition: ClockedTimeDate, DurationTimerEventDefinition: ClockedDuration,
                 CycleTimerEventDefinition: ClockedCycle}
        return kinds[type(base)](base.name, base.expression, description=base.description)

    def parse_message_event(self, message_event: Any) -> Any:
        base = EventDefinitionParser.parse_message_event(self, message_event)  # type: ignore[arg-type]
        return ReceivedMessage(base.name, base.correlation_properties, description=base.description)


class StartEventParser(_EventParserMixin, CamundaStartEventParser):  # type: ignore[misc]
    pass


class IntermediateCatchEventParser(_EventParserMixin, CamundaIntermediateCatchEventParser):  # type: ignore[misc]
    pass


class BoundaryEventParser(_EventParserMixin, CamundaBoundaryEventParser):  # type: ignore[misc]
    pass


class ReceiveTaskEventParser(_EventParserMixin, ReceiveTaskParser):  # type: ignore[misc]
    pass


class GatewayEventParser(_EventParserMixin, EventBasedGatewayParser):  # type: ignore[misc]
    pass


@dataclass(frozen=True)
class TimerDue:
    """A timer an instance waits for."""

    element_id: str
    process_id: str
    due_at: datetime


@dataclass(frozen=True)
class Subscription:
    """A message an instance waits for: delivered when a message of this name carries this key."""

    element_id: str  # the receiving element (for an event-based gateway: the branch's catch event)
    process_id: str
    message: str
    correlation_key: str | None


def _definitions(event_definition: Any) -> list[Any]:
    if isinstance(event_definition, MultipleEventDefinition):
        return list(event_definition.event_definitions)
    return [event_definition]


def timer_due(task: Any) -> datetime | None:
    """When a waiting timer task fires (None when it has no timer or its value is not known yet)."""
    if not any(isinstance(d, TimerEventDefinition) for d in _definitions(task.task_spec.event_definition)):
        return None
    value = task._get_internal_data("event_value")
    if isinstance(value, dict):  # a cycle
        value = value.get("next") if value.get("cycles") != 0 else None
    if not value:
        return None
    due = TimerEventDefinition.get_datetime(value)
    return due if due.tzinfo else due.replace(tzinfo=UTC)


def message_receivers(task: Any) -> list[tuple[str, str]]:
    """(element id, message name) of each message a waiting task receives."""
    spec = task.task_spec
    definitions = _definitions(spec.event_definition)
    if isinstance(spec.event_definition, MultipleEventDefinition) and len(spec.outputs) == len(definitions):
        # An event-based gateway keeps its branches' definitions in the order of its outputs.
        pairs = zip((o.bpmn_id or spec.bpmn_id for o in spec.outputs), definitions, strict=True)
    else:
        pairs = ((spec.bpmn_id, d) for d in definitions)
    return [(element, d.name) for element, d in pairs if isinstance(d, MessageEventDefinition)]
