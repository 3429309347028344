"""Delivery of the customer outbox by mail: oldest message first, each one marked in its own transaction.

Delivery is at least once. A message is marked sent only after the mail server has accepted it, so a
crash between the two leaves it unsent and the next run sends that one message again (SMTP gives no way
to ask whether a message arrived; marking before sending would lose messages instead). Every mail of one
message carries the same Message-ID, so mail clients can drop the duplicate. A failed send counts an
attempt and keeps the error; after MAX_ATTEMPTS the message is left alone and reported as given up.
Run one delivery at a time: two concurrent runs may both send a message before either marks it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ..domain.errors import ProcessError
from ..domain.ports import OutboxMessage
from .ports import UnitOfWork

if TYPE_CHECKING:
    from .context import Services

MAX_ATTEMPTS = 5
ERROR_LENGTH = 1000  # how much of a server's answer is kept in last_error


class MailError(Exception):
    """A message could not be delivered (server unreachable, refused, timed out, no recipient)."""


class MailSender(Protocol):
    def send(self, message: OutboxMessage) -> None:
        """Hand one message to the mail server; raises MailError when it was not accepted."""
        ...


@dataclass(frozen=True)
class QueuedMessage:
    """An outbox message with its delivery state."""

    message: OutboxMessage
    attempts: int = 0
    last_error: str | None = None
    sent_at: datetime | None = None

    @property
    def given_up(self) -> bool:
        return self.sent_at is None and self.attempts >= MAX_ATTEMPTS


@runtime_checkable
class DeliveryQueue(Protocol):
    """What delivery needs of the outbox, besides queueing (domain.ports.Outbox)."""

    def unsent(self, limit: int, max_attempts: int | None = None) -> list[QueuedMessage]:
        """Unsent messages, oldest first; with `max_attempts`, only those tried fewer times."""
        ...

    def mark_sent(self, key: str, at: datetime) -> bool:
        """Record the delivery; False when the message was already marked sent."""
        ...

    def mark_failed(self, key: str, error: str) -> int:
        """Count a failed attempt and keep its error; returns the attempts so far."""
        ...

    def latest(self, limit: int) -> list[QueuedMessage]:
        """Every message, sent or not, newest first."""
        ...


@dataclass(frozen=True)
class Delivery:
    key: str
    request_reference: str
    to: str | None
    outcome: str  # sent | retry | gave_up | already_sent
    attempts: int = 0  # failed attempts so far
    error: str | None = None


@dataclass
class DeliveryReport:
    deliveries: list[Delivery] = field(default_factory=list)

    def _count(self, outcome: str) -> int:
        return sum(1 for d in self.deliveries if d.outcome == outcome)

    @property
    def sent(self) -> int:
        return self._count("sent")

    @property
    def retry(self) -> int:
        return self._count("retry")

    @property
    def given_up(self) -> int:
        return self._count("gave_up")


def delivery_queue(uow: UnitOfWork) -> DeliveryQueue:
    outbox = uow.outbox
    if not isinstance(outbox, DeliveryQueue):
        raise ProcessError(f"the outbox {type(outbox).__name__} cannot deliver messages "
                           f"(it lacks unsent, mark_sent, mark_failed or latest)")
    return outbox


def deliver_outbox(services: Services, sender: MailSender, limit: int = 100) -> DeliveryReport:
    """Send up to `limit` unsent messages, oldest first; each outcome is committed on its own."""
    with services.uow() as uow:
        pending = delivery_queue(uow).unsent(limit, max_attempts=MAX_ATTEMPTS)
    report = DeliveryReport()
    for item in pending:
        report.deliveries.append(_deliver_one(services, sender, item))
    return report


def _deliver_one(services: Services, sender: MailSender, item: QueuedMessage) -> Delivery:
    message = item.message
    try:
        sender.send(message)
    except MailError as exc:
        return _record_failure(services, message, str(exc) or type(exc).__name__)
    # A crash from here to the commit leaves the message unsent: the next run sends it again.
    with services.uow() as uow:
        first = delivery_queue(uow).mark_sent(message.key, services.clock.now())
        if first:
            uow.audit.record("system", "message.sent", message.request_reference, None,
                             {"key": message.key, "template": message.template, "to": message.to})
        uow.commit()
    return Delivery(message.key, message.request_reference, message.to, "sent" if first else "already_sent",
                    item.attempts)


def _record_failure(services: Services, message: OutboxMessage, error: str) -> Delivery:
    error = error[:ERROR_LENGTH]
    with services.uow() as uow:
        attempts = delivery_queue(uow).mark_failed(message.key, error)
        gave_up = attempts >= MAX_ATTEMPTS
        uow.audit.record("system", "message.failed", message.request_reference, None,
                         {"key": message.key, "attempts": attempts, "error": error, "given_up": gave_up})
        uow.commit()
    return Delivery(message.key, message.request_reference, message.to, "gave_up" if gave_up else "retry",
                    attempts, error)


def outbox_messages(services: Services, *, unsent_only: bool = False, limit: int = 50) -> list[QueuedMessage]:
    """Messages with their delivery state: the unsent ones oldest first, or all newest first."""
    with services.uow() as uow:
        queue = delivery_queue(uow)
        return queue.unsent(limit) if unsent_only else queue.latest(limit)
