"""What use cases are built with: the engine, the service-task registry, ports that outlive a transaction."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ..domain.ports import Clock, CreditBureau, PepList, SanctionsScreener
from ..domain.retries import RetryPolicy
from ..engine.bundle import ProcessBundle
from ..engine.runner import Engine
from ..forms import FormCatalog
from ..service_tasks.registry import Registry, ServiceSettings
from .ports import Deployment, UnitOfWork

MAIN_PROCESS = "customer_request"


@dataclass(frozen=True)
class JobSettings:
    """How unattended work behaves; comes from Settings."""

    retry: RetryPolicy = RetryPolicy(3, timedelta(seconds=10), timedelta(hours=1))
    message_ttl: timedelta = timedelta(days=1)  # how long a message nobody waits for yet is kept
    message_ttl_max: timedelta = timedelta(days=30)
    reminder_share: float = 0.75  # the SLA reminder fires when this share of the target is used
    redispatch_after: timedelta = timedelta(seconds=30)  # a dispatched job not done by then is sent again


@dataclass
class Services:
    engine: Engine
    registry: Registry
    screener: SanctionsScreener
    peps: PepList
    clock: Clock
    uow: Callable[[], UnitOfWork]
    settings: ServiceSettings = field(default_factory=ServiceSettings)
    jobs: JobSettings = field(default_factory=JobSettings)
    bureau: CreditBureau | None = None  # the credit bureau credit/score asks (None: internal model only)
    main_process: str = MAIN_PROCESS
    # Told the id of an instance whose work fell due in a committed transaction (a worker picks it up
    # sooner than the next sweep); None: the sweep finds it.
    on_due: Callable[[str], None] | None = None
    _catalogs: dict[int, FormCatalog] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def bundle(self, deployment: Deployment) -> ProcessBundle:
        return self.engine.bundle(process_files(deployment.files))

    def forms(self, deployment: Deployment) -> FormCatalog:
        with self._lock:
            catalog = self._catalogs.get(deployment.id)
        if catalog is None:
            catalog = FormCatalog(form_files(deployment.files))
            with self._lock:
                self._catalogs[deployment.id] = catalog
        return catalog


def announce_due(services: Services, instance: Any) -> None:
    """After a commit: hand an instance whose work is due now to whoever runs due work."""
    if services.on_due is not None and instance.due_at is not None and instance.due_at <= services.clock.now():
        with contextlib.suppress(Exception):  # a lost announcement only delays the work until the next sweep
            services.on_due(instance.id)


def process_files(files: dict[str, bytes]) -> dict[str, bytes]:
    return {name: content for name, content in files.items() if name.endswith((".bpmn", ".dmn"))}


def form_files(files: dict[str, bytes]) -> dict[str, str]:
    """{form id: JSON text}; the id is the file stem, as Camunda Modeler's formRef names it."""
    forms: dict[str, str] = {}
    for name, content in files.items():
        if name.endswith(".form"):
            stem = name.rsplit("/", 1)[-1].removesuffix(".form")
            forms[stem] = content.decode("utf-8")
    return forms


def jsonable(value: Any) -> Any:
    """Task data and service outputs as JSON-friendly values (Decimals and dates as strings)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
