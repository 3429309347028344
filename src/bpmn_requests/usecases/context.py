"""What use cases are built with: the engine, the service-task registry, ports that outlive a transaction."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..domain.ports import Clock, PepList, SanctionsScreener
from ..engine.bundle import ProcessBundle
from ..engine.runner import Engine
from ..forms import FormCatalog
from ..service_tasks.registry import Registry, ServiceSettings
from .ports import Deployment, UnitOfWork

MAIN_PROCESS = "customer_request"


@dataclass
class Services:
    engine: Engine
    registry: Registry
    screener: SanctionsScreener
    peps: PepList
    clock: Clock
    uow: Callable[[], UnitOfWork]
    settings: ServiceSettings = field(default_factory=ServiceSettings)
    main_process: str = MAIN_PROCESS
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
