"""The sweep: the loop that makes due work happen, shared by `bpmn-requests scheduler` and `serve`.

Each round expires the buffered messages nobody came for, then hands due instances (timers, retries,
asynchronous tasks, buffered messages) to the workers through the broker, or without a broker advances
them in this process, then delivers the customer outbox when SMTP is configured. It sleeps until the next
due time or the sweep interval, whichever is sooner, and wakes early when told (`wake`, an `on_due`
announcement). `stop` ends it between two steps: a step is one transaction, so nothing is left half-done.
One process sweeps at a time (sweep_lock.py); the others stand by.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

from ..bootstrap import System, broker_sender
from ..usecases.context import Services
from ..usecases.jobs import dispatch_due, next_due_at, run_due_work
from ..usecases.messages import expire_messages
from ..usecases.outbox import DeliveryReport, MailSender, deliver_outbox
from .logs import describe
from .sweep_lock import NoLock, SweepLock, lock_for

log = logging.getLogger("bpmn_requests.sweep")

BATCH = 200  # instances per round; a full batch starts the next round at once
OUTBOX_BACKOFF = (30.0, 900.0)  # after a failed delivery, wait this long (doubling up to the second)


@dataclass(frozen=True)
class SweepSteps:
    """What one round does. `sweep_steps` builds it from the use cases; tests pass fakes."""

    expire: Callable[[], int]
    due_work: Callable[[Callable[[], bool]], int]  # given "should I stop?", how many instances it handled
    deliver: Callable[[], None] | None
    next_due: Callable[[], datetime | None]
    now: Callable[[], datetime]
    batch: int = BATCH


@dataclass(frozen=True)
class Round:
    expired: int = 0
    handled: int = 0
    finished: bool = True  # False: stopped between two steps


class Sweeper:
    """Runs rounds until stopped, sleeping in between; thread-safe `wake` and `stop`."""

    def __init__(self, steps: SweepSteps, interval: float, lock: SweepLock | None = None):
        self.steps, self.interval, self.lock = steps, interval, lock or NoLock()
        self._wakeup = threading.Event()
        self._stop = threading.Event()

    def wake(self, _instance_id: str | None = None) -> None:
        """Run the next round now (an `on_due` announcement: work fell due in a committed transaction)."""
        self._wakeup.set()

    def stop(self) -> None:
        """Stop after the current step (safe from a signal handler or another thread)."""
        self._stop.set()
        self._wakeup.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run_round(self) -> Round:
        """One round; checks for a stop between its steps."""
        if self.stopping:
            return Round(finished=False)
        expired = self.steps.expire()
        if self.stopping:
            return Round(expired, finished=False)
        handled = self.steps.due_work(lambda: self.stopping)
        if self.steps.deliver is not None and not self.stopping:
            self.steps.deliver()
        return Round(expired, handled, not self.stopping)

    def delay(self, last: Round) -> float:
        """Seconds to sleep: none after a full batch, else until the next due time or the interval."""
        if last.handled >= self.steps.batch:
            return 0.0
        due = self.steps.next_due()
        if due is None:
            return self.interval
        seconds = (due - self.steps.now()).total_seconds()
        if seconds <= 0:
            # Due already: it fell due during the round (look again now), or the round could do nothing
            # about it (another process holds it, the broker is away): look again after the interval.
            return 0.0 if last.handled else self.interval
        return min(self.interval, seconds)

    def run(self) -> None:
        """Sweep until `stop`; a failing round (database or broker away) is logged and tried again."""
        standing_by = False
        try:
            while not self.stopping:
                self._wakeup.clear()
                pause = self.interval
                try:
                    if self.lock.acquire():
                        if standing_by:
                            log.info("the other sweeper is gone: this process sweeps now")
                        standing_by = False
                        pause = self.delay(self.run_round())
                    elif not standing_by:
                        standing_by = True
                        log.info("another process sweeps this database: standing by")
                except Exception:  # noqa: BLE001 - the sweep outlives a database restart
                    log.exception("sweep round failed; trying again in %.0f s", self.interval)
                if pause > 0:
                    self._wakeup.wait(pause)
        finally:
            self.lock.release()


class OnceBrokenThisRound:
    """A broker sender that, once it failed, fails at once for the rest of the round instead of waiting on
    a dead broker once per instance (those instances are sent again after the redispatch time)."""

    def __init__(self, send: Callable[[str], None]):
        self._send = send
        self._error: Exception | None = None

    def __call__(self, instance_id: str) -> None:
        if self._error is not None:
            raise self._error
        try:
            self._send(instance_id)
        except Exception as exc:
            self._error = exc
            log.warning("broker unreachable (%s): due work waits for the next sweep", type(exc).__name__)
            raise


class OutboxDelivery:
    """Delivers the outbox each round, but after a failed message waits (30 s, doubling up to 15 min), so a
    mail server that is down does not use up every message's attempts within seconds."""

    def __init__(self, deliver: Callable[[MailSender], DeliveryReport],
                 mailer: Callable[[], AbstractContextManager[MailSender]],
                 monotonic: Callable[[], float] = time.monotonic):
        self._deliver, self._mailer, self._monotonic = deliver, mailer, monotonic
        self._not_before = 0.0
        self._backoff = OUTBOX_BACKOFF[0]

    def __call__(self) -> None:
        if self._monotonic() < self._not_before:
            return
        with self._mailer() as sender:
            report = self._deliver(sender)
        for d in report.deliveries:
            state = "sent" if d.outcome == "sent" else f"{d.outcome.replace('_', ' ')} ({d.error})"
            log.info("%s: customer message to %s %s", d.request_reference, d.to or "nobody", state)
        if report.retry or report.given_up:
            self._not_before = self._monotonic() + self._backoff
            self._backoff = min(self._backoff * 2, OUTBOX_BACKOFF[1])
        else:
            self._backoff = OUTBOX_BACKOFF[0]


def sweep_steps(services: Services, send: Callable[[str], None] | None = None,
                deliver: Callable[[], None] | None = None, batch: int = BATCH) -> SweepSteps:
    """The round of the use cases: with `send` (the broker) due work is dispatched, without it run here."""

    def expire() -> int:
        expired = expire_messages(services)
        for m in expired:
            log.info("message %s for %s expired: nobody waited for it", m.name, m.correlation_key)
        return len(expired)

    def due_work(should_stop: Callable[[], bool]) -> int:
        if send is None:
            outcomes = run_due_work(services, batch, should_stop)
            for outcome in outcomes:
                log.info(describe(outcome, outcome.instance_id))
            return len(outcomes)
        sent = dispatch_due(services, OnceBrokenThisRound(send), batch)
        for instance_id in sent:
            log.info("instance %s: handed to a worker", instance_id)
        return len(sent)

    return SweepSteps(expire, due_work, deliver, lambda: next_due_at(services), services.clock.now, batch)


def build_sweeper(system: System) -> Sweeper:
    """The sweeper of a process: the broker when one is configured, SMTP when configured, the lock that
    fits the database."""
    settings = system.settings
    deliver = None
    if settings.smtp_host:
        from .mail import SmtpSender

        def mailer() -> SmtpSender:
            return SmtpSender(settings.smtp_host, settings.smtp_port, settings.smtp_sender)

        deliver = OutboxDelivery(lambda sender: deliver_outbox(system.services, sender), mailer)
    steps = sweep_steps(system.services, broker_sender(settings), deliver)
    return Sweeper(steps, settings.sweep_seconds, lock_for(system.db))
