"""`request/close`: close the request with its outcome (resolved, rejected, blocked, no_response)."""

from __future__ import annotations

from typing import Any

from ..domain.errors import ServiceTaskError
from .registry import Param, ServiceContext, ServiceTaskDefinition

OUTCOMES = ("resolved", "rejected", "blocked", "withdrawn", "no_response")


def close(ctx: ServiceContext, inputs: dict[str, Any]) -> dict[str, Any]:
    outcome = str(inputs["outcome"])
    if outcome not in OUTCOMES:
        raise ServiceTaskError(f"outcome must be one of {', '.join(OUTCOMES)}, got {outcome!r}",
                               error_code="bad_outcome", field="outcome")
    now = ctx.clock.now()
    record = ctx.record
    if record.status != "closed":
        record.status = "closed"
        record.closed_at = now
        record.outcome = outcome
        record.resolution["outcome"] = outcome
        record.resolution["closed_at"] = now.isoformat()
    return {"closed_at": (record.closed_at or now).isoformat()}


DEFINITION = ServiceTaskDefinition(
    topic="request/close", title="Close request",
    description="Closes the request record with its outcome and time.",
    inputs=(Param("outcome", "string", "resolved | rejected | blocked | withdrawn"),),
    outputs=(Param("closed_at", "string", "ISO time of closure"),),
    handler=close,
)
