"""Marshmallow schemas of the REST API: what a request body may hold and what a response looks like.

Bodies are checked for shape and types here; what a value must mean (a valid customer id, a positive
amount, the fields a request type needs) is checked once, by the intake rules and the form validator.
Money is always a decimal string ("700.00"), never a JSON number.
"""

from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields, validate

from ...domain.intake import ADJUSTMENT_KINDS, CUSTOMER_ID
from ...domain.money import CURRENCIES
from ...domain.requests import CHANNELS, CUSTOMER_STATUS, PRIORITIES, REQUEST_TYPES

AMOUNT = {"description": "a positive decimal amount as a string, at most two decimals", "example": "700.00"}
Links = fields.Dict(keys=fields.String(), values=fields.String(), metadata={"description": "related URLs"})


class ErrorSchema(Schema):
    """The one error shape of the API, for every status from 400 to 500."""

    code = fields.String(required=True, metadata={
        "description": "stable and machine-readable: invalid, malformed_json, unauthorized, forbidden, "
                       "rule_violation, not_found, method_not_allowed, conflict, duplicate, "
                       "idempotency_conflict, ..."})
    message = fields.String(required=True, metadata={"description": "what went wrong, for people"})
    field_errors = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                               metadata={"description": "each refused field and why (empty when none)"})
    existing_reference = fields.String(metadata={
        "description": "the request that already exists (code duplicate or idempotency_conflict)"})


class RequestCreateSchema(Schema):
    """A new customer request: the intake fields. Which fields a type needs is in the README."""

    type = fields.String(required=True, metadata={"enum": list(REQUEST_TYPES)})
    customer_id = fields.String(required=True, metadata={"pattern": CUSTOMER_ID.pattern, "example": "C-1001"})
    description = fields.String(required=True, metadata={"maxLength": 4000})
    invoice_numbers = fields.List(fields.String(metadata={"example": "INV-1001"}))
    payment_references = fields.List(fields.String(metadata={"example": "PAY-5003"}))
    disputed_amount = fields.String(metadata=AMOUNT)
    requested_limit = fields.String(metadata=AMOUNT)
    installments = fields.Integer(strict=True, metadata={"minimum": 2, "maximum": 60})
    adjustment_kind = fields.String(metadata={"enum": list(ADJUSTMENT_KINDS)})
    channel = fields.String(metadata={"enum": list(CHANNELS), "description": "default api"})
    priority = fields.String(metadata={"enum": list(PRIORITIES), "description": "default normal"})
    currency = fields.String(metadata={"enum": sorted(CURRENCIES), "description": "default USD"})


class IdempotencyHeaderSchema(Schema):
    idempotency_key = fields.String(data_key="Idempotency-Key", validate=validate.Length(1, 200), metadata={
        "description": "a retry with the same key and body returns the first result (same status and "
                       "body); the same key with another body is refused with 409 idempotency_conflict"})


class TaskSchema(Schema):
    id = fields.String(required=True)
    reference = fields.String(required=True, metadata={"description": "the request the task belongs to"})
    request_type = fields.String()
    element_id = fields.String(metadata={"description": "the BPMN user task"})
    name = fields.String()
    form_id = fields.String(allow_none=True)
    candidate_groups = fields.List(fields.String())
    assignee = fields.String(allow_none=True)
    claimed_by = fields.String(allow_none=True)
    status = fields.String()
    priority = fields.String()
    required_level = fields.Integer(metadata={"description": "approval level an approver needs"})
    created_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)
    completed_by = fields.String(allow_none=True)
    links = Links


class TaskListSchema(Schema):
    items = fields.List(fields.Nested(TaskSchema), required=True)


class TaskDataSchema(Schema):
    """The task's form data as one JSON object; the task's form decides which fields it needs."""

    class Meta:
        unknown = INCLUDE


class CompletedSchema(Schema):
    task = fields.Nested(TaskSchema, required=True)
    reference = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "the request's status afterwards"})
    next_tasks = fields.List(fields.Nested(TaskSchema), metadata={
        "description": "tasks this user may do next on the same request"})


class SubmittedSchema(Schema):
    reference = fields.String(required=True, metadata={"example": "REQ-100001"})
    status = fields.String(required=True)
    customer_status = fields.String(required=True, metadata={"description": "the status customers see"})
    tasks = fields.List(fields.Nested(TaskSchema), metadata={"description": "the tasks the request opened"})
    links = Links


class RequestQuerySchema(Schema):
    status = fields.String(metadata={"enum": sorted(CUSTOMER_STATUS)})
    type = fields.String(metadata={"enum": list(REQUEST_TYPES)})
    customer_id = fields.String(metadata={"example": "C-1001"})
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    page_size = fields.Integer(load_default=20, validate=validate.Range(1, 100))


class RequestSummarySchema(Schema):
    reference = fields.String(required=True)
    type = fields.String()
    status = fields.String()
    customer_status = fields.String()
    customer_id = fields.String()
    priority = fields.String()
    submitted_at = fields.String()
    outcome = fields.String(allow_none=True)
    team = fields.String(allow_none=True)
    links = Links


class PageSchema(Schema):
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    has_next = fields.Boolean(required=True)


class RequestPageSchema(Schema):
    """One page of requests, newest first; `links.next` and `links.prev` lead to the pages around it."""

    items = fields.List(fields.Nested(RequestSummarySchema), required=True)
    page = fields.Nested(PageSchema, required=True)
    links = Links


Objects = fields.List(fields.Dict())


class SlaSchema(Schema):
    """The SLA counted in business hours of the configured calendar, paused while waiting for the customer."""

    target_hours = fields.Float(required=True, metadata={"description": "business hours"})
    started_at = fields.String(required=True)
    due_at = fields.String(allow_none=True, metadata={"description": "None while paused"})
    reminder_at = fields.String(allow_none=True, metadata={"description": "when the assignee is reminded"})
    paused = fields.Boolean(required=True)
    paused_since = fields.String(allow_none=True, metadata={"description": "waiting for the customer since"})
    used_percent = fields.Integer(required=True, metadata={"description": "share of the target used, in business "
                                                                          "hours and without pauses"})
    breached_at = fields.String(allow_none=True, metadata={"description": "when the target was missed"})


class OpenIncidentSchema(Schema):
    id = fields.Integer(required=True)
    element_id = fields.String(allow_none=True)
    error_code = fields.String(required=True)
    message = fields.String(required=True)
    attempts = fields.Integer(required=True)
    created_at = fields.String(required=True)


class WaitingForSchema(Schema):
    """What the request's instance waits for now."""

    tasks = fields.List(fields.String(), metadata={"description": "open user tasks (people)"})
    messages = Objects  # {message, correlation_key, element_id, name}
    timers = Objects  # {element_id, name, due_at}, soonest first
    next_timer = fields.Dict(allow_none=True)
    workers = Objects  # asynchronous service tasks waiting for a worker: {element_id, name}


class DueWorkSchema(Schema):
    instance_status = fields.String(metadata={"description": "running, incident, completed or cancelled"})
    due_at = fields.String(allow_none=True, metadata={"description": "when a worker advances it next"})
    attempts = fields.Integer(metadata={"description": "failed tries of the work due now"})
    last_error = fields.String(allow_none=True)


class RequestRecordSchema(Schema):
    """The whole request record; amounts are decimal strings, times ISO 8601 strings."""

    reference = fields.String(required=True)
    type = fields.String()
    status = fields.String()
    customer_status = fields.String()
    outcome = fields.String(allow_none=True)
    customer = fields.Dict()
    description = fields.String(metadata={"description": "as the customer wrote it: plain text, not HTML"})
    submitted_at = fields.String()
    requested_by = fields.String()
    priority = fields.String()
    channel = fields.String()
    currency = fields.String()
    details = fields.Dict()
    financial_references = fields.Dict(metadata={"description": "invoices and payments with open balances"})
    kyc = fields.Dict(allow_none=True)
    classification = fields.Dict(allow_none=True)
    credit = fields.Dict(allow_none=True)
    approvals = Objects
    steps = Objects
    postings = Objects
    resolution = fields.Dict()
    closed_at = fields.String(allow_none=True)
    open_tasks = Objects
    messages = Objects
    audit = Objects
    sla = fields.Nested(SlaSchema, allow_none=True)
    incident = fields.Nested(OpenIncidentSchema, allow_none=True, metadata={"description": "an open incident"})
    waiting_for = fields.Nested(WaitingForSchema, allow_none=True)
    due_work = fields.Nested(DueWorkSchema, allow_none=True)
    links = Links


class AuditEventSchema(Schema):
    seq = fields.Integer(required=True)
    at = fields.DateTime(required=True)
    actor = fields.String(required=True)
    action = fields.String(required=True)
    subject = fields.String()
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)
    prev_hash = fields.String()
    hash = fields.String()


class AuditTrailSchema(Schema):
    reference = fields.String(required=True)
    items = fields.List(fields.Nested(AuditEventSchema), required=True)


class VersionFileSchema(Schema):
    name = fields.String(required=True)
    sha256 = fields.String(required=True)
    size = fields.Integer(metadata={"description": "bytes"})


class VersionSchema(Schema):
    id = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    deployed_by = fields.String(required=True)
    active = fields.Boolean(metadata={"description": "new requests start on the active version"})
    files = fields.List(fields.Nested(VersionFileSchema))


class VersionListSchema(Schema):
    items = fields.List(fields.Nested(VersionSchema), required=True)
