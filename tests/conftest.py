"""Shared fixtures: databases (SQLite always, PostgreSQL when reachable), a built system, the sanctions list.

PostgreSQL tests skip with a message when the server is unreachable, unless BPMN_TESTS_REQUIRE_SERVICES=1
(set by CI), where they fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
POSTGRES_URL = os.environ.get("BPMN_TESTS_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_SERVICES = os.environ.get("BPMN_TESTS_REQUIRE_SERVICES") == "1"
DEMO_NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _postgres_reachable() -> str | None:
    try:
        import psycopg
        with psycopg.connect(POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3):
            return None
    except Exception as exc:  # any failure to connect means "not here"
        return f"{type(exc).__name__}: {exc}".splitlines()[0]


_PG_PROBLEM: list[str | None] = []


def require_postgres() -> None:
    if not _PG_PROBLEM:
        _PG_PROBLEM.append(_postgres_reachable())
    problem = _PG_PROBLEM[0]
    if problem is None:
        return
    message = f"PostgreSQL at {POSTGRES_URL} is not reachable ({problem})"
    if REQUIRE_SERVICES:
        pytest.fail(message + "; BPMN_TESTS_REQUIRE_SERVICES=1 makes it mandatory")
    pytest.skip(message + "; start it to run the PostgreSQL tests")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema of its own in the test database, dropped afterwards."""
    require_postgres()
    import psycopg
    schema = f"t_{uuid.uuid4().hex[:12]}"
    raw = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each database test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(scope="session")
def screener() -> object:
    from bpmn_requests.service_tasks.kyc.sanctions import SdnScreener
    return SdnScreener.from_directory(ROOT / "data" / "sanctions", threshold=88.0)


def build_test_system(url: str, screener: object, demo: bool = True) -> object:
    from bpmn_requests.bootstrap import build_system, initialize
    from bpmn_requests.config import Settings
    from bpmn_requests.domain.clock import FixedClock

    settings = Settings(database_url=url, processes_dir=ROOT / "processes", forms_dir=ROOT / "forms",
                        sanctions_dir=ROOT / "data" / "sanctions")
    system = build_system(settings, clock=FixedClock(DEMO_NOW), screener=screener)
    initialize(system, demo=demo)
    return system


@pytest.fixture
def system(database_url: str, screener: object) -> Iterator[object]:
    built = build_test_system(database_url, screener)
    yield built
    built.dispose()  # type: ignore[attr-defined]


@pytest.fixture
def sqlite_system(sqlite_url: str, screener: object) -> Iterator[object]:
    built = build_test_system(sqlite_url, screener)
    yield built
    built.dispose()  # type: ignore[attr-defined]
