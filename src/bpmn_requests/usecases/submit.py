"""Submit a request: the one submit path of the portal, the API and the command line.

With an idempotency key (the API's Idempotency-Key header) the key and the result are recorded in the
transaction that creates the request: a retry with the same body gets the first result back, a retry with
another body is refused, and a concurrent retry cannot create a second request.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from ..domain.errors import IdempotencyConflict, IdempotencyKeyTaken, ProcessError, ValidationFailed
from ..domain.intake import Intake, parse_intake
from ..domain.requests import RequestRecord, customer_status
from .context import Services, announce_due, jsonable
from .lifecycle import TaskChanges, apply_snapshot, run_context
from .ports import HumanTask, InstanceRow, UnitOfWork

# What the API answers a created request with; stored with the key, so a retry answers the same.
CREATED = 201


@dataclass(frozen=True)
class SubmitRequest:
    data: Mapping[str, Any]
    submitted_by: str  # a staff username, or customer:<id> from the portal
    channel: str = "cli"
    idempotency_key: str | None = None
    body_sha256: str | None = None  # of the canonical JSON body; computed from `data` when not given


@dataclass(frozen=True)
class Submitted:
    reference: str
    status: str
    customer_status: str
    instance_id: str
    opened_tasks: tuple[HumanTask, ...]
    replayed: bool = False  # the stored first result, returned again for a retried idempotency key


def body_digest(data: Any) -> str:
    """sha256 of the canonical JSON of a request body (sorted keys, no spaces): what a retry must match."""
    text = json.dumps(jsonable(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
    if cmd.idempotency_key is not None:
        _check_key(cmd.idempotency_key)
    try:
        return _submit(cmd, intake, services)
    except IdempotencyKeyTaken:
        # A concurrent request with the same key committed first; this attempt rolled back and now finds
        # that result (or a conflict, when the bodies differ).
        return _submit(cmd, intake, services)


def _submit(cmd: SubmitRequest, intake: Intake, services: Services) -> Submitted:
    with services.uow() as uow:
        stored = _replay_or_reserve(uow, cmd, services) if cmd.idempotency_key is not None else None
        if stored is not None:
            return stored
        deployment = uow.deployments.active()
        if deployment is None:
            raise ProcessError("no process version is deployed: run `bpmn-requests init` first")
        bundle = services.bundle(deployment)
        record = _record(intake, cmd.submitted_by, services)
        instance_id = uuid.uuid4().hex
        changes = TaskChanges()
        ctx = run_context(services, uow, record, instance_id, changes)
        snapshot = services.engine.start(bundle, services.main_process, intake.process_data(), ctx.bridge,
                                         instance_id, ctx=ctx)
        if not record.reference and snapshot.pending_async:
            # Every Camunda 8 service task is a job, request/register too; a request needs its number in
            # the transaction that accepts it, so that job runs now (later jobs still wait for a worker).
            ctx = run_context(services, uow, record, instance_id, changes, run_async=True)
            snapshot = services.engine.advance(bundle, services.main_process, snapshot.state, ctx.bridge,
                                               instance_id, ctx=ctx)
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
                                {"status": "submitted", "priority": intake.priority, "outcome": None}, changes)
        uow.instances.save(instance)
        submitted = Submitted(record.reference, record.status, customer_status(record.status), instance_id,
                              tuple(opened))
        if cmd.idempotency_key is not None:
            uow.idempotency.complete(cmd.idempotency_key, cmd.submitted_by, CREATED, record.reference,
                                     _result_json(submitted))
        uow.commit()
    announce_due(services, instance)
    return submitted


def _check_key(key: str) -> None:
    if not 1 <= len(key) <= 200 or not all(33 <= ord(c) <= 126 for c in key):
        raise ValidationFailed("Idempotency-Key must be 1 to 200 visible ASCII characters, without spaces",
                               field="Idempotency-Key")


def _replay_or_reserve(uow: UnitOfWork, cmd: SubmitRequest, services: Services) -> Submitted | None:
    """The first result of this key, or None after recording the key for this request."""
    assert cmd.idempotency_key is not None
    digest = cmd.body_sha256 or body_digest(cmd.data)
    stored = uow.idempotency.get(cmd.idempotency_key, cmd.submitted_by)
    if stored is None:
        uow.idempotency.reserve(cmd.idempotency_key, cmd.submitted_by, digest, services.clock.now())
        return None
    if stored.request_sha256 != digest or stored.response is None:
        raise IdempotencyConflict(
            f"Idempotency-Key {cmd.idempotency_key!r} was first sent with a different request, which created "
            f"{stored.reference}; send a new key for a new request",
            details={"existing_reference": stored.reference})
    return replace(_result_from_json(stored.response), replayed=True)


def _result_json(submitted: Submitted) -> dict[str, Any]:
    return {"reference": submitted.reference, "status": submitted.status,
            "customer_status": submitted.customer_status, "instance_id": submitted.instance_id,
            "opened_tasks": [jsonable(asdict(t)) for t in submitted.opened_tasks]}


def _result_from_json(data: Mapping[str, Any]) -> Submitted:
    tasks = []
    for values in data["opened_tasks"]:
        task = dict(values, candidate_groups=tuple(values["candidate_groups"]))
        for name in ("created_at", "completed_at"):
            task[name] = datetime.fromisoformat(task[name]) if task.get(name) else None
        tasks.append(HumanTask(**task))
    return Submitted(data["reference"], data["status"], data["customer_status"], data["instance_id"],
                     tuple(tasks))
