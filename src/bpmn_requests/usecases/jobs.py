"""Due work: advance instances whose timers fell due, whose asynchronous service tasks wait for a worker,
whose failed step waits for its retry, or for which an early message waits in the buffer.

The database is the source of truth: an instance is due when its `due_at` has passed. A worker locks one
due instance (SKIP LOCKED: never one another worker holds), advances it in one transaction and commits;
a crash leaves the last commit, and the instance is still due, so the step is redone. A transient failure
(timeout, refused connection, HTTP 5xx or 429) is retried with exponential backoff; a permanent one, or
one that used up its retries, opens an incident and the instance waits for an admin.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain.errors import Conflict, DomainError, ServiceTaskError
from ..engine.runner import Snapshot
from .context import Services, announce_due, jsonable
from .lifecycle import TaskChanges, apply_snapshot, record_state, run_context
from .messages import deliver_buffered
from .ports import InstanceRow, UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobOutcome:
    instance_id: str
    reference: str
    outcome: str  # advanced | retry | incident | conflict
    error: str | None = None
    due_at: datetime | None = None  # when the instance is due again


def advance_instance(uow: UnitOfWork, services: Services, instance: InstanceRow, *, actor: str = "system",
                     overrides: Mapping[str, dict[str, Any]] | None = None) -> Snapshot | None:
    """Deliver the buffered messages the instance waits for, fire its due timers and run its waiting
    asynchronous service tasks, inside the caller's transaction (None when a message ended it)."""
    record = uow.requests.get(instance.request_reference)
    deployment = uow.deployments.get(instance.deployment_id)
    bundle = services.bundle(deployment)
    deliver_buffered(uow, services, instance, record, bundle, actor)
    if instance.status == "completed":  # a kept message took it to its end
        return None
    before = record_state(record)
    changes = TaskChanges()
    ctx = run_context(services, uow, record, instance.id, changes, run_async=True, overrides=overrides)
    snapshot = services.engine.advance(bundle, instance.process_id, instance.state, ctx.bridge, instance.id, ctx=ctx)
    apply_snapshot(uow, services, instance, record, snapshot, actor, before, changes)
    return snapshot


def run_instance(services: Services, instance_id: str | None = None) -> JobOutcome | None:
    """Advance one due instance (this one, else the most overdue) in its own transaction.

    None when nothing is due (or another worker holds the instance right now).
    """
    now = services.clock.now()
    claimed: tuple[str, str] | None = None
    try:
        with services.uow() as uow:
            instance = uow.instances.claim_due(now, instance_id)
            if instance is None:
                return None
            claimed = (instance.id, instance.request_reference)
            advance_instance(uow, services, instance)
            instance.attempts, instance.error = 0, None
            uow.instances.save(instance)
            uow.commit()
    except Conflict as exc:
        if claimed is None:
            raise
        # Someone changed the instance since we read it (a user completed a task): it is still due.
        return JobOutcome(claimed[0], claimed[1], "conflict", exc.message)
    except Exception as exc:  # noqa: BLE001 - every failure of a step is recorded, not lost
        if claimed is None:
            raise
        return _failed(services, claimed[0], exc, now)
    announce_due(services, instance)
    return JobOutcome(instance.id, instance.request_reference, "advanced", due_at=instance.due_at)


def _failed(services: Services, instance_id: str, exc: Exception, now: datetime) -> JobOutcome:
    """Record a failed step: a retry later, or an incident."""
    if not isinstance(exc, DomainError):
        log.exception("step of instance %s failed", instance_id)
    details = exc.details if isinstance(exc, DomainError) else {}
    element = str(details["element_id"]) if details.get("element_id") else None
    message = exc.message if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
    code = (exc.error_code if isinstance(exc, ServiceTaskError) else
            exc.code if isinstance(exc, DomainError) else type(exc).__name__)
    transient = isinstance(exc, ServiceTaskError) and exc.transient
    with services.uow() as uow:
        instance = uow.instances.get_for_update(instance_id)
        if instance.status != "running":
            return JobOutcome(instance.id, instance.request_reference, "conflict", message)
        failures = instance.attempts + 1
        policy = services.jobs.retry
        if element:
            facts = services.bundle(uow.deployments.get(instance.deployment_id)).element(
                str(details.get("process_id") or instance.process_id), element)
            policy = policy.for_element(facts.retry if facts else None)
        instance.error, instance.attempts, instance.dispatched_at = message[:2000], failures, None
        if transient and not policy.exhausted(failures):
            instance.due_at = now + policy.delay(failures)
            uow.audit.record("system", "step.failed", instance.request_reference, None,
                             {"element": element, "error": message, "attempt": failures,
                              "retry_at": instance.due_at.isoformat()})
            outcome = "retry"
        else:
            instance.status, instance.due_at = "incident", None
            data = details.get("data") or services.engine.data(
                services.bundle(uow.deployments.get(instance.deployment_id)), instance.process_id, instance.state)
            incident = uow.incidents.add(instance.id, instance.request_reference, element, code, message,
                                         jsonable(data), failures, now)
            uow.audit.record("system", "incident.opened", instance.request_reference, None,
                             {"incident": incident.id, "element": element, "error": code, "message": message,
                              "attempts": failures, "transient": transient})
            outcome = "incident"
        uow.instances.save(instance)
        uow.commit()
    return JobOutcome(instance.id, instance.request_reference, outcome, message, instance.due_at)


def run_due_work(services: Services, limit: int = 1000,
                 should_stop: Callable[[], bool] = lambda: False) -> list[JobOutcome]:
    """Advance due instances one at a time until none is due (the embedded sweep, tests, `scheduler --once`)."""
    done: list[JobOutcome] = []
    seen_conflicts: set[str] = set()
    while len(done) < limit and not should_stop():
        outcome = run_instance(services)
        if outcome is None:
            break
        done.append(outcome)
        if outcome.outcome == "conflict":
            if outcome.instance_id in seen_conflicts:
                break  # it keeps changing under us: leave it to the next sweep
            seen_conflicts.add(outcome.instance_id)
    return done


def dispatch_due(services: Services, send: Callable[[str], None], limit: int = 500) -> list[str]:
    """Hand due instances to workers through the broker; one not done after `redispatch_after` is sent
    again, so a lost broker message delays work and never loses it."""
    now = services.clock.now()
    with services.uow() as uow:
        ids = uow.instances.dispatch_due(now, limit, now - services.jobs.redispatch_after)
        uow.commit()
    sent, unsent = [], []
    for instance_id in ids:
        try:
            send(instance_id)
            sent.append(instance_id)
        except Exception:  # noqa: BLE001 - the broker is down: the next sweep sends it again
            log.warning("could not hand instance %s to a worker; it is sent again later", instance_id)
            unsent.append(instance_id)
    if unsent:  # not handed out: the next sweep sends them as soon as the broker is back
        with services.uow() as uow:
            uow.instances.clear_dispatch(unsent)
            uow.commit()
    return sent


def next_due_at(services: Services) -> datetime | None:
    """When the sweep has something to do next: the earliest due time of an instance no worker was handed
    (one handed out and not done yet does not count, else the sweep would wake for it over and over), or
    the time a hand-out falls overdue and is sent again."""
    after = services.jobs.redispatch_after
    with services.uow() as uow:
        due, handed = uow.instances.next_due_at(services.clock.now() - after)
    times = [t for t in (due, handed + after if handed else None) if t is not None]
    return min(times) if times else None
