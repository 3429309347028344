"""The unit of work: one session, one transaction, every repository bound to it.

Leaving the `with` block without `commit()` rolls back, so a forgotten commit loses work loudly
instead of committing half of it. Only this class commits.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ..usecases.ports import Deployment
from .api_repo import SqlApiTokens, SqlIdempotency
from .finance_sql import SqlFinanceGateway
from .jobs_repo import SqlIncidents, SqlMessages, SqlSubscriptions
from .notes_repo import SqlAttachments, SqlNotes
from .portal_repo import SqlPortalLinks, SqlServiceRatings
from .repositories import (
    SqlAuditLog,
    SqlDeploymentRepository,
    SqlInstanceRepository,
    SqlOutbox,
    SqlTaskRepository,
    SqlUserRepository,
)
from .request_repo import SqlRequestRepository


class SqlUnitOfWork:
    def __init__(self, session_factory: sessionmaker[Session], now: Callable[[], datetime], *, lock_rows: bool,
                 deployment_cache: dict[int, Deployment] | None = None):
        self._factory = session_factory
        self._deployment_cache = deployment_cache if deployment_cache is not None else {}
        self._now = now
        self._lock_rows = lock_rows
        self.session: Session | None = None

    def __enter__(self) -> SqlUnitOfWork:
        session = self._factory()
        self.session = session
        self.requests = SqlRequestRepository(session, self._now)
        self.instances = SqlInstanceRepository(session, self._lock_rows)
        self.tasks = SqlTaskRepository(session)
        self.audit = SqlAuditLog(session, self._now)
        self.deployments = SqlDeploymentRepository(session, self._now, self._deployment_cache)
        self.users = SqlUserRepository(session, self._now)
        self.finance = SqlFinanceGateway(session)
        self.outbox = SqlOutbox(session)
        self.notes = SqlNotes(session)
        self.attachments = SqlAttachments(session)
        self.portal_links = SqlPortalLinks(session)
        self.ratings = SqlServiceRatings(session)
        self.api_tokens = SqlApiTokens(session)
        self.idempotency = SqlIdempotency(session)
        self.incidents = SqlIncidents(session)
        self.messages = SqlMessages(session)
        self.subscriptions = SqlSubscriptions(session)
        return self

    def __exit__(self, *args: Any) -> None:
        if self.session is not None:
            self.session.rollback()
            self.session.close()
            self.session = None

    def commit(self) -> None:
        assert self.session is not None, "commit outside the unit of work"
        self.audit.flush()
        self.session.commit()

    def rollback(self) -> None:
        if self.session is not None:
            self.session.rollback()
