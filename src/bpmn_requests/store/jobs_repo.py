"""SQL repositories of unattended work: incidents, received messages, message subscriptions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain.errors import MessageIdTaken, NotFound
from ..usecases.ports import Incident, StoredMessage, SubscriptionRow
from .jobs_tables import incidents, message_subscriptions, messages


class SqlIncidents:
    def __init__(self, session: Session):
        self.session = session

    def add(self, instance_id: str, request_reference: str, element_id: str | None, error_code: str,
            message: str, data: dict[str, Any], attempts: int, at: datetime) -> Incident:
        new_id = self.session.execute(insert(incidents).values(
            instance_id=instance_id, request_reference=request_reference, element_id=element_id,
            error_code=error_code, message=message, data=data, attempts=attempts, created_at=at)
            .returning(incidents.c.id)).scalar_one()
        return self.get(int(new_id))

    def get(self, incident_id: int) -> Incident:
        if not 0 < incident_id < 2**31:  # no such row, and the database could not even compare it
            raise NotFound(f"no incident {incident_id}")
        row = self.session.execute(select(incidents).where(incidents.c.id == incident_id)).first()
        if row is None:
            raise NotFound(f"no incident {incident_id}")
        return Incident(**row._mapping)

    def open_for_instance(self, instance_id: str) -> Incident | None:
        row = self.session.execute(select(incidents).where(
            incidents.c.instance_id == instance_id, incidents.c.resolved_at.is_(None))
            .order_by(incidents.c.id.desc()).limit(1)).first()
        return Incident(**row._mapping) if row else None

    def list(self, *, open_only: bool = True, limit: int = 200) -> list[Incident]:
        query = select(incidents).order_by(incidents.c.id.desc()).limit(limit)
        if open_only:
            query = query.where(incidents.c.resolved_at.is_(None))
        return [Incident(**r._mapping) for r in self.session.execute(query).all()]

    def resolve(self, incident_id: int, at: datetime, by: str, resolution: str,
                data: dict[str, Any] | None) -> None:
        self.session.execute(update(incidents).where(incidents.c.id == incident_id).values(
            resolved_at=at, resolved_by=by, resolution=resolution, resolution_data=data))


class SqlMessages:
    def __init__(self, session: Session):
        self.session = session

    def add(self, message: StoredMessage) -> None:
        # A savepoint, so a duplicate leaves the rest of the transaction usable.
        try:
            with self.session.begin_nested():
                self.session.execute(insert(messages).values(**message.__dict__))
        except IntegrityError:
            raise MessageIdTaken(f"message {message.name!r} with message id {message.message_id!r} was "
                                 f"received already") from None

    def by_message_id(self, name: str, message_id: str) -> StoredMessage | None:
        row = self.session.execute(select(messages).where(
            messages.c.name == name, messages.c.message_id == message_id)).first()
        return StoredMessage(**row._mapping) if row else None

    def buffered_for(self, pairs: Sequence[tuple[str, str]], now: datetime) -> list[StoredMessage]:
        if not pairs:
            return []
        wanted = or_(*(and_(messages.c.name == name, messages.c.correlation_key == key) for name, key in pairs))
        query = (select(messages).where(messages.c.status == "buffered", messages.c.expires_at > now, wanted)
                 .order_by(messages.c.received_at, messages.c.id))
        return [StoredMessage(**r._mapping) for r in self.session.execute(query).all()]

    def settle(self, message_id: str, status: str, at: datetime, *, instance_id: str | None = None,
               element_id: str | None = None, reference: str | None = None) -> None:
        self.session.execute(update(messages).where(messages.c.id == message_id).values(
            status=status, instance_id=instance_id, element_id=element_id, request_reference=reference,
            delivered_at=at))

    def expire(self, now: datetime) -> list[StoredMessage]:
        rows = self.session.execute(update(messages).where(
            messages.c.status == "buffered", messages.c.expires_at <= now).values(status="expired")
            .returning(*messages.c)).all()
        return [StoredMessage(**r._mapping) for r in rows]

    def recent(self, limit: int = 100, status: str | None = None) -> list[StoredMessage]:
        query = select(messages).order_by(messages.c.received_at.desc(), messages.c.id).limit(limit)
        if status is not None:
            query = query.where(messages.c.status == status)
        return [StoredMessage(**r._mapping) for r in self.session.execute(query).all()]


class SqlSubscriptions:
    def __init__(self, session: Session):
        self.session = session

    def replace(self, instance_id: str, reference: str, subscriptions: Sequence[tuple[str, str, str | None]],
                at: datetime) -> None:
        current = {(r.element_id, r.message, r.correlation_key) for r in self.for_instance(instance_id)}
        wanted = set(subscriptions)
        if current == wanted:
            return  # the common case: nothing changed, no writes
        self.session.execute(delete(message_subscriptions).where(message_subscriptions.c.instance_id == instance_id))
        if wanted:
            self.session.execute(insert(message_subscriptions), [
                {"instance_id": instance_id, "element_id": element, "message": message, "correlation_key": key,
                 "request_reference": reference, "created_at": at} for element, message, key in sorted(wanted)])

    def find(self, message: str, correlation_key: str) -> list[SubscriptionRow]:
        rows = self.session.execute(select(message_subscriptions).where(
            message_subscriptions.c.message == message, message_subscriptions.c.correlation_key == correlation_key)
            .order_by(message_subscriptions.c.created_at, message_subscriptions.c.instance_id)).all()
        return [SubscriptionRow(**r._mapping) for r in rows]

    def for_instance(self, instance_id: str) -> list[SubscriptionRow]:
        rows = self.session.execute(select(message_subscriptions).where(
            message_subscriptions.c.instance_id == instance_id)).all()
        return [SubscriptionRow(**r._mapping) for r in rows]
