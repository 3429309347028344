"""Composition root: builds the engine, store, registry and ports from Settings. Nothing at import time."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine as DbEngine

from .config import Settings
from .domain.clock import SystemClock
from .domain.ports import Clock, PepMatch, ScreeningResult
from .domain.retries import RetryPolicy
from .engine.runner import Engine
from .service_tasks import build_registry
from .service_tasks.registry import ServiceSettings
from .store.database import is_postgres, make_engine, make_session_factory
from .store.unit_of_work import SqlUnitOfWork
from .usecases.context import JobSettings, Services
from .usecases.ports import Deployment


class LazyScreener:
    """Loads the sanctions list on first use: commands that never screen start fast."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._screener: Any = None
        self._lock = threading.Lock()

    def _get(self) -> Any:
        with self._lock:
            if self._screener is None:
                from .service_tasks.kyc.sanctions import SdnScreener
                self._screener = SdnScreener.from_directory(self._settings.sanctions_dir,
                                                            threshold=self._settings.sanctions_threshold)
            return self._screener

    def screen(self, names: list[tuple[str, str]]) -> ScreeningResult:
        return self._get().screen(names)  # type: ignore[no-any-return]


class LazyPepList:
    def __init__(self) -> None:
        self._peps: Any = None

    def screen(self, names: list[tuple[str, str]]) -> list[PepMatch]:
        if self._peps is None:
            from .service_tasks.kyc.pep import SyntheticPepList
            self._peps = SyntheticPepList()
        return self._peps.screen(names)  # type: ignore[no-any-return]


@dataclass
class System:
    settings: Settings
    db: DbEngine
    services: Services

    def dispose(self) -> None:
        self.db.dispose()


def service_settings(settings: Settings) -> ServiceSettings:
    return ServiceSettings(
        sanctions_threshold=settings.sanctions_threshold,
        sanctions_review_threshold=settings.sanctions_threshold,
        sanctions_block_threshold=settings.sanctions_block_threshold,
        payment_auto_apply_confidence=settings.payment_auto_apply_confidence,
        write_off_tolerance=settings.write_off_tolerance,
        smtp_configured=bool(settings.smtp_host),
        calendar=settings.calendar(),
        rfi_answer_period=settings.rfi_answer_period)


def job_settings(settings: Settings) -> JobSettings:
    return JobSettings(
        retry=RetryPolicy(settings.service_retries, timedelta(seconds=settings.retry_backoff_seconds),
                          timedelta(seconds=settings.retry_backoff_max_seconds)),
        message_ttl=timedelta(seconds=settings.message_ttl_seconds),
        message_ttl_max=timedelta(seconds=settings.message_ttl_max_seconds),
        reminder_share=settings.sla_reminder_percent / 100,
        redispatch_after=timedelta(seconds=settings.redispatch_seconds))


def credit_bureau(settings: Settings) -> Any:
    """The credit bureau client, when BPMN_REQUESTS_CREDIT_BUREAU_URL names one."""
    if not settings.credit_bureau_url:
        return None
    from .service_tasks.credit_bureau import HttpCreditBureau
    return HttpCreditBureau(settings.credit_bureau_url, timeout=settings.credit_bureau_timeout_seconds)


def build_system(settings: Settings | None = None, *, clock: Clock | None = None,
                 screener: Any = None, peps: Any = None, engine: Engine | None = None) -> System:
    settings = settings or Settings.from_env()
    clock = clock or SystemClock()
    db = make_engine(settings.database_url)
    factory = make_session_factory(db)
    lock_rows = is_postgres(db)
    deployments: dict[int, Deployment] = {}

    def uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(factory, clock.now, lock_rows=lock_rows, deployment_cache=deployments)

    services = Services(engine=engine or Engine(), registry=build_registry(),
                        screener=screener or LazyScreener(settings), peps=peps or LazyPepList(),
                        clock=clock, uow=uow, settings=service_settings(settings),  # type: ignore[arg-type]
                        jobs=job_settings(settings), bureau=credit_bureau(settings))
    return System(settings, db, services)


def initialize(system: System, *, demo: bool = False, deployed_by: str = "admin") -> dict[str, Any]:
    """Create or upgrade the schema, deploy processes/ and forms/, and with `demo` load the demo data."""
    from .store.demo_data import demo_finance_facts
    from .store.finance_sql import load_finance_facts
    from .store.schema import upgrade
    from .usecases.accounts import DEMO_PASSWORD, DEMO_USERS, add_user
    from .usecases.deploy import collect_files, deploy

    upgrade(system.db)
    services = system.services
    report: dict[str, Any] = {"database": system.db.url.render_as_string(hide_password=True)}
    if demo:
        with services.uow() as uow:
            if uow.users.get("alice") is None:
                for username, name, groups in DEMO_USERS:
                    add_user(uow, username, name, groups, DEMO_PASSWORD, deployed_by)
                assert uow.session is not None
                load_finance_facts(uow.session, demo_finance_facts(services.clock.today()))
                uow.audit.record(deployed_by, "demo.loaded", "demo", None, {"users": len(DEMO_USERS)})
                uow.commit()
                report["demo"] = "loaded"
            else:
                report["demo"] = "already loaded"
    files = collect_files(system.settings.processes_dir, system.settings.forms_dir)
    deployed = deploy(files, deployed_by, services)
    report["deployment"] = deployed.deployment_id
    report["deployed"] = "new version" if deployed.changed else "unchanged"
    return report


ADVANCE_TASK = "bpmn_requests.advance"  # the Celery task a worker runs: advance one due instance
BROKER_QUEUE = "bpmn_requests"
VISIBILITY_TIMEOUT_SECONDS = 3600  # far above a step's seconds: Redis gives an unacknowledged task back after this


def celery_app(settings: Settings) -> Any:
    """The Celery app of every process that talks to the broker (web, scheduler, worker), configured in one
    place so senders and workers agree. The worker adds its task to it (worker/celery_app.py).

    Reliability: a task is acknowledged after it ran (acks late), so a worker killed mid-step leaves it to be
    redone; one task at a time per process (prefetch 1); JSON only; no result backend (the database holds
    the outcome). A lost or unacknowledged task is never waited for: the sweep re-dispatches overdue work.
    """
    from celery import Celery
    app = Celery("bpmn_requests", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_serializer="json", accept_content=["json"], result_serializer="json",
        result_backend=None, task_ignore_result=True, task_store_errors_even_if_ignored=False,
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        task_default_queue=BROKER_QUEUE, enable_utc=True, timezone="UTC",
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_SECONDS, "socket_connect_timeout": 5},
        broker_connection_timeout=5, broker_connection_retry_on_startup=True,
        # A web request announcing due work must not hang on a dead broker: the sweep sends it again.
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5},
        worker_hijack_root_logger=True, worker_send_task_events=False)
    return app


def broker_sender(settings: Settings, app: Any = None) -> Callable[[str], None] | None:
    """`send(instance_id)` handing an instance to the workers through the broker, or None without a broker.

    Web processes and `serve` set it as `Services.on_due`; the scheduler dispatches with it. It lives here,
    not in `worker/`, because `web` may not import `worker`: it names the task instead of importing it.
    """
    if not settings.broker_url:
        return None
    app = app or celery_app(settings)

    def send(instance_id: str) -> None:
        app.send_task(ADVANCE_TASK, args=[instance_id], queue=BROKER_QUEUE)

    return send
