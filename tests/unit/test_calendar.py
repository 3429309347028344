"""Business-hours arithmetic: weekends, holidays, opening hours, time zones, pauses."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from bpmn_requests.domain.calendar import (
    BusinessCalendar,
    Pause,
    parse_days,
    parse_holidays,
    parse_hours,
    sla_due,
)
from bpmn_requests.domain.errors import ValidationFailed

CAL = BusinessCalendar(holidays=frozenset({date(2026, 12, 25)}))


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def test_hours_within_one_working_day() -> None:
    assert CAL.add(at(2, 9), 4) == at(2, 13)  # Monday


def test_hours_run_over_into_the_next_morning() -> None:
    assert CAL.add(at(2, 15), 4) == at(3, 11)


def test_a_request_submitted_at_night_starts_counting_at_opening() -> None:
    assert CAL.add(at(2, 22), 1) == at(3, 10)


def test_weekends_do_not_count() -> None:
    assert CAL.add(at(6, 16), 2) == at(9, 10)  # Friday 16:00 + 2h -> Monday 10:00


def test_holidays_do_not_count() -> None:
    assert CAL.add(datetime(2026, 12, 24, 16, tzinfo=UTC), 2) == datetime(2026, 12, 28, 10, tzinfo=UTC)


def test_forty_business_hours_are_one_working_week() -> None:
    assert CAL.add(at(2, 9), 40) == at(6, 17)


def test_between_counts_only_business_time() -> None:
    assert CAL.between(at(6, 16), at(9, 10)) == timedelta(hours=2)
    assert CAL.between(at(9, 10), at(6, 16)) == timedelta(0)


def test_a_calendar_in_another_time_zone_uses_its_local_hours() -> None:
    berlin = BusinessCalendar(zone="Europe/Berlin")
    # 08:00 UTC is 09:00 in Berlin in November: counting starts at once.
    assert berlin.add(at(2, 8), 1) == at(2, 9)


def test_a_pause_while_waiting_for_the_customer_moves_the_target() -> None:
    pauses = [Pause(at(2, 10), at(2, 12))]
    assert sla_due(CAL, at(2, 9), 4, pauses, now=at(2, 14)) == at(2, 15)


def test_an_open_pause_has_no_target_yet() -> None:
    assert sla_due(CAL, at(2, 9), 4, [Pause(at(2, 10))], now=at(2, 14)) is None


def test_a_pause_after_the_target_changes_nothing() -> None:
    assert sla_due(CAL, at(2, 9), 2, [Pause(at(2, 12), at(2, 13))], now=at(2, 14)) == at(2, 11)


def test_settings_text_is_parsed_or_refused() -> None:
    assert parse_days("mon-fri") == frozenset(range(5))
    assert parse_days("sat-mon") == frozenset({5, 6, 0})
    assert parse_hours("08:30-16:30") == (time(8, 30), time(16, 30))
    assert parse_holidays("2026-12-25, 2027-01-01") == {date(2026, 12, 25), date(2027, 1, 1)}
    for bad, parse in (("funday", parse_days), ("9-5", parse_hours), ("25.12.2026", parse_holidays)):
        with pytest.raises(ValueError):
            parse(bad)  # type: ignore[operator]
    with pytest.raises(ValidationFailed):
        BusinessCalendar(opens=time(17), closes=time(9))
