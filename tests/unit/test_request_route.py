"""request/route: classification on the record; the SLA target counts business hours of the calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from bpmn_requests.domain.calendar import BusinessCalendar
from bpmn_requests.domain.clock import FixedClock
from bpmn_requests.domain.requests import RequestRecord
from bpmn_requests.service_tasks.registry import ServiceContext, ServiceSettings
from bpmn_requests.service_tasks.request_route import DEFINITION

FRIDAY_4PM = datetime(2026, 11, 6, 16, 0, tzinfo=UTC)


def routed(calendar: BusinessCalendar, hours: int, priority: str = "normal") -> RequestRecord:
    record = RequestRecord("REQ-1", "billing_dispute", "C-1001", "x", FRIDAY_4PM, "alice", priority=priority)
    unused: Any = None  # routing touches only the record, the clock and the settings
    ctx = ServiceContext(record, unused, unused, unused, unused, unused, FixedClock(FRIDAY_4PM), "i:t",
                         settings=ServiceSettings(calendar=calendar))
    DEFINITION.call(ctx, {"team": "billing", "routed_priority": "high", "sla_hours": hours})
    return record


def test_the_sla_target_skips_the_weekend() -> None:
    record = routed(BusinessCalendar(), 24)
    # Friday 16-17 (1 h), Monday (8 h), Tuesday (8 h), Wednesday 9-16 (7 h).
    assert record.classification is not None
    assert record.classification["due_at"] == "2026-11-11T16:00:00+00:00"


def test_the_sla_target_skips_holidays() -> None:
    record = routed(BusinessCalendar(holidays=frozenset({date(2026, 11, 9)})), 24)
    assert record.classification is not None
    assert record.classification["due_at"] == "2026-11-12T16:00:00+00:00"


def test_the_more_urgent_priority_wins() -> None:
    assert routed(BusinessCalendar(), 8).priority == "high"
    assert routed(BusinessCalendar(), 8, priority="urgent").priority == "urgent"
