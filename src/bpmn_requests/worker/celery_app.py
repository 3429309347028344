"""The Celery app of `bpmn-requests worker`: one task, `bpmn_requests.advance(instance_id)`, that advances one
due instance in one transaction (usecases/jobs.run_instance).

A task only names an instance; the database says whether it is still due. So a task delivered twice, late,
or to two workers at once does no harm (the second finds nothing due, or skips the row the first holds),
and a task lost with a killed worker is sent again by the sweep. Nothing is built at import time: the app
comes from `make_celery(settings)`, and each worker process builds its own System on its first task.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from celery import Celery, signals

from ..bootstrap import ADVANCE_TASK, System, broker_sender, build_system, celery_app
from ..config import Settings
from ..usecases.jobs import run_instance
from .logs import describe, quiet_chatty_loggers

log = logging.getLogger("bpmn_requests.worker")


class ProcessSystem:
    """One System per worker process, built on first use and disposed when the process ends.

    Built lazily so a prefork child never shares the parent's database connections; a System seen in
    another process id (inherited through fork) is dropped without closing the parent's connections.
    """

    def __init__(self, build: Callable[[], System]):
        self._build = build
        self._system: System | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    def get(self) -> System:
        with self._lock:
            if self._system is None or self._pid != os.getpid():
                self._system, self._pid = self._build(), os.getpid()
            return self._system

    def dispose(self) -> None:
        with self._lock:
            system, self._system = self._system, None
            if system is not None and self._pid == os.getpid():
                system.dispose()


def make_celery(settings: Settings, build: Callable[[], System] | None = None) -> Celery:
    """The worker's Celery app: the shared broker configuration plus the `advance` task."""
    app: Celery = celery_app(settings)
    systems = ProcessSystem(build or (lambda: _worker_system(settings, app)))

    @app.task(name=ADVANCE_TASK, ignore_result=True)  # type: ignore[untyped-decorator]
    def advance(instance_id: str) -> None:
        """Advance one instance if it is still due; every failure of the step is recorded by run_instance."""
        log.info("instance %s: step started", instance_id)
        try:
            outcome = run_instance(systems.get().services, instance_id)
        except Exception:
            # Nothing was claimed (the database is away): the sweep hands the instance out again later.
            log.exception("instance %s: could not run the step; the sweep sends it again", instance_id)
            return
        log.info(describe(outcome, instance_id))

    def dispose(**_: Any) -> None:
        systems.dispose()

    def quiet(**_: Any) -> None:
        quiet_chatty_loggers()

    # weak=False: the handlers are closures that would otherwise be collected at once.
    signals.after_setup_logger.connect(quiet, weak=False)
    signals.worker_process_shutdown.connect(dispose, weak=False)
    signals.worker_shutdown.connect(dispose, weak=False)
    return app


def _worker_system(settings: Settings, app: Celery) -> System:
    """The System a worker process runs steps with: an instance that falls due again at once (the next
    asynchronous task of a chain) goes straight back to the workers."""
    system = build_system(settings)
    system.services.on_due = broker_sender(settings, app)
    return system


def worker_argv(settings: Settings, concurrency: int | None = None) -> list[str]:
    """The `celery worker` arguments: one solo process by default (scale with more workers), prefork above."""
    processes = concurrency or settings.worker_concurrency
    pool = ["--pool=solo"] if processes == 1 else ["--pool=prefork", "-O", "fair"]
    return ["worker", f"--loglevel={settings.log_level.upper()}", *pool, f"--concurrency={processes}",
            # Gossip, mingle and heartbeats coordinate workers through the broker; the database does that here.
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            f"--hostname=bpmn-requests-{os.getpid()}@%h"]
