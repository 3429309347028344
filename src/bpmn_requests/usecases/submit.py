"""Submit a request: the one submit path of the portal, the API and the command line."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..domain.errors import ProcessError
from ..domain.intake import Intake, parse_intake
from ..domain.requests import RequestRecord, customer_status
from .context import Services, jsonable
from .lifecycle import apply_snapshot, service_bridge
from .ports import HumanTask, InstanceRow


@dataclass(frozen=True)
class SubmitRequest:
    data: Mapping[str, Any]
    submitted_by: str  # a staff username, or customer:<id> from the portal
    channel: str = "cli"


@dataclass(frozen=True)
class Submitted:
    reference: str
    status: str
    customer_status: str
    instance_id: str
    opened_tasks: tuple[HumanTask, ...]


def _record(intake: Intake, submitted_by: str, services: Services) -> RequestRecord:
    details = jsonable({k: v for k, v in intake.process_data().items()
                        if k in ("invoice_numbers", "payment_references", "disputed_amount", "requested_limit",
                                 "installments", "adjustment_kind") and v not in (None, [])})
    return RequestRecord(reference="", type=intake.type, customer_id=intake.customer_id,
                         description=intake.description, submitted_at=services.clock.now(),
                         requested_by=submitted_by, priority=intake.priority, channel=intake.channel,
                         currency=intake.currency, details=details)


def submit_request(cmd: SubmitRequest, services: Services) -> Submitted:
    """Validate, register and run a new request to its first wait state, in one transaction."""
    intake = parse_intake(cmd.data, default_channel=cmd.channel)
    with services.uow() as uow:
        deployment = uow.deployments.active()
        if deployment is None:
            raise ProcessError("no process version is deployed: run `bpmn-requests init` first")
        bundle = services.bundle(deployment)
        record = _record(intake, cmd.submitted_by, services)
        instance_id = uuid.uuid4().hex
        snapshot = services.engine.start(bundle, services.main_process, intake.process_data(),
                                         service_bridge(services, uow, record), instance_id)
        if not record.reference:
            raise ProcessError(f"process {services.main_process} did not register the request: "
                               f"it needs a request/register service task before its first wait state")
        now = services.clock.now()
        instance = InstanceRow(id=instance_id, request_reference=record.reference, deployment_id=deployment.id,
                               process_id=services.main_process, state=snapshot.state, status="running",
                               version=0, created_at=now, updated_at=now)
        uow.requests.add(record)
        uow.instances.add(instance)
        uow.audit.record(cmd.submitted_by, "request.submitted", record.reference, None,
                         {"type": record.type, "customer": record.customer_id, "details": record.details,
                          "channel": record.channel, "deployment": deployment.id})
        opened = apply_snapshot(uow, services, instance, record, snapshot, cmd.submitted_by,
                                {"status": "submitted", "priority": intake.priority, "outcome": None})
        uow.instances.save(instance)
        uow.commit()
    return Submitted(record.reference, record.status, customer_status(record.status), instance_id, tuple(opened))
