"""In-memory repositories of unattended work (incidents, messages, subscriptions) for MemoryUnitOfWork."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..domain.errors import MessageIdTaken, NotFound
from ..usecases.ports import Incident, StoredMessage, SubscriptionRow

if TYPE_CHECKING:
    from .memory import MemoryState


class MemoryIncidents:
    def __init__(self, state: MemoryState):
        self.s = state

    def add(self, instance_id: str, request_reference: str, element_id: str | None, error_code: str,
            message: str, data: dict[str, Any], attempts: int, at: datetime) -> Incident:
        incident = Incident(len(self.s.incidents) + 1, instance_id, request_reference, element_id, error_code,
                            message, dict(data), attempts, at)
        self.s.incidents[incident.id] = incident
        return incident

    def get(self, incident_id: int) -> Incident:
        if incident_id not in self.s.incidents:
            raise NotFound(f"no incident {incident_id}")
        return self.s.incidents[incident_id]

    def open_for_instance(self, instance_id: str) -> Incident | None:
        found = [i for i in self.s.incidents.values() if i.instance_id == instance_id and i.open]
        return found[-1] if found else None

    def list(self, *, open_only: bool = True, limit: int = 200) -> list[Incident]:
        found = [i for i in self.s.incidents.values() if i.open or not open_only]
        return sorted(found, key=lambda i: -i.id)[:limit]

    def resolve(self, incident_id: int, at: datetime, by: str, resolution: str,
                data: dict[str, Any] | None) -> None:
        self.s.incidents[incident_id] = replace(self.get(incident_id), resolved_at=at, resolved_by=by,
                                                resolution=resolution, resolution_data=data)


class MemoryMessages:
    def __init__(self, state: MemoryState):
        self.s = state

    def add(self, message: StoredMessage) -> None:
        if self.by_message_id(message.name, message.message_id) is not None:
            raise MessageIdTaken(f"message {message.name!r} with message id {message.message_id!r} was "
                                 f"received already")
        self.s.messages[message.id] = message

    def by_message_id(self, name: str, message_id: str) -> StoredMessage | None:
        return next((m for m in self.s.messages.values() if (m.name, m.message_id) == (name, message_id)), None)

    def buffered_for(self, pairs: Sequence[tuple[str, str]], now: datetime) -> list[StoredMessage]:
        wanted = set(pairs)
        found = [m for m in self.s.messages.values() if m.status == "buffered" and m.expires_at is not None
                 and m.expires_at > now and (m.name, m.correlation_key) in wanted]
        return sorted(found, key=lambda m: (m.received_at, m.id))

    def settle(self, message_id: str, status: str, at: datetime, *, instance_id: str | None = None,
               element_id: str | None = None, reference: str | None = None) -> None:
        self.s.messages[message_id] = replace(self.s.messages[message_id], status=status,
                                              instance_id=instance_id, element_id=element_id,
                                              request_reference=reference, delivered_at=at)

    def expire(self, now: datetime) -> list[StoredMessage]:
        expired = [replace(m, status="expired") for m in self.s.messages.values()
                   if m.status == "buffered" and m.expires_at is not None and m.expires_at <= now]
        for message in expired:
            self.s.messages[message.id] = message
        return expired

    def recent(self, limit: int = 100, status: str | None = None) -> list[StoredMessage]:
        found = [m for m in self.s.messages.values() if status is None or m.status == status]
        return sorted(found, key=lambda m: m.received_at, reverse=True)[:limit]


class MemorySubscriptions:
    def __init__(self, state: MemoryState):
        self.s = state

    def replace(self, instance_id: str, reference: str, subscriptions: Sequence[tuple[str, str, str | None]],
                at: datetime) -> None:
        current = {(r.element_id, r.message, r.correlation_key): r for r in self.for_instance(instance_id)}
        self.s.subscriptions[instance_id] = [
            current.get((element, message, key)) or SubscriptionRow(instance_id, element, message, key, reference, at)
            for element, message, key in sorted(set(subscriptions))]

    def find(self, message: str, correlation_key: str) -> list[SubscriptionRow]:
        return [r for rows in self.s.subscriptions.values() for r in rows
                if r.message == message and r.correlation_key == correlation_key]

    def for_instance(self, instance_id: str) -> list[SubscriptionRow]:
        return list(self.s.subscriptions.get(instance_id, []))
