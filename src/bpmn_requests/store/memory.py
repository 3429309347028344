"""An in-memory unit of work: the same use cases with no database.

It serves use-case unit tests (a fake, not a patch) and the bare-engine benchmark, which measures what
persistence costs by running the very same use cases here and on SQL. `commit()` keeps the changes;
leaving without commit restores the state from before the transaction (a snapshot taken on entry).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ..domain.audit import GENESIS, AuditEvent, event_hash
from ..domain.errors import Conflict, IdempotencyKeyTaken, NotFound
from ..domain.finance import FinanceGateway
from ..domain.notes import Attachment, Note
from ..domain.ports import OutboxMessage
from ..domain.requests import RequestRecord
from ..domain.users import User
from ..usecases.outbox import QueuedMessage
from ..usecases.ports import (
    ApiToken,
    Deployment,
    HumanTask,
    IdempotencyRecord,
    Incident,
    InstanceRow,
    PortalLink,
    ProcessVersionRow,
    ServiceRating,
    StoredMessage,
    SubscriptionRow,
)
from .memory_finance import MemoryFinanceGateway
from .memory_jobs import MemoryIncidents, MemoryMessages, MemorySubscriptions


@dataclass
class MemoryState:
    finance: MemoryFinanceGateway = field(default_factory=MemoryFinanceGateway)
    records: dict[str, RequestRecord] = field(default_factory=dict)
    refs: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    instances: dict[str, InstanceRow] = field(default_factory=dict)
    tasks: dict[str, HumanTask] = field(default_factory=dict)
    audit: list[AuditEvent] = field(default_factory=list)
    audit_written: int = 0
    deployments: list[Deployment] = field(default_factory=list)
    active_deployment: int | None = None  # None: the newest one
    process_versions: list[ProcessVersionRow] = field(default_factory=list)
    users: dict[str, tuple[User, str | None]] = field(default_factory=dict)
    outbox: dict[str, OutboxMessage] = field(default_factory=dict)
    outbox_delivery: dict[str, QueuedMessage] = field(default_factory=dict)  # key -> delivery state
    notes: list[Note] = field(default_factory=list)
    attachments: dict[str, Attachment] = field(default_factory=dict)
    portal_links: dict[str, PortalLink] = field(default_factory=dict)  # by token sha256
    ratings: dict[str, ServiceRating] = field(default_factory=dict)  # by request reference
    api_tokens: dict[int, tuple[ApiToken, str]] = field(default_factory=dict)  # id -> (token, its sha256)
    idempotency: dict[tuple[str, str], IdempotencyRecord] = field(default_factory=dict)
    incidents: dict[int, Incident] = field(default_factory=dict)
    messages: dict[str, StoredMessage] = field(default_factory=dict)
    subscriptions: dict[str, list[SubscriptionRow]] = field(default_factory=dict)  # by instance id
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

    def headers(self, references: list[str]) -> dict[str, RequestRecord]:
        return {r: self.s.records[r] for r in references if r in self.s.records}

    def search(self, *, status: str | None = None, type: str | None = None, customer_id: str | None = None,
               limit: int = 100, offset: int = 0) -> list[RequestRecord]:
        found = [r for r in self.s.records.values() if (status is None or r.status == status)
                 and (type is None or r.type == type) and (customer_id is None or r.customer_id == customer_id)]
        return sorted(found, key=lambda r: (r.submitted_at, r.reference), reverse=True)[offset:offset + limit]


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

    def for_deployments(self, deployment_ids: Sequence[int]) -> list[InstanceRow]:
        wanted = set(deployment_ids)
        return [replace(r) for r in self.s.instances.values() if r.deployment_id in wanted]

    def _due(self, now: datetime) -> list[InstanceRow]:
        found = [r for r in self.s.instances.values()
                 if r.status == "running" and r.due_at is not None and r.due_at <= now]
        return sorted(found, key=lambda r: (r.due_at, r.id))

    def claim_due(self, now: datetime, instance_id: str | None = None) -> InstanceRow | None:
        found = [r for r in self._due(now) if instance_id is None or r.id == instance_id]
        return replace(found[0]) if found else None

    def dispatch_due(self, now: datetime, limit: int, redispatch_before: datetime) -> list[str]:
        ids = [r.id for r in self._due(now) if r.dispatched_at is None or r.dispatched_at < redispatch_before][:limit]
        for instance_id in ids:
            self.s.instances[instance_id].dispatched_at = now
        return ids

    def clear_dispatch(self, instance_ids: Sequence[str]) -> None:
        for instance_id in instance_ids:
            self.s.instances[instance_id].dispatched_at = None

    def next_due_at(self, redispatch_before: datetime) -> tuple[datetime | None, datetime | None]:
        rows = [r for r in self.s.instances.values() if r.status == "running" and r.due_at is not None]
        fresh = [r for r in rows if r.dispatched_at is not None and r.dispatched_at >= redispatch_before]
        due = [r.due_at for r in rows if r not in fresh and r.due_at is not None]
        handed = [r.dispatched_at for r in fresh if r.dispatched_at is not None]
        return (min(due) if due else None), (min(handed) if handed else None)


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

    def for_instances(self, instance_ids: Sequence[str]) -> list[HumanTask]:
        wanted = set(instance_ids)
        return [replace(t) for t in self.s.tasks.values() if t.instance_id in wanted]

    def update_definition(self, task: HumanTask) -> None:
        stored = self.s.tasks[task.id]
        self.s.tasks[task.id] = replace(stored, element_id=task.element_id, process_id=task.process_id,
                                        name=task.name, form_id=task.form_id,
                                        candidate_groups=task.candidate_groups, assignee=task.assignee,
                                        properties=dict(task.properties), required_level=task.required_level)


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
        self.s.audit_written = seq

    def for_subject(self, subject: str) -> list[AuditEvent]:
        return [e for e in self.s.audit if e.subject == subject]

    def written(self) -> int:
        return self.s.audit_written

    def all(self) -> list[AuditEvent]:
        return list(self.s.audit)


class MemoryDeployments:
    def __init__(self, state: MemoryState, now: Callable[[], datetime]):
        self.s = state
        self._now = now

    def active(self) -> Deployment | None:
        if self.s.active_deployment is not None:
            return self.get(self.s.active_deployment)
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
        self.s.active_deployment = deployment.id
        return deployment

    def list(self) -> list[Deployment]:
        return list(self.s.deployments)

    def activate(self, deployment_id: int) -> None:
        self.s.active_deployment = self.get(deployment_id).id

    def add_version(self, version: ProcessVersionRow) -> None:
        deployed_by = self.get(version.deployment_id).deployed_by
        self.s.process_versions.append(replace(version, deployed_by=deployed_by))

    def versions(self, process_id: str | None = None) -> list[ProcessVersionRow]:
        found = [v for v in self.s.process_versions if process_id is None or v.process_id == process_id]
        return sorted(found, key=lambda v: (v.process_id, v.version))


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

    def update(self, user: User) -> None:
        if user.username not in self.s.users:
            raise NotFound(f"no user {user.username}")
        self.s.users[user.username] = (user, self.s.users[user.username][1])


class MemoryApiTokens:
    def __init__(self, state: MemoryState):
        self.s = state

    def add(self, token_sha256: str, username: str, name: str, at: datetime) -> ApiToken:
        token = ApiToken(len(self.s.api_tokens) + 1, username, name, at)
        self.s.api_tokens[token.id] = (token, token_sha256)
        return token

    def get(self, token_id: int) -> ApiToken:
        if token_id not in self.s.api_tokens:
            raise NotFound(f"no API token {token_id}")
        return self.s.api_tokens[token_id][0]

    def by_hash(self, token_sha256: str) -> ApiToken | None:
        return next((t for t, digest in self.s.api_tokens.values() if digest == token_sha256), None)

    def list(self, username: str | None = None) -> list[ApiToken]:
        return [t for t, _ in self.s.api_tokens.values() if username is None or t.username == username]

    def touch(self, token_id: int, at: datetime) -> None:
        token, digest = self.s.api_tokens[token_id]
        self.s.api_tokens[token_id] = (replace(token, last_used_at=at), digest)

    def revoke(self, token_id: int, at: datetime) -> None:
        token, digest = self.s.api_tokens[token_id]
        if token.revoked_at is None:
            self.s.api_tokens[token_id] = (replace(token, revoked_at=at), digest)


class MemoryIdempotency:
    def __init__(self, state: MemoryState):
        self.s = state

    def get(self, key: str, username: str) -> IdempotencyRecord | None:
        return self.s.idempotency.get((key, username))

    def reserve(self, key: str, username: str, request_sha256: str, at: datetime) -> None:
        if (key, username) in self.s.idempotency:
            raise IdempotencyKeyTaken(f"Idempotency-Key {key!r} was just used by another request")
        self.s.idempotency[(key, username)] = IdempotencyRecord(key, username, request_sha256, at)

    def complete(self, key: str, username: str, status_code: int, reference: str,
                 response: dict[str, Any]) -> None:
        record = self.s.idempotency[(key, username)]
        self.s.idempotency[(key, username)] = replace(record, status_code=status_code, reference=reference,
                                                      response=response)


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

    def _queued(self) -> list[QueuedMessage]:
        return [self.s.outbox_delivery.get(key) or QueuedMessage(m) for key, m in self.s.outbox.items()]

    def unsent(self, limit: int, max_attempts: int | None = None) -> list[QueuedMessage]:
        found = [q for q in self._queued() if q.sent_at is None
                 and (max_attempts is None or q.attempts < max_attempts)]
        return sorted(found, key=lambda q: (q.message.created_at, q.message.key))[:limit]

    def latest(self, limit: int) -> list[QueuedMessage]:
        return sorted(self._queued(), key=lambda q: (q.message.created_at, q.message.key), reverse=True)[:limit]

    def mark_sent(self, key: str, at: datetime) -> bool:
        if key not in self.s.outbox:
            return False
        queued = self.s.outbox_delivery.get(key) or QueuedMessage(self.s.outbox[key])
        if queued.sent_at is not None:
            return False
        self.s.outbox_delivery[key] = replace(queued, sent_at=at)
        return True

    def mark_failed(self, key: str, error: str) -> int:
        if key not in self.s.outbox:
            raise NotFound(f"no outbox message {key}")
        queued = self.s.outbox_delivery.get(key) or QueuedMessage(self.s.outbox[key])
        self.s.outbox_delivery[key] = replace(queued, attempts=queued.attempts + 1, last_error=error)
        return queued.attempts + 1


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


class MemoryPortalLinks:
    def __init__(self, state: MemoryState):
        self.s = state

    def add(self, link: PortalLink) -> None:
        self.s.portal_links[link.token_sha256] = link

    def get(self, token_sha256: str) -> PortalLink | None:
        return self.s.portal_links.get(token_sha256)


class MemoryServiceRatings:
    def __init__(self, state: MemoryState):
        self.s = state

    def add(self, rating: ServiceRating) -> None:
        if rating.request_reference in self.s.ratings:
            raise Conflict(f"request {rating.request_reference} has been rated already")
        self.s.ratings[rating.request_reference] = rating

    def get(self, reference: str) -> ServiceRating | None:
        return self.s.ratings.get(reference)


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
        self.portal_links = MemoryPortalLinks(self.state)
        self.ratings = MemoryServiceRatings(self.state)
        self.api_tokens = MemoryApiTokens(self.state)
        self.idempotency = MemoryIdempotency(self.state)
        self.incidents = MemoryIncidents(self.state)
        self.messages = MemoryMessages(self.state)
        self.subscriptions = MemorySubscriptions(self.state)
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
