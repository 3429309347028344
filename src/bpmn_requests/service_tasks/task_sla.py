"""`task/remind` and `task/escalate`: what a diagram's SLA timers do to the user task they are attached to.

A non-interrupting timer before the SLA target leads to `task/remind` (whoever holds the task is reminded;
the inbox shows it); one at the target leads to `task/escalate`, which offers the task to a supervisors'
group as well and marks it escalated. Both name the task by its element id (`task`), as drawn.
"""

from __future__ import annotations

from typing import Any

from ..domain.errors import ServiceTaskError
from ..domain.ports import TaskBoard
from .registry import Param, ServiceContext, ServiceTaskDefinition


def _board(ctx: ServiceContext, topic: str) -> TaskBoard:
    if ctx.tasks is None:
        raise ServiceTaskError(f"{topic} runs only inside a request's process", error_code="no_instance")
    return ctx.tasks


def remind(ctx: ServiceContext, inputs: dict[str, Any]) -> dict[str, Any]:
    element = str(inputs["task"])
    _board(ctx, "task/remind").remind(element)
    return {"reminded_task": element}


def escalate(ctx: ServiceContext, inputs: dict[str, Any]) -> dict[str, Any]:
    element, group = str(inputs["task"]), str(inputs["group"]).strip()
    if not group:
        raise ServiceTaskError("group: name the group the task escalates to", error_code="invalid_input",
                               field="group")
    _board(ctx, "task/escalate").escalate(element, group)
    classification = dict(ctx.record.classification or {})
    classification.setdefault("breached_at", ctx.clock.now().isoformat())
    ctx.record.classification = classification
    return {"escalated_task": element, "escalated_to": group}


DEFINITIONS = (
    ServiceTaskDefinition(
        topic="task/remind", title="Remind the task's holder",
        description="Reminds whoever holds the user task that its SLA target is near (shown in the inbox).",
        inputs=(Param("task", "string", "element id of the user task"),),
        outputs=(Param("reminded_task", "string", "the element id"),),
        handler=remind),
    ServiceTaskDefinition(
        topic="task/escalate", title="Escalate the task",
        description="Offers the user task to a supervisors' group too, marked escalated, and records the breach.",
        inputs=(Param("task", "string", "element id of the user task"),
                Param("group", "string", "the group it escalates to, e.g. ar_supervisors")),
        outputs=(Param("escalated_task", "string", "the element id"),
                 Param("escalated_to", "string", "the group")),
        handler=escalate),
)
