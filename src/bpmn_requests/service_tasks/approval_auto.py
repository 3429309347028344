"""`approval/auto`: the approval of an action under the automatic tolerance (approval level 0)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..domain.errors import ServiceTaskError
from ..domain.requests import Approval
from .registry import Param, ServiceContext, ServiceTaskDefinition


def approve_automatically(ctx: ServiceContext, inputs: dict[str, Any]) -> dict[str, Any]:
    level = int(inputs["approval_level"])
    if level != 0:
        raise ServiceTaskError(f"approval_level {level} needs a person; only level 0 is automatic",
                               error_code="needs_approver", field="approval_level")
    action, amount = str(inputs["action"]), Decimal(str(inputs["action_amount"]))
    record = ctx.record
    # A retried step starts from the last committed record, so it cannot approve twice.
    approval = Approval(
        id=f"AUTO-{record.reference}-{len(record.approvals) + 1}", level=0, approver="system",
        decision="approve", comment=f"{action} of {amount} is within the automatic authority",
        decided_at=ctx.clock.now(), action=action, amount=amount, proposed_by=ctx.data.get("proposed_by"))
    record.approvals.append(approval)
    return {"approval_id": approval.id}


DEFINITION = ServiceTaskDefinition(
    topic="approval/auto", title="Approve automatically",
    description="Records the automatic approval of an action that needs approval level 0.",
    inputs=(Param("action", "string", "the action to approve"),
            Param("action_amount", "decimal", "its amount"),
            Param("approval_level", "integer", "must be 0")),
    outputs=(Param("approval_id", "string", "the approval's id"),),
    handler=approve_automatically,
)
