"""Use-case tests run on the in-memory unit of work: no database, no Flask."""

from __future__ import annotations

import pytest
from support import memory_services

from bpmn_requests.usecases.context import Services


@pytest.fixture
def services(screener: object) -> Services:
    """A fresh system with the demo data and the shipped diagrams deployed; no database."""
    return memory_services(screener=screener)  # type: ignore[arg-type]
