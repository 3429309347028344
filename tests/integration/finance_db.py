"""Database fixtures for the finance subledger tests: SQLite in a temp file and PostgreSQL in a fresh schema.

PostgreSQL is skipped with a message when the server cannot be reached, unless
BPMN_REQUESTS_REQUIRE_SERVICES=1 or BPMN_TESTS_REQUIRE_SERVICES=1 (the name tests/conftest.py reads; CI),
where an unreachable server fails the run. The server URL comes from BPMN_TESTS_POSTGRES_URL, as in
tests/conftest.py, defaulting to the local development server.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError

from bpmn_requests.store.base import metadata
from bpmn_requests.store.counters import counters
from bpmn_requests.store.finance_tables import FINANCE_TABLES

POSTGRES_URL = os.environ.get("BPMN_TESTS_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TABLES = [counters, *FINANCE_TABLES]
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def services_required() -> bool:
    return "1" in (os.environ.get("BPMN_REQUESTS_REQUIRE_SERVICES"), os.environ.get("BPMN_TESTS_REQUIRE_SERVICES"))


def sqlite_engine(path: Path) -> Engine:
    """A file database whose transactions (and SAVEPOINTs) behave as on PostgreSQL.

    pysqlite opens transactions lazily and mishandles SAVEPOINT; SQLAlchemy's documented remedy is to
    turn its handling off and emit BEGIN ourselves.
    """
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _no_pysqlite_transactions(connection: Any, _record: Any) -> None:
        connection.isolation_level = None
        connection.execute("PRAGMA foreign_keys = ON")

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine


def postgres_engine_or_skip() -> Engine:
    """An engine on the test server, or a skip (a failure when services are required) naming why."""
    engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            pass
    except OperationalError as error:
        engine.dispose()
        reason = f"PostgreSQL is not reachable at {engine.url.render_as_string(hide_password=True)}: " \
                 f"{str(error).splitlines()[0]}"
        if services_required():
            pytest.fail(f"{reason}; the environment makes PostgreSQL mandatory (*_REQUIRE_SERVICES=1)")
        pytest.skip(f"{reason}; start it or set BPMN_TESTS_POSTGRES_URL")
    return engine


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Engine]:
    """The test server, checked once per run (an unreachable host costs one timeout, not one per test)."""
    engine = postgres_engine_or_skip()
    yield engine
    engine.dispose()


def postgres_schema_engine(server: Engine, schema: str) -> Engine:
    """An engine whose connections see only `schema`, so tests never touch another schema's tables."""
    return create_engine(server.url, connect_args={"options": f"-csearch_path={schema}", "connect_timeout": 3})


@pytest.fixture(params=BACKENDS)
def finance_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine with the subledger tables created, on SQLite or in a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        engine = sqlite_engine(tmp_path / "finance.db")
        metadata.create_all(engine, tables=TABLES)
        yield engine
        engine.dispose()
        return
    server: Engine = request.getfixturevalue("postgres_server")
    schema = f"finance_test_{uuid.uuid4().hex[:12]}"
    with server.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = postgres_schema_engine(server, schema)
    try:
        metadata.create_all(engine, tables=TABLES)
        yield engine
    finally:
        engine.dispose()
        with server.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
