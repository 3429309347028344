"""An in-memory unit of work: the same use cases with no database.

It serves use-case unit tests (a fake, not a patch) and the bare-engine benchmark, which measures what
persistence costs by running the very same use cases here and on SQL. `commit()` keeps the changes;
leaving without commit restores the state from before the transaction (a snapshot taken on entry).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ..domain.audit import GENESIS, AuditEvent, event_hash
from ..domain.errors import Conflict, NotFound
from ..domain.finance import FinanceGateway
from ..domain.notes import Attachment, Note
from ..domain.ports import OutboxMessage
from ..domain.requests import RequestRecord
from ..domain.users import User
from ..usecases.ports import Deployment, HumanTask, InstanceRow
from .memory_finance import MemoryFinanceGateway


@dataclass
class MemoryState:
    finance: MemoryFinanceGateway = field(default_factory=MemoryFinanceGateway)
    records: dict[str, RequestRecord] = field(default_factory=dict)
    refs: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    instances: dict[str, InstanceRow] = field(default_factory=dict)
    tasks: dict[str, HumanTask] = field(default_factory=dict)
    audit: list[AuditEvent] = field(default_factory=list)
    deployments: list[Deployment] = field(default_factory=list)
    users: dict[str, tuple[User, str | None]] = field(default_factory=dict)
    outbox: dict[str, OutboxMessage] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    attachments: dict[str, Attachment] = field(default_factory=dict)
    counter: int = 100000


class MemoryRequests:
    def __init__(self, state: MemoryState):
        self.s = state

    def next_reference(self) -> str:
        self.s.counter += 1
        return f"REQ-{self.s.counter}"

    def open_request_for(self, customer_id: str, invoice_numbers: list[str], payment_references: list[str],
                         exclude: str | None) -> str | None:
        wanted = {("invoice", n) for n in invoice_numbers} | {("payment", p) for p in payment_references}
        for ref, record in self.s.records.items():
            if (ref != exclude and record.customer_id == customer_id and record.status != "closed"
                    and self.s.refs.get(ref, set()) & wanted):
                return ref
        return None

    def open_disputes_of(self, customer_id: str, exclude: str | None) -> int:
        return sum(1 for r in self.s.records.values() if r.customer_id == customer_id and r.status != "closed"
                   and r.type in ("billing_dispute", "payment_issue") and r.reference != exclude)

    def add(self, record: RequestRecord) -> None:
        self.s.records[record.reference] = record
        self.s.refs[record.reference] = ({("invoice", n) for n in record.details.get("invoice_numbers", [])}
                                         | {("payment", p) for p in record.details.get("payment_references", [])})

    def get(self, reference: str) -> RequestRecord:
        if reference not in self.s.records:
            raise NotFound(f"no request {reference}")
        return self.s.records[reference]

    def save(self, record: RequestRecord) -> None:
        self.s.records[record.reference] = record

    def search(self, *, status: str | None = None, type: str | None = None, customer_id: str | None = None,
               limit: int = 100) -> list[RequestRecord]:
        found = [r for r in self.s.records.values() if (status is None or r.status == status)
                 and (type is None or r.type == type) and (customer_id is None or r.customer_id == customer_id)]
        return sorted(found, key=lambda r: (r.submitted_at, r.reference), reverse=True)[:limit]


class MemoryInstances:
    def __init__(self, state: MemoryState):
        self.s = state

    def add(self, row: InstanceRow) -> None:
        self.s.instances[row.id] = replace(row)

    def get_for_update(self, instance_id: str) -> InstanceRow:
        if instance_id not in self.s.instances:
            raise NotFound(f"no process instance {instance_id}")
        return replace(self.s.instances[instance_id])

    def save(self, row: InstanceRow) -> None:
        if self.s.instances[row.id].version != row.version:
            raise Conflict(f"request {row.request_reference} was changed by someone else; reload and retry")
        row.version += 1
        self.s.instances[row.id] = replace(row)

    def for_request(self, reference: str) -> InstanceRow:
        for row in self.s.instances.values():
            if row.request_reference == reference:
                return replace(row)
        raise NotFound(f"no process instance for request {reference}")

    def unfinished(self) -> list[InstanceRow]:
        return [replace(r) for r in self.s.instances.values() if r.status != "completed"]


class MemoryTasks:
    def __init__(self, state: MemoryState):
        self.s = state

    def get(self, task_id: str) -> HumanTask:
        if task_id not in self.s.tasks:
            raise NotFound(f"no task {task_id}")
        return replace(self.s.tasks[task_id])

    def add(self, task: HumanTask) -> None:
        self.s.tasks[task.id] = replace(task)

    def update(self, task: HumanTask) -> None:
        self.s.tasks[task.id] = replace(task)

    def _open(self, keep: Callable[[HumanTask], bool]) -> list[HumanTask]:
        return [replace(t) for t in self.s.tasks.values() if t.status == "open" and keep(t)]

    def open_for_instance(self, instance_id: str) -> list[HumanTask]:
        return self._open(lambda t: t.instance_id == instance_id)

    def open_for_request(self, reference: str) -> list[HumanTask]:
        return self._open(lambda t: t.request_reference == reference)

    def open_tasks(self) -> list[HumanTask]:
        return self._open(lambda t: True)


class MemoryAudit:
    def __init__(self, state: MemoryState, now: Callable[[], datetime]):
        self.s = state
        self._now = now

    def record(self, actor: str, action: str, subject: str, before: dict[str, Any] | None,
               after: dict[str, Any] | None) -> None:
        prev = self.s.audit[-1].hash if self.s.audit else GENESIS
        seq, at = len(self.s.audit) + 1, self._now()
        digest = event_hash(prev, seq, at, actor, action, subject, before, after)
        self.s.audit.append(AuditEvent(seq, at, actor, action, subject, before, after, prev, digest))

    def for_subject(self, subject: str) -> list[AuditEvent]:
        return [e for e in self.s.audit if e.subject == subject]

    def all(self) -> list[AuditEvent]:
        return list(self.s.audit)


class MemoryDeployments:
    def __init__(self, state: MemoryState, now: Callable[[], datetime]):
        self.s = state
        self._now = now

    def active(self) -> Deployment | None:
        return self.s.deployments[-1] if self.s.deployments else None

    def get(self, deployment_id: int) -> Deployment:
        for deployment in self.s.deployments:
            if deployment.id == deployment_id:
                return deployment
        raise NotFound(f"no deployment {deployment_id}")

    def add(self, files: dict[str, bytes], deployed_by: str) -> Deployment:
        hashes = {n: hashlib.sha256(c).hexdigest() for n, c in files.items()}
        deployment = Deployment(len(self.s.deployments) + 1, self._now(), deployed_by, dict(files), hashes)
        self.s.deployments.append(deployment)
        return deployment

    def list(self) -> list[Deployment]:
        return list(self.s.deployments)


class MemoryUsers:
    def __init__(self, state: MemoryState):
        self.s = state

    def get(self, username: str) -> User | None:
        found = self.s.users.get(username)
        return found[0] if found else None

    def add(self, user: User, password_hash: str | None) -> None:
        self.s.users[user.username] = (user, password_hash)

    def all(self) -> list[User]:
        return [u for u, _ in self.s.users.values()]

    def password_hash(self, username: str) -> str | None:
        found = self.s.users.get(username)
        return found[1] if found else None


class MemoryOutbox:
    def __init__(self, state: MemoryState):
        self.s = state

    def add(self, message: OutboxMessage) -> bool:
        if message.key in self.s.outbox:
            return False
        self.s.outbox[message.key] = message
        return True

    def for_request(self, request_reference: str) -> list[OutboxMessage]:
        return [m for m in self.s.outbox.values() if m.request_reference == request_reference]


class MemoryNotes:
    def __init__(self, state: MemoryState):
        self.s = state

    def add(self, reference: str, author: str, visibility: str, body: str, at: datetime) -> Note:
        note = Note(len(self.s.notes) + 1, reference, author, visibility, body, at)
        self.s.notes.append(note)
        return note

    def for_request(self, reference: str) -> list[Note]:
        return [n for n in self.s.notes if n.request_reference == reference]


class MemoryAttachments:
    def __init__(self, state: MemoryState):
        self.s = state

    def add(self, attachment: Attachment) -> None:
        self.s.attachments[attachment.id] = attachment

    def get(self, attachment_id: str) -> Attachment:
        if attachment_id not in self.s.attachments:
            raise NotFound(f"no attachment {attachment_id}")
        return self.s.attachments[attachment_id]

    def for_request(self, reference: str) -> list[Attachment]:
        return [a for a in self.s.attachments.values() if a.request_reference == reference]


class MemoryUnitOfWork:
    """`snapshot=False` skips the rollback copy (the benchmark, where nothing is rolled back)."""

    def __init__(self, state: MemoryState, now: Callable[[], datetime], *, snapshot: bool = True):
        self.state = state
        self._now = now
        self._snapshot_enabled = snapshot
        self._saved: MemoryState | None = None
        self.finance: FinanceGateway = state.finance

    def __enter__(self) -> MemoryUnitOfWork:
        self._saved = copy.deepcopy(self.state) if self._snapshot_enabled else None
        self.requests = MemoryRequests(self.state)
        self.instances = MemoryInstances(self.state)
        self.tasks = MemoryTasks(self.state)
        self.audit = MemoryAudit(self.state, self._now)
        self.deployments = MemoryDeployments(self.state, self._now)
        self.users = MemoryUsers(self.state)
        self.outbox = MemoryOutbox(self.state)
        self.notes = MemoryNotes(self.state)
        self.attachments = MemoryAttachments(self.state)
        self.finance = self.state.finance
        return self

    def __exit__(self, *args: Any) -> None:
        self.rollback()

    def commit(self) -> None:
        self._saved = None

    def rollback(self) -> None:
        if self._saved is not None:
            self.state.__dict__.update(self._saved.__dict__)
            self._saved = None
