"""What use cases need from persistence: the unit of work and its repositories (Protocols).

The SQL adapters live in store/; in-memory ones (store/memory.py) serve unit tests and the bare-engine
benchmark, so every use case runs the same way on either.
"""

from __future__ import annotations

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
    error: str | None = None


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
class Deployment:
    id: int
    created_at: datetime
    deployed_by: str
    files: dict[str, bytes]  # name -> content (processes/*.bpmn|dmn and forms/*.form)
    hashes: dict[str, str]  # name -> sha256


class RequestRepository(RequestDirectory, Protocol):
    def add(self, record: RequestRecord) -> None: ...
    def get(self, reference: str) -> RequestRecord: ...
    def save(self, record: RequestRecord) -> None: ...
    def add_approval(self, reference: str, approval: Approval) -> None: ...
    def add_step(self, reference: str, step: StepRecord) -> None: ...
    def search(self, *, status: str | None = None, type: str | None = None,
               customer_id: str | None = None, limit: int = 100) -> list[RequestRecord]: ...


class InstanceRepository(Protocol):
    def add(self, row: InstanceRow) -> None: ...
    def get_for_update(self, instance_id: str) -> InstanceRow: ...
    def save(self, row: InstanceRow) -> None:
        """Write with an optimistic check on `version`; raises Conflict when someone else wrote first."""
        ...
    def for_request(self, reference: str) -> InstanceRow: ...
    def unfinished(self) -> list[InstanceRow]: ...


class TaskRepository(Protocol):
    def get(self, task_id: str) -> HumanTask: ...
    def add(self, task: HumanTask) -> None: ...
    def update(self, task: HumanTask) -> None: ...
    def open_for_instance(self, instance_id: str) -> list[HumanTask]: ...
    def open_for_request(self, reference: str) -> list[HumanTask]: ...
    def open_tasks(self) -> list[HumanTask]: ...


class AuditLog(Protocol):
    def record(self, actor: str, action: str, subject: str, before: dict[str, Any] | None,
               after: dict[str, Any] | None) -> None: ...
    def for_subject(self, subject: str) -> list[AuditEvent]: ...
    def all(self) -> list[AuditEvent]: ...


class DeploymentRepository(Protocol):
    def active(self) -> Deployment | None: ...
    def get(self, deployment_id: int) -> Deployment: ...
    def add(self, files: dict[str, bytes], deployed_by: str) -> Deployment: ...
    def list(self) -> list[Deployment]: ...


class UserRepository(Protocol):
    def get(self, username: str) -> User | None: ...
    def add(self, user: User, password_hash: str | None) -> None: ...
    def all(self) -> list[User]: ...
    def password_hash(self, username: str) -> str | None: ...


class NoteRepository(Protocol):
    def add(self, reference: str, author: str, visibility: str, body: str, at: datetime) -> Note: ...
    def for_request(self, reference: str) -> list[Note]: ...


class AttachmentRepository(Protocol):
    def add(self, attachment: Attachment) -> None: ...
    def get(self, attachment_id: str) -> Attachment: ...
    def for_request(self, reference: str) -> list[Attachment]: ...


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

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *args: object) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
