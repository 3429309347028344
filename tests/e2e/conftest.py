"""Fixtures of the end-to-end tests of unattended work (test_unattended_*.py): a system on SQLite and on
PostgreSQL with the demo data, the processes deployed, a fixed clock and an integrations user `bank`.

Named `ops_*`, so that no other test module's own `system` or `app` fixture is replaced.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from testenv import DEMO_NOW, ROOT, build_test_system

from bpmn_requests.bootstrap import build_system
from bpmn_requests.config import Settings
from bpmn_requests.domain.clock import FixedClock
from bpmn_requests.usecases.accounts import add_user


def _with_bank(built: Any) -> None:
    with built.services.uow() as uow:
        add_user(uow, "bank", "Bank feed", ("integrations",), "demo", "admin")
        uow.commit()
    built.dispose()  # closing the last connection folds the WAL into the file


@pytest.fixture(scope="module")
def ops_template_db(tmp_path_factory: pytest.TempPathFactory, screener: object) -> Iterator[tuple[Path, Any]]:
    """A migrated SQLite database with the demo data and the processes deployed, built once per module."""
    path = tmp_path_factory.mktemp("unattended") / "template.db"
    built: Any = build_test_system(f"sqlite:///{path}", screener)
    _with_bank(built)
    yield path, built.services.engine


def _settings(url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=url, processes_dir=ROOT / "processes", forms_dir=ROOT / "forms",
                    sanctions_dir=ROOT / "data" / "sanctions", upload_dir=tmp_path / "uploads",
                    secret_key="unattended-tests", max_upload_bytes=64 * 1024)


@pytest.fixture
def ops_system(database_url: str, ops_template_db: tuple[Path, Any], tmp_path: Path, screener: object) -> Iterator[Any]:
    """On SQLite a copy of the template; on PostgreSQL a schema of its own, built from scratch."""
    path, engine = ops_template_db
    if database_url.startswith("sqlite"):
        shutil.copy(path, tmp_path / "unattended.db")
        url = f"sqlite:///{tmp_path / 'unattended.db'}"
    else:
        _with_bank(build_test_system(database_url, screener))
        url = database_url
    system = build_system(_settings(url, tmp_path), clock=FixedClock(DEMO_NOW), screener=screener, engine=engine)
    yield system
    system.dispose()


@pytest.fixture
def ops_sqlite_system(ops_template_db: tuple[Path, Any], tmp_path: Path, screener: object) -> Iterator[Any]:
    path, engine = ops_template_db
    shutil.copy(path, tmp_path / "unattended.db")
    system = build_system(_settings(f"sqlite:///{tmp_path / 'unattended.db'}", tmp_path), clock=FixedClock(DEMO_NOW),
                          screener=screener, engine=engine)
    yield system
    system.dispose()
