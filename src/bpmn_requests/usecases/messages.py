"""Messages: a customer's answer or decision, another system's event, delivered to the instance waiting.

A message has a name (`customer_answer`, `payment_received`), a correlation key (the request reference,
a payment reference: whatever the receiving element is correlated by) and variables. It is delivered to
the instance that waits for it (a receive task, message catch event or boundary event) in one transaction;
its variables are checked by the receiving element first: against the Camunda Form its `form` property
names, or against the names its `variables` property allows (nothing else may be set by a message).

Nobody waiting: with a time to live the message is kept and delivered when an instance reaches the
receiving element (an early bank event); without one the sender is told which request waits for what.
Every message carries the sender's `message_id`: the same id sent twice has one effect.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..domain.errors import DomainError, MessageIdTaken, NotFound, ValidationFailed
from ..domain.requests import RequestRecord, StepRecord
from ..engine.bundle import ProcessBundle
from ..forms import validate_submission
from .context import Services, announce_due, jsonable
from .lifecycle import TaskChanges, apply_snapshot, record_state, run_context
from .ports import InstanceRow, StoredMessage, SubscriptionRow, UnitOfWork

NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]{0,199}$")


@dataclass(frozen=True)
class IncomingMessage:
    name: str
    correlation_key: str
    variables: Mapping[str, Any]
    message_id: str  # the sender's id for this message: sending it again has no further effect
    sender: str  # a staff username, an integration's user, or customer:<id>
    ttl: timedelta | None = None  # how long to keep it when nobody waits yet (None: the settings' default)


@dataclass(frozen=True)
class MessageResult:
    status: str  # delivered | buffered | duplicate
    id: str
    name: str
    message_id: str
    correlation_key: str
    reference: str | None = None  # the request it reached
    element_id: str | None = None
    expires_at: datetime | None = None  # a buffered message is kept until then
    request_status: str | None = None
    first_status: str | None = None  # a duplicate: what became of the first (delivered, buffered, expired)


def _check(msg: IncomingMessage, services: Services) -> timedelta:
    errors = {}
    if not NAME.match(msg.name or ""):
        errors["name"] = "a message name is 1 to 200 letters, digits, '_', '.', ':' or '-', starting with a letter"
    if not msg.correlation_key or len(msg.correlation_key) > 200 or not msg.correlation_key.isprintable():
        errors["correlation_key"] = "the correlation key is 1 to 200 printable characters"
    if not 1 <= len(msg.message_id or "") <= 200 or not all(33 <= ord(c) <= 126 for c in msg.message_id):
        errors["message_id"] = "the message id is 1 to 200 visible ASCII characters without spaces"
    if not isinstance(msg.variables, Mapping):
        errors["variables"] = "variables must be a JSON object"
    ttl = services.jobs.message_ttl if msg.ttl is None else msg.ttl
    if not timedelta(0) <= ttl <= services.jobs.message_ttl_max:
        errors["ttl_seconds"] = (f"the time to live is 0 to {int(services.jobs.message_ttl_max.total_seconds())} "
                                 f"seconds")
    if errors:
        raise ValidationFailed.for_fields(errors)
    return ttl


def send_message(msg: IncomingMessage, services: Services) -> MessageResult:
    """Deliver the message to the instance waiting for it, keep it for one to come, or refuse it."""
    ttl = _check(msg, services)
    try:
        return _send(msg, ttl, services)
    except MessageIdTaken:
        # The same message, sent concurrently, was recorded first; this attempt rolled back.
        return _send(msg, ttl, services)


def _send(msg: IncomingMessage, ttl: timedelta, services: Services) -> MessageResult:
    now = services.clock.now()
    with services.uow() as uow:
        first = uow.messages.by_message_id(msg.name, msg.message_id)
        if first is not None:
            return _result(first, "duplicate", first_status=first.status)
        target = _receiver(uow, msg)
        if target is None:
            if not ttl:
                raise NotFound(_nobody_waits(uow, msg), details={"correlation_key": msg.correlation_key})
            stored = _stored(msg, now, "buffered", expires_at=now + ttl)
            uow.messages.add(stored)
            uow.audit.record(msg.sender, "message.buffered", _subject(uow, msg), None,
                             {"message": msg.name, "key": msg.correlation_key, "message_id": msg.message_id,
                              "expires_at": stored.expires_at.isoformat() if stored.expires_at else None})
            uow.commit()
            return _result(stored, "buffered")
        instance, subscription = target
        record = uow.requests.get(instance.request_reference)
        bundle = services.bundle(uow.deployments.get(instance.deployment_id))
        variables = receivable(uow, services, instance, bundle, subscription, msg.variables)
        stored = _stored(msg, now, "delivered", instance_id=instance.id, element_id=subscription.element_id,
                         request_reference=record.reference, delivered_at=now)
        uow.messages.add(stored)
        deliver(uow, services, instance, record, bundle, subscription, variables, msg.sender)
        uow.instances.save(instance)
        uow.commit()
    announce_due(services, instance)
    return _result(stored, "delivered", request_status=record.status)


def _receiver(uow: UnitOfWork, msg: IncomingMessage) -> tuple[InstanceRow, SubscriptionRow] | None:
    """The oldest waiting receiver of this message, its instance locked (and the wait checked again)."""
    for candidate in uow.subscriptions.find(msg.name, msg.correlation_key):
        instance = uow.instances.get_for_update(candidate.instance_id)
        if instance.status != "running":
            continue
        still = [s for s in uow.subscriptions.for_instance(instance.id)
                 if (s.element_id, s.message, s.correlation_key) == (candidate.element_id, msg.name,
                                                                      msg.correlation_key)]
        if still:
            return instance, still[0]
    return None


def _nobody_waits(uow: UnitOfWork, msg: IncomingMessage) -> str:
    try:
        record = uow.requests.get(msg.correlation_key)
    except NotFound:
        return (f"no request waits for message {msg.name!r} with correlation key {msg.correlation_key!r}; "
                f"send it with a time to live (ttl_seconds) if it may arrive before the request waits for it")
    waits = sorted({s.message for s in uow.subscriptions.for_instance(uow.instances.for_request(record.reference).id)})
    waiting = f"it waits for {', '.join(repr(w) for w in waits)}" if waits else "it waits for no message"
    return f"request {record.reference} does not wait for message {msg.name!r} now (status {record.status}; {waiting})"


def _subject(uow: UnitOfWork, msg: IncomingMessage) -> str:
    try:
        return uow.requests.get(msg.correlation_key).reference
    except NotFound:
        return f"message:{msg.name}"


def receivable(uow: UnitOfWork, services: Services, instance: InstanceRow, bundle: ProcessBundle,
               subscription: SubscriptionRow, variables: Mapping[str, Any]) -> dict[str, Any]:
    """The variables the receiving element takes from this message, checked; ValidationFailed otherwise."""
    facts = bundle.element(_process_of(bundle, subscription), subscription.element_id)
    if facts is not None and facts.message_form:
        form = services.forms(uow.deployments.get(instance.deployment_id)).get(facts.message_form)
        context = services.engine.data(bundle, instance.process_id, instance.state)
        return dict(validate_submission(form, variables, context=context, today=services.clock.today()))
    if facts is not None:
        facts.check_message_variables(subscription.message, variables)
    elif variables:
        raise ValidationFailed(f"message {subscription.message!r} may set no variables at {subscription.element_id}",
                               field=next(iter(variables)))
    return dict(variables)


def _process_of(bundle: ProcessBundle, subscription: SubscriptionRow) -> str:
    found = [pid for (pid, element) in bundle.facts if element == subscription.element_id]
    return found[0] if found else ""


def deliver(uow: UnitOfWork, services: Services, instance: InstanceRow, record: RequestRecord,
            bundle: ProcessBundle, subscription: SubscriptionRow, variables: dict[str, Any], actor: str) -> None:
    """Run the instance on from the receiving element with the message's variables (caller's transaction)."""
    before = record_state(record)
    changes = TaskChanges()
    ctx = run_context(services, uow, record, instance.id, changes)
    snapshot = services.engine.deliver(bundle, instance.process_id, instance.state, subscription.element_id,
                                       subscription.message, variables, ctx)
    facts = bundle.element(_process_of(bundle, subscription), subscription.element_id)
    record.steps.append(StepRecord(subscription.element_id, (facts.name if facts else "") or subscription.element_id,
                                   actor, services.clock.now(), jsonable(variables)))
    uow.audit.record(actor, "message.delivered", record.reference, None,
                     {"message": subscription.message, "element": subscription.element_id,
                      "variables": jsonable(variables)})
    apply_snapshot(uow, services, instance, record, snapshot, actor, before, changes)


def deliver_buffered(uow: UnitOfWork, services: Services, instance: InstanceRow, record: RequestRecord,
                     bundle: ProcessBundle, actor: str) -> int:
    """Deliver the kept messages the instance waits for now, oldest first; returns how many."""
    now = services.clock.now()
    keyed = [(s.message, s.correlation_key) for s in uow.subscriptions.for_instance(instance.id) if s.correlation_key]
    delivered = 0
    for message in uow.messages.buffered_for(keyed, now):
        waiting = [s for s in uow.subscriptions.for_instance(instance.id)
                   if (s.message, s.correlation_key) == (message.name, message.correlation_key)]
        if not waiting:
            continue  # an earlier message moved the instance past this wait
        try:
            variables = receivable(uow, services, instance, bundle, waiting[0], message.variables)
        except DomainError as refused:
            uow.messages.settle(message.id, "refused", now, instance_id=instance.id,
                                element_id=waiting[0].element_id, reference=record.reference)
            uow.audit.record(actor, "message.refused", record.reference, None,
                             {"message": message.name, "message_id": message.message_id, "error": refused.message})
            continue
        deliver(uow, services, instance, record, bundle, waiting[0], variables, message.sender)
        uow.messages.settle(message.id, "delivered", now, instance_id=instance.id,
                            element_id=waiting[0].element_id, reference=record.reference)
        delivered += 1
    return delivered


def expire_messages(services: Services) -> list[StoredMessage]:
    """Mark kept messages whose time ran out expired (nobody came to wait for them)."""
    with services.uow() as uow:
        expired = uow.messages.expire(services.clock.now())
        for message in expired:
            uow.audit.record("system", "message.expired", f"message:{message.name}", None,
                             {"message_id": message.message_id, "key": message.correlation_key})
        uow.commit()
    return expired


def _stored(msg: IncomingMessage, now: datetime, status: str, **extra: Any) -> StoredMessage:
    return StoredMessage(id=uuid.uuid4().hex, name=msg.name, message_id=msg.message_id,
                         correlation_key=msg.correlation_key, variables=jsonable(dict(msg.variables)),
                         sender=msg.sender, received_at=now, status=status,
                         **{"expires_at": None, **extra})


def _result(stored: StoredMessage, status: str, **extra: Any) -> MessageResult:
    return MessageResult(status, stored.id, stored.name, stored.message_id, stored.correlation_key,
                         stored.request_reference, stored.element_id, stored.expires_at, **extra)


def recent_messages(services: Services, limit: int = 100, status: str | None = None) -> list[StoredMessage]:
    with services.uow() as uow:
        return uow.messages.recent(limit, status)
