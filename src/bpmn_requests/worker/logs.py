"""What the worker, the scheduler and `serve` log: one line an admin can read per step or dispatch."""

from __future__ import annotations

import logging

from ..usecases.jobs import JobOutcome

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The engine library logs every task state change at INFO: thousands of lines that say nothing to an admin.
CHATTY = ("spiff",)


def configure_logging(level: str) -> None:
    """One line per event on stderr, at the level of BPMN_REQUESTS_LOG_LEVEL."""
    logging.basicConfig(level=level.upper(), format=LOG_FORMAT)
    logging.getLogger("bpmn_requests").setLevel(level.upper())
    quiet_chatty_loggers()


def quiet_chatty_loggers() -> None:
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.WARNING)


def describe(outcome: JobOutcome | None, instance_id: str) -> str:
    """One line an admin can read: which request, what happened, what comes next."""
    if outcome is None:
        return f"instance {instance_id}: nothing due (done already, or another worker holds it)"
    head = f"{outcome.reference} (instance {outcome.instance_id})"
    when = f"; due again {outcome.due_at.isoformat(timespec='seconds')}" if outcome.due_at else ""
    if outcome.outcome == "advanced":
        return f"{head}: step done{when}"
    if outcome.outcome == "retry":
        return f"{head}: step failed, retried{when}: {outcome.error}"
    if outcome.outcome == "incident":
        return f"{head}: step failed, incident opened: {outcome.error}"
    return f"{head}: changed by someone else meanwhile, left to the next sweep: {outcome.error}"
