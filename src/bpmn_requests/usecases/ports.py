"""What use cases need from persistence: the unit of work and its repositories (Protocols).

The SQL adapters live in store/; in-memory ones (store/memory.py) serve unit tests and the bare-engine
benchmark, so every use case runs the same way on either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from ..domain.audit import AuditEvent
from ..domain.finance import FinanceGateway
from ..domain.notes import Attachment, Note
from ..domain.ports import Outbox, RequestDirectory
from ..domain.requests import Approval, RequestRecord, StepRecord
from ..domain.users import User


@dataclass
class InstanceRow:
    id: str
    request_reference: str
    deployment_id: int
    process_id: str
    state: str
    status: str  # running | completed | failed
    version: int  # optimistic lock: bumped on every save
    created_at: datetime
    updated_at: datetime
    end_event: str | None = None
    error: str | None = None  # the last failure of its due work (kept while retrying)
    due_at: datetime | None = None  # when a worker must advance it: a timer, an asynchronous task, a retry
    attempts: int = 0  # failed tries of the work now due
    dispatched_at: datetime | None = None  # when the scheduler last handed it to a worker


@dataclass
class HumanTask:
    id: str
    instance_id: str
    request_reference: str
    element_id: str
    process_id: str
    name: str
    form_id: str | None
    candidate_groups: tuple[str, ...]
    assignee: str | None
    status: str  # open | completed | cancelled
    created_at: datetime
    required_level: int = 0
    claimed_by: str | None = None
    completed_at: datetime | None = None
    completed_by: str | None = None
    priority: str = "normal"
    request_type: str = ""
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ApiToken:
    """A bearer token of the REST API as stored: never the token itself, only its sha256."""

    id: int
    username: str
    name: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class IdempotencyRecord:
    """The first result of a create sent with an Idempotency-Key, returned again on a retry."""

    key: str
    username: str
    request_sha256: str
    created_at: datetime
    status_code: int | None = None
    reference: str | None = None
    response: dict[str, Any] | None = None


@dataclass(frozen=True)
class PortalLink:
    """A customer's private status link as stored: only the token's sha256, never the token."""

    token_sha256: str
    request_reference: str
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class ServiceRating:
    """The customer's rating of a closed request: once per request."""

    request_reference: str
    score: int  # 1..5
    comment: str
    created_at: datetime


@dataclass(frozen=True)
class Deployment:
    id: int
    created_at: datetime
    deployed_by: str
    files: dict[str, bytes]  # name -> content (processes/*.bpmn|dmn and forms/*.form)
    hashes: dict[str, str]  # name -> sha256


@dataclass(frozen=True)
class ProcessVersionRow:
    """A numbered version of one process: recorded by the deployment where it or a file it uses changed."""

    process_id: str
    version: int
    deployment_id: int
    file_name: str
    sha256: str  # of `file_name` in that deployment
    version_tag: str | None
    created_at: datetime
    deployed_by: str = ""


@dataclass(frozen=True)
class Incident:
    """A step that failed for good (a permanent error, or retries used up): an admin decides what next."""

    id: int
    instance_id: str
    request_reference: str
    element_id: str | None
    error_code: str
    message: str
    data: dict[str, Any]  # the process variables where it failed
    attempts: int
    created_at: datetime
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution: str | None = None  # retried | skipped | cancelled
    resolution_data: dict[str, Any] | None = None

    @property
    def open(self) -> bool:
        return self.resolved_at is None


@dataclass(frozen=True)
class StoredMessage:
    """A message received by the system: delivered, kept until a receiver waits for it, or expired."""

    id: str
    name: str
    message_id: str  # the sender's id: the same id sent twice has one effect
    correlation_key: str
    variables: dict[str, Any]
    sender: str
    received_at: datetime
    expires_at: datetime | None  # kept for a receiver until then (buffered messages)
    status: str  # buffered | delivered | expired
    instance_id: str | None = None
    element_id: str | None = None
    request_reference: str | None = None
    delivered_at: datetime | None = None


@dataclass(frozen=True)
class SubscriptionRow:
    """An instance waiting at `element_id` for a message `message` carrying `correlation_key`."""

    instance_id: str
    element_id: str
    message: str
    correlation_key: str | None
    request_reference: str
    created_at: datetime


class RequestRepository(RequestDirectory, Protocol):
    def add(self, record: RequestRecord) -> None: ...
    def get(self, reference: str) -> RequestRecord: ...
    def headers(self, references: list[str]) -> dict[str, RequestRecord]:
        """Many records in one query, without approvals and steps (for lists such as the inbox)."""
        ...
    def save(self, record: RequestRecord) -> None: ...
    def add_approval(self, reference: str, approval: Approval) -> None: ...
    def add_step(self, reference: str, step: StepRecord) -> None: ...
    def search(self, *, status: str | None = None, type: str | None = None,
               customer_id: str | None = None, limit: int = 100, offset: int = 0) -> list[RequestRecord]: ...


class InstanceRepository(Protocol):
    def add(self, row: InstanceRow) -> None: ...
    def get_for_update(self, instance_id: str) -> InstanceRow: ...
    def save(self, row: InstanceRow) -> None:
        """Write with an optimistic check on `version`; raises Conflict when someone else wrote first."""
        ...
    def for_request(self, reference: str) -> InstanceRow: ...
    def unfinished(self) -> list[InstanceRow]: ...
    def for_deployments(self, deployment_ids: Sequence[int]) -> list[InstanceRow]:
        """Every instance (any status) started on, or moved to, one of these deployments."""
        ...
    def claim_due(self, now: datetime, instance_id: str | None = None) -> InstanceRow | None:
        """Lock a running instance whose work is due by `now` (this one, else the most overdue), skipping
        instances another process holds (SKIP LOCKED); None when there is none."""
        ...
    def dispatch_due(self, now: datetime, limit: int, redispatch_before: datetime) -> list[str]:
        """Ids of running instances due by `now`, not handed to a worker since `redispatch_before`;
        marks them dispatched at `now`."""
        ...
    def next_due_at(self, redispatch_before: datetime) -> tuple[datetime | None, datetime | None]:
        """(the earliest due time of a running instance not handed to a worker since `redispatch_before`,
        the earliest hand-out since then): when the sweep has something to do next."""
        ...
    def clear_dispatch(self, instance_ids: Sequence[str]) -> None:
        """Forget that these were handed to a worker (the broker did not take them)."""
        ...


class TaskRepository(Protocol):
    def get(self, task_id: str) -> HumanTask: ...
    def add(self, task: HumanTask) -> None: ...
    def update(self, task: HumanTask) -> None: ...
    def open_for_instance(self, instance_id: str) -> list[HumanTask]: ...
    def open_for_request(self, reference: str) -> list[HumanTask]: ...
    def open_tasks(self) -> list[HumanTask]: ...
    def for_instances(self, instance_ids: Sequence[str]) -> list[HumanTask]:
        """Every task row (any status) of these instances."""
        ...
    def update_definition(self, task: HumanTask) -> None:
        """Write what the task's element defines (element, process, name, form, groups, assignee,
        properties, level): after its instance moved to another version."""
        ...


class AuditLog(Protocol):
    def record(self, actor: str, action: str, subject: str, before: dict[str, Any] | None,
               after: dict[str, Any] | None) -> None: ...
    def for_subject(self, subject: str) -> list[AuditEvent]: ...
    def all(self) -> list[AuditEvent]: ...
    def written(self) -> int:
        """How many events the chain has had, kept apart from the events (catches a deleted last one)."""
        ...


class DeploymentRepository(Protocol):
    def active(self) -> Deployment | None: ...
    def get(self, deployment_id: int) -> Deployment: ...
    def add(self, files: dict[str, bytes], deployed_by: str) -> Deployment: ...
    def activate(self, deployment_id: int) -> None:
        """Make this deployment the one new requests start on (and no other)."""
        ...
    def add_version(self, version: ProcessVersionRow) -> None: ...
    def versions(self, process_id: str | None = None) -> list[ProcessVersionRow]:
        """Process versions ordered by process id and number, with who deployed them."""
        ...
    def list(self) -> list[Deployment]: ...


class UserRepository(Protocol):
    def get(self, username: str) -> User | None: ...
    def add(self, user: User, password_hash: str | None) -> None: ...
    def all(self) -> list[User]: ...
    def password_hash(self, username: str) -> str | None: ...
    def update(self, user: User) -> None:
        """Write full name, email, groups and active of an existing user."""
        ...


class ApiTokenRepository(Protocol):
    def add(self, token_sha256: str, username: str, name: str, at: datetime) -> ApiToken: ...
    def get(self, token_id: int) -> ApiToken: ...
    def by_hash(self, token_sha256: str) -> ApiToken | None: ...
    def list(self, username: str | None = None) -> list[ApiToken]: ...
    def touch(self, token_id: int, at: datetime) -> None: ...
    def revoke(self, token_id: int, at: datetime) -> None: ...


class IdempotencyRepository(Protocol):
    def get(self, key: str, username: str) -> IdempotencyRecord | None: ...
    def reserve(self, key: str, username: str, request_sha256: str, at: datetime) -> None:
        """Record the key; raises IdempotencyKeyTaken when another transaction recorded it first."""
        ...
    def complete(self, key: str, username: str, status_code: int, reference: str,
                 response: dict[str, Any]) -> None: ...


class PortalLinkRepository(Protocol):
    def add(self, link: PortalLink) -> None: ...
    def get(self, token_sha256: str) -> PortalLink | None: ...


class ServiceRatingRepository(Protocol):
    def add(self, rating: ServiceRating) -> None:
        """Record the rating; raises Conflict when the request is rated already."""
        ...
    def get(self, reference: str) -> ServiceRating | None: ...


class NoteRepository(Protocol):
    def add(self, reference: str, author: str, visibility: str, body: str, at: datetime) -> Note: ...
    def for_request(self, reference: str) -> list[Note]: ...


class AttachmentRepository(Protocol):
    def add(self, attachment: Attachment) -> None: ...
    def get(self, attachment_id: str) -> Attachment: ...
    def for_request(self, reference: str) -> list[Attachment]: ...


class IncidentRepository(Protocol):
    def add(self, instance_id: str, request_reference: str, element_id: str | None, error_code: str,
            message: str, data: dict[str, Any], attempts: int, at: datetime) -> Incident: ...
    def get(self, incident_id: int) -> Incident: ...
    def open_for_instance(self, instance_id: str) -> Incident | None: ...
    def list(self, *, open_only: bool = True, limit: int = 200) -> list[Incident]: ...
    def resolve(self, incident_id: int, at: datetime, by: str, resolution: str,
                data: dict[str, Any] | None) -> None: ...


class MessageRepository(Protocol):
    def add(self, message: StoredMessage) -> None:
        """Record a received message; raises MessageIdTaken when (name, message_id) is recorded already."""
        ...
    def by_message_id(self, name: str, message_id: str) -> StoredMessage | None: ...
    def buffered_for(self, pairs: Sequence[tuple[str, str]], now: datetime) -> list[StoredMessage]:
        """Buffered, unexpired messages matching any (name, correlation key), oldest first."""
        ...
    def settle(self, message_id: str, status: str, at: datetime, *, instance_id: str | None = None,
               element_id: str | None = None, reference: str | None = None) -> None:
        """Record what became of a buffered message: delivered (to this instance and element) or refused."""
        ...
    def expire(self, now: datetime) -> list[StoredMessage]:
        """Mark buffered messages past their time expired; returns them."""
        ...
    def recent(self, limit: int = 100, status: str | None = None) -> list[StoredMessage]: ...


class SubscriptionRepository(Protocol):
    def replace(self, instance_id: str, reference: str, subscriptions: Sequence[tuple[str, str, str | None]],
                at: datetime) -> None:
        """Make the instance's subscriptions exactly these (element id, message, correlation key)."""
        ...
    def find(self, message: str, correlation_key: str) -> list[SubscriptionRow]: ...
    def for_instance(self, instance_id: str) -> list[SubscriptionRow]: ...


class UnitOfWork(Protocol):
    requests: RequestRepository
    instances: InstanceRepository
    tasks: TaskRepository
    audit: AuditLog
    deployments: DeploymentRepository
    users: UserRepository
    finance: FinanceGateway
    outbox: Outbox
    notes: NoteRepository
    attachments: AttachmentRepository
    portal_links: PortalLinkRepository
    ratings: ServiceRatingRepository
    api_tokens: ApiTokenRepository
    idempotency: IdempotencyRepository
    incidents: IncidentRepository
    messages: MessageRepository
    subscriptions: SubscriptionRepository

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *args: object) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
