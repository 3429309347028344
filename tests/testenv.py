"""Test environment shared by fixtures and tests: paths, databases, building a system with demo data."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
POSTGRES_URL = os.environ.get("BPMN_TESTS_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_SERVICES = os.environ.get("BPMN_TESTS_REQUIRE_SERVICES") == "1"
REDIS_URL = os.environ.get("BPMN_TESTS_REDIS_URL", "redis://127.0.0.1:6379")  # no database number: tests pick one
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


def _redis_reachable() -> str | None:
    try:
        import redis
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3, socket_timeout=3).ping()
        return None
    except Exception as exc:  # any failure to answer means "not here"
        return f"{type(exc).__name__}: {exc}".splitlines()[0]


_REDIS_PROBLEM: list[str | None] = []


def require_redis() -> None:
    """Skip (or, with BPMN_TESTS_REQUIRE_SERVICES=1, fail) a test that needs the Redis server."""
    if not _REDIS_PROBLEM:
        _REDIS_PROBLEM.append(_redis_reachable())
    problem = _REDIS_PROBLEM[0]
    if problem is None:
        return
    message = f"Redis at {REDIS_URL} is not reachable ({problem})"
    if REQUIRE_SERVICES:
        pytest.fail(message + "; BPMN_TESTS_REQUIRE_SERVICES=1 makes it mandatory")
    pytest.skip(message + "; start it to run the worker tests")



def build_test_system(url: str, screener: object, demo: bool = True) -> object:
    from bpmn_requests.bootstrap import build_system, initialize
    from bpmn_requests.config import Settings
    from bpmn_requests.domain.clock import FixedClock

    settings = Settings(database_url=url, processes_dir=ROOT / "processes", forms_dir=ROOT / "forms",
                        sanctions_dir=ROOT / "data" / "sanctions")
    system = build_system(settings, clock=FixedClock(DEMO_NOW), screener=screener)
    initialize(system, demo=demo)
    return system
