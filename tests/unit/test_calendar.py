"""Business-hours arithmetic: weekends, holidays, opening hours, time zones, pauses."""

from __future__ import annotations

import random
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
    assert sla_due(CAL, at(2, 9), 4, pauses) == at(2, 15)


def test_an_open_pause_has_no_target_yet() -> None:
    assert sla_due(CAL, at(2, 9), 4, [Pause(at(2, 10))]) is None


def test_a_pause_after_the_target_changes_nothing() -> None:
    assert sla_due(CAL, at(2, 9), 2, [Pause(at(2, 12), at(2, 13))]) == at(2, 11)


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


# --- the indexed arithmetic against the plain walk over each day ---------------------------------------

def walked_add(cal: BusinessCalendar, start: datetime, hours: float) -> datetime:
    """The reference: walk the working windows day by day from `start`."""
    remaining, day = timedelta(hours=hours), start.astimezone(cal.tz).date()
    while True:
        if cal.is_working_day(day):
            opens, closes = cal.window(day)
            begin = max(opens, start.astimezone(cal.tz))
            if begin < closes:
                if begin + remaining <= closes:
                    return (begin + remaining).astimezone(start.tzinfo)
                remaining -= closes - begin
        day += timedelta(days=1)


def walked_between(cal: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    total, day = timedelta(0), start.astimezone(cal.tz).date()
    while end > start and day <= end.astimezone(cal.tz).date():
        if cal.is_working_day(day):
            opens, closes = cal.window(day)
            begin, finish = max(opens, start), min(closes, end)
            if finish > begin:
                total += finish - begin
        day += timedelta(days=1)
    return total


@pytest.mark.parametrize("cal", [
    CAL,
    BusinessCalendar(frozenset({0, 2, 3, 5}), time(7, 30), time(19, 15), frozenset({date(2027, 3, 29)}),
                     "Europe/Berlin"),
    BusinessCalendar(zone="America/New_York", holidays=frozenset({date(2026, 11, 26), date(2026, 11, 27)})),
])
def test_indexed_business_time_agrees_with_walking_the_calendar(cal: BusinessCalendar) -> None:
    rng = random.Random(5)
    for _ in range(400):
        start = datetime(2026, 10, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(0, 60 * 24 * 220))
        hours = rng.choice((0.5, 1, 4, 8, 16, 40, 73.25, 300))
        end = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 40))
        assert cal.add(start, hours) == walked_add(cal, start, hours), (start, hours)
        assert cal.between(start, end) == walked_between(cal, start, end), (start, end)


def test_old_dates_are_counted_too() -> None:
    assert CAL.add(datetime(1996, 5, 3, 16, tzinfo=UTC), 2) == datetime(1996, 5, 6, 10, tzinfo=UTC)
    assert CAL.between(datetime(1996, 5, 3, 16, tzinfo=UTC), datetime(1996, 5, 6, 10, tzinfo=UTC)) == timedelta(hours=2)
