"""Shared fixtures: databases (SQLite always, PostgreSQL when reachable), a built system, the sanctions list.

PostgreSQL tests skip with a message when the server is unreachable, unless BPMN_TESTS_REQUIRE_SERVICES=1
(set by CI), where they fail instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from testenv import (  # noqa: F401 - re-exported for tests that import them from here
    DEMO_NOW,
    POSTGRES_URL,
    REQUIRE_SERVICES,
    ROOT,
    SHARED,
    build_test_system,
    require_postgres,
)


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


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> None:
    """argon2's production cost makes every demo load take seconds; the tests need the rules, not the cost."""
    from argon2 import PasswordHasher

    from bpmn_requests.usecases.accounts import use_password_hasher
    use_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
