"""`request/route`: record the classification (team, priority, SLA target) on the request record."""

from __future__ import annotations

from typing import Any

from ..domain.requests import PRIORITIES
from .registry import Param, ServiceContext, ServiceTaskDefinition


def route(ctx: ServiceContext, inputs: dict[str, Any]) -> dict[str, Any]:
    routed = str(inputs["routed_priority"])
    submitted = ctx.record.priority
    # The more urgent of what the customer asked and what the table says wins.
    if routed in PRIORITIES and PRIORITIES.index(routed) > PRIORITIES.index(submitted):
        ctx.record.priority = routed
    hours = int(inputs["sla_hours"])
    # The SLA target counts business hours of the configured calendar (weekends and holidays don't).
    due = ctx.settings.calendar.add(ctx.record.submitted_at, hours)
    ctx.record.classification = {
        "team": str(inputs["team"]), "priority": ctx.record.priority, "sla_hours": hours,
        "due_at": due.isoformat(), "routed_at": ctx.clock.now().isoformat(),
        "calendar": {"zone": ctx.settings.calendar.zone, "opens": ctx.settings.calendar.opens.isoformat(),
                     "closes": ctx.settings.calendar.closes.isoformat()},
    }
    return {"routed_to": str(inputs["team"])}


DEFINITION = ServiceTaskDefinition(
    topic="request/route", title="Route request",
    description="Writes team, priority and SLA target from the classification table to the request record.",
    inputs=(Param("team", "string", "team that handles the request"),
            Param("routed_priority", "string", "priority from the classification table"),
            Param("sla_hours", "integer", "SLA target in business hours")),
    outputs=(Param("routed_to", "string", "the team"),),
    handler=route,
)
