"""SQL repositories for instances, human tasks, deployments, users, the audit chain and the outbox."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, case, func, insert, or_, select, update
from sqlalchemy.orm import Session

from ..domain.audit import GENESIS, AuditEvent, event_hash
from ..domain.errors import Conflict, NotFound
from ..domain.ports import OutboxMessage
from ..domain.users import User
from ..usecases.outbox import QueuedMessage
from ..usecases.ports import Deployment, HumanTask, InstanceRow, ProcessVersionRow
from .counters import counters, next_value
from .tables import (
    audit_events,
    deployment_files,
    deployments,
    human_tasks,
    instances,
    outbox,
    process_versions,
    users,
)

Now = Callable[[], datetime]


class SqlInstanceRepository:
    def __init__(self, session: Session, lock_rows: bool):
        self.session = session
        self.lock_rows = lock_rows

    def add(self, row: InstanceRow) -> None:
        self.session.execute(insert(instances).values(**row.__dict__))

    def get_for_update(self, instance_id: str) -> InstanceRow:
        query = select(instances).where(instances.c.id == instance_id)
        if self.lock_rows:
            query = query.with_for_update()
        found = self.session.execute(query).first()
        if found is None:
            raise NotFound(f"no process instance {instance_id}")
        return InstanceRow(**found._mapping)

    def save(self, row: InstanceRow) -> None:
        values = {k: v for k, v in row.__dict__.items() if k not in ("id", "version")}
        result = self.session.execute(
            update(instances).where(instances.c.id == row.id, instances.c.version == row.version)
            .values(version=row.version + 1, **values))
        if result.rowcount != 1:
            raise Conflict(f"request {row.request_reference} was changed by someone else; reload and retry")
        row.version += 1

    def for_request(self, reference: str) -> InstanceRow:
        found = self.session.execute(select(instances).where(instances.c.request_reference == reference)).first()
        if found is None:
            raise NotFound(f"no process instance for request {reference}")
        return InstanceRow(**found._mapping)

    def unfinished(self) -> list[InstanceRow]:
        rows = self.session.execute(select(instances).where(instances.c.status != "completed")).all()
        return [InstanceRow(**r._mapping) for r in rows]

    def for_deployments(self, deployment_ids: Sequence[int]) -> list[InstanceRow]:
        rows = self.session.execute(select(instances).where(instances.c.deployment_id.in_(list(deployment_ids)))
                                    .order_by(instances.c.created_at, instances.c.id)).all()
        return [InstanceRow(**r._mapping) for r in rows]

    def claim_due(self, now: datetime, instance_id: str | None = None) -> InstanceRow | None:
        query = select(instances).where(instances.c.status == "running", instances.c.due_at <= now)
        if instance_id is not None:
            query = query.where(instances.c.id == instance_id)
        else:
            query = query.order_by(instances.c.due_at, instances.c.id).limit(1)
        if self.lock_rows:  # another worker's instance is skipped, never waited for
            query = query.with_for_update(skip_locked=True)
        found = self.session.execute(query).first()
        return InstanceRow(**found._mapping) if found else None

    def dispatch_due(self, now: datetime, limit: int, redispatch_before: datetime) -> list[str]:
        query = (select(instances.c.id).where(
            instances.c.status == "running", instances.c.due_at <= now,
            or_(instances.c.dispatched_at.is_(None), instances.c.dispatched_at < redispatch_before))
            .order_by(instances.c.due_at, instances.c.id).limit(limit))
        if self.lock_rows:
            query = query.with_for_update(skip_locked=True)
        ids = [str(i) for i in self.session.execute(query).scalars()]
        if ids:
            self.session.execute(update(instances).where(instances.c.id.in_(ids)).values(dispatched_at=now))
        return ids

    def clear_dispatch(self, instance_ids: Sequence[str]) -> None:
        self.session.execute(update(instances).where(instances.c.id.in_(list(instance_ids))).values(dispatched_at=None))

    def next_due_at(self, redispatch_before: datetime) -> tuple[datetime | None, datetime | None]:
        waiting = and_(instances.c.status == "running", instances.c.due_at.is_not(None))
        fresh = and_(instances.c.dispatched_at.is_not(None), instances.c.dispatched_at >= redispatch_before)
        row = self.session.execute(select(
            func.min(case((fresh, None), else_=instances.c.due_at)),
            func.min(case((fresh, instances.c.dispatched_at), else_=None))).where(waiting)).one()
        return _aware(row[0]), _aware(row[1])


def _aware(value: datetime | None) -> datetime | None:
    """An aggregate of a UTC column loses the column's type on SQLite: give it its zone back."""
    if value is None or isinstance(value, datetime) and value.tzinfo:
        return value
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=UTC)


def _task(row: Any) -> HumanTask:
    values = dict(row._mapping)
    values["candidate_groups"] = tuple(values["candidate_groups"])
    return HumanTask(**values)


class SqlTaskRepository:
    def __init__(self, session: Session):
        self.session = session

    def get(self, task_id: str) -> HumanTask:
        row = self.session.execute(select(human_tasks).where(human_tasks.c.id == task_id)).first()
        if row is None:
            raise NotFound(f"no task {task_id}")
        return _task(row)

    def add(self, task: HumanTask) -> None:
        values = dict(task.__dict__)
        values["candidate_groups"] = list(task.candidate_groups)
        self.session.execute(insert(human_tasks).values(**values))

    def update(self, task: HumanTask) -> None:
        self.session.execute(update(human_tasks).where(human_tasks.c.id == task.id).values(
            status=task.status, claimed_by=task.claimed_by, completed_at=task.completed_at,
            completed_by=task.completed_by, assignee=task.assignee, priority=task.priority))

    def _open(self, *conditions: Any) -> list[HumanTask]:
        query = select(human_tasks).where(human_tasks.c.status == "open", *conditions).order_by(
            human_tasks.c.created_at, human_tasks.c.id)
        return [_task(r) for r in self.session.execute(query).all()]

    def open_for_instance(self, instance_id: str) -> list[HumanTask]:
        return self._open(human_tasks.c.instance_id == instance_id)

    def open_for_request(self, reference: str) -> list[HumanTask]:
        return self._open(human_tasks.c.request_reference == reference)

    def open_tasks(self) -> list[HumanTask]:
        return self._open()

    def for_instances(self, instance_ids: Sequence[str]) -> list[HumanTask]:
        query = select(human_tasks).where(human_tasks.c.instance_id.in_(list(instance_ids))).order_by(
            human_tasks.c.created_at, human_tasks.c.id)
        return [_task(r) for r in self.session.execute(query).all()]

    def update_definition(self, task: HumanTask) -> None:
        self.session.execute(update(human_tasks).where(human_tasks.c.id == task.id).values(
            element_id=task.element_id, process_id=task.process_id, name=task.name, form_id=task.form_id,
            candidate_groups=list(task.candidate_groups), assignee=task.assignee, properties=task.properties,
            required_level=task.required_level))


class SqlDeploymentRepository:
    def __init__(self, session: Session, now: Now, cache: dict[int, Deployment] | None = None):
        self.session = session
        self._now = now
        # Deployments never change once written, so a process-wide cache is always right.
        self._cache: dict[int, Deployment] = cache if cache is not None else {}

    def _load(self, row: Any) -> Deployment:
        files = self.session.execute(select(deployment_files).where(
            deployment_files.c.deployment_id == row.id)).all()
        return Deployment(row.id, row.created_at, row.deployed_by, {f.name: bytes(f.content) for f in files},
                          {f.name: f.sha256 for f in files})

    def active(self) -> Deployment | None:
        row = self.session.execute(select(deployments).where(deployments.c.active.is_(True))
                                   .order_by(deployments.c.id.desc()).limit(1)).first()
        return self.get(row.id) if row else None

    def get(self, deployment_id: int) -> Deployment:
        if not 0 < deployment_id < 2**63:  # no such row, and the database could not even compare it
            raise NotFound(f"no deployment {deployment_id}")
        if deployment_id not in self._cache:
            row = self.session.execute(select(deployments).where(deployments.c.id == deployment_id)).first()
            if row is None:
                raise NotFound(f"no deployment {deployment_id}")
            self._cache[deployment_id] = self._load(row)
        return self._cache[deployment_id]

    def add(self, files: dict[str, bytes], deployed_by: str) -> Deployment:
        hashes = {name: hashlib.sha256(content).hexdigest() for name, content in files.items()}
        bundle = hashlib.sha256("".join(f"{n}:{h}" for n, h in sorted(hashes.items())).encode()).hexdigest()
        self.session.execute(update(deployments).values(active=False))
        new_id = self.session.execute(insert(deployments).values(
            created_at=self._now(), deployed_by=deployed_by, bundle_sha256=bundle, active=True)
            .returning(deployments.c.id)).scalar_one()
        self.session.execute(insert(deployment_files), [
            {"deployment_id": new_id, "name": n, "sha256": hashes[n], "content": c} for n, c in files.items()])
        return self.get(new_id)

    def list(self) -> list[Deployment]:
        ids = self.session.execute(select(deployments.c.id).order_by(deployments.c.id)).scalars()
        return [self.get(i) for i in ids]

    def activate(self, deployment_id: int) -> None:
        self.get(deployment_id)  # NotFound before anything changes
        self.session.execute(update(deployments).where(deployments.c.id != deployment_id).values(active=False))
        self.session.execute(update(deployments).where(deployments.c.id == deployment_id).values(active=True))

    def add_version(self, version: ProcessVersionRow) -> None:
        values = {k: v for k, v in version.__dict__.items() if k != "deployed_by"}
        self.session.execute(insert(process_versions).values(**values))

    def versions(self, process_id: str | None = None) -> list[ProcessVersionRow]:
        query = (select(process_versions, deployments.c.deployed_by)
                 .join(deployments, deployments.c.id == process_versions.c.deployment_id)
                 .order_by(process_versions.c.process_id, process_versions.c.version))
        if process_id is not None:
            query = query.where(process_versions.c.process_id == process_id)
        return [ProcessVersionRow(**r._mapping) for r in self.session.execute(query).all()]


class SqlUserRepository:
    def __init__(self, session: Session, now: Now):
        self.session = session
        self._now = now

    def get(self, username: str) -> User | None:
        row = self.session.execute(select(users).where(users.c.username == username)).first()
        if row is None:
            return None
        return User(row.username, row.full_name, frozenset(row.groups), row.email, row.active)

    def password_hash(self, username: str) -> str | None:
        return self.session.execute(select(users.c.password_hash).where(users.c.username == username)).scalar()

    def add(self, user: User, password_hash: str | None) -> None:
        self.session.execute(insert(users).values(
            username=user.username, full_name=user.full_name, email=user.email, password_hash=password_hash,
            groups=sorted(user.groups), active=user.active, created_at=self._now()))

    def update(self, user: User) -> None:
        result = self.session.execute(update(users).where(users.c.username == user.username).values(
            full_name=user.full_name, email=user.email, groups=sorted(user.groups), active=user.active))
        if result.rowcount != 1:
            raise NotFound(f"no user {user.username}")

    def all(self) -> list[User]:
        rows = self.session.execute(select(users).order_by(users.c.username)).all()
        return [User(r.username, r.full_name, frozenset(r.groups), r.email, r.active) for r in rows]


class SqlAuditLog:
    """Events are held until commit, then chained under the audit counter's row lock."""

    def __init__(self, session: Session, now: Now):
        self.session = session
        self._now = now
        self.pending: list[tuple[datetime, str, str, str, Any, Any]] = []

    def record(self, actor: str, action: str, subject: str, before: dict[str, Any] | None,
               after: dict[str, Any] | None) -> None:
        self.pending.append((self._now(), actor, action, subject, before, after))

    def flush(self) -> None:
        if not self.pending:
            return
        # Takes the sequence numbers of every pending event and locks the chain until commit.
        seq = next_value(self.session, "audit", start=1, count=len(self.pending)) - 1
        prev = self.session.execute(select(audit_events.c.hash).where(audit_events.c.seq == seq)).scalar()
        prev = prev or GENESIS
        rows = []
        for at, actor, action, subject, before, after in self.pending:
            seq += 1
            digest = event_hash(prev, seq, at, actor, action, subject, before, after)
            rows.append({"seq": seq, "at": at, "actor": actor, "action": action, "subject": subject,
                         "before": before, "after": after, "prev_hash": prev, "hash": digest})
            prev = digest
        self.session.execute(insert(audit_events), rows)
        self.pending.clear()

    def _events(self, query: Any) -> list[AuditEvent]:
        return [AuditEvent(r.seq, r.at, r.actor, r.action, r.subject, r.before, r.after, r.prev_hash, r.hash)
                for r in self.session.execute(query).all()]

    def written(self) -> int:
        value = self.session.execute(select(counters.c.value).where(counters.c.name == "audit")).scalar()
        return int(value or 0)

    def for_subject(self, subject: str) -> list[AuditEvent]:
        return self._events(select(audit_events).where(audit_events.c.subject == subject).order_by(audit_events.c.seq))

    def all(self) -> list[AuditEvent]:
        return self._events(select(audit_events).order_by(audit_events.c.seq))


class SqlOutbox:
    def __init__(self, session: Session):
        self.session = session

    def add(self, message: OutboxMessage) -> bool:
        exists = self.session.execute(select(outbox.c.key).where(outbox.c.key == message.key)).first()
        if exists:
            return False
        self.session.execute(insert(outbox).values(
            key=message.key, request_reference=message.request_reference, customer_id=message.customer_id,
            recipient=message.to, template=message.template, subject=message.subject, body=message.body,
            created_at=message.created_at, attempts=0))
        return True

    def for_request(self, request_reference: str) -> list[OutboxMessage]:
        rows = self.session.execute(select(outbox).where(outbox.c.request_reference == request_reference)
                                    .order_by(outbox.c.created_at, outbox.c.key)).all()
        return [OutboxMessage(r.key, r.request_reference, r.customer_id, r.recipient, r.template, r.subject,
                              r.body, r.created_at) for r in rows]

    def unsent(self, limit: int, max_attempts: int | None = None) -> list[QueuedMessage]:
        query = (select(outbox).where(outbox.c.sent_at.is_(None))
                 .order_by(outbox.c.created_at, outbox.c.key).limit(limit))
        if max_attempts is not None:
            query = query.where(outbox.c.attempts < max_attempts)
        return [_queued(r) for r in self.session.execute(query).all()]

    def latest(self, limit: int) -> list[QueuedMessage]:
        query = select(outbox).order_by(outbox.c.created_at.desc(), outbox.c.key.desc()).limit(limit)
        return [_queued(r) for r in self.session.execute(query).all()]

    def mark_sent(self, key: str, at: datetime) -> bool:
        result = self.session.execute(update(outbox).where(outbox.c.key == key, outbox.c.sent_at.is_(None))
                                      .values(sent_at=at))
        return bool(result.rowcount == 1)

    def mark_failed(self, key: str, error: str) -> int:
        attempts = self.session.execute(update(outbox).where(outbox.c.key == key)
                                        .values(attempts=outbox.c.attempts + 1, last_error=error)
                                        .returning(outbox.c.attempts)).scalar()
        if attempts is None:
            raise NotFound(f"no outbox message {key}")
        return int(attempts)


def _queued(r: Any) -> QueuedMessage:
    message = OutboxMessage(r.key, r.request_reference, r.customer_id, r.recipient, r.template, r.subject, r.body,
                            r.created_at)
    return QueuedMessage(message, r.attempts, r.last_error, r.sent_at)
