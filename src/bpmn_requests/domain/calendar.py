"""Business-hours arithmetic for SLAs: working days, working hours, holidays, and pauses.

SLA targets count business hours only, and time spent waiting for the customer does not count.
All datetimes are timezone-aware; the calendar works in its own time zone (holidays are local dates).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .errors import ValidationFailed

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class BusinessCalendar:
    working_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    opens: time = time(9, 0)
    closes: time = time(17, 0)
    holidays: frozenset[date] = field(default_factory=frozenset)
    zone: str = "UTC"

    def __post_init__(self) -> None:
        if self.opens >= self.closes:
            raise ValidationFailed(f"business hours must open before they close ({self.opens}-{self.closes})",
                                   field="business_hours")
        if not self.working_days:
            raise ValidationFailed("at least one working day is needed", field="working_days")
        ZoneInfo(self.zone)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.working_days and day not in self.holidays

    def _window(self, day: date) -> tuple[datetime, datetime]:
        return (datetime.combine(day, self.opens, self.tz), datetime.combine(day, self.closes, self.tz))

    def _windows_from(self, start: datetime) -> Iterable[tuple[datetime, datetime]]:
        """Working windows of each working day, from the day of `start` on (at most ten years)."""
        day = start.astimezone(self.tz).date()
        for _ in range(3660):
            if self.is_working_day(day):
                yield self._window(day)
            day += timedelta(days=1)

    def add(self, start: datetime, hours: float) -> datetime:
        """The moment `hours` business hours after `start`."""
        remaining = timedelta(hours=hours)
        for opens, closes in self._windows_from(start):
            begin = max(opens, start.astimezone(self.tz))
            if begin >= closes:
                continue
            if begin + remaining <= closes:
                return (begin + remaining).astimezone(start.tzinfo)
            remaining -= closes - begin
        raise ValidationFailed(f"{hours} business hours do not fit in ten years of this calendar", field="hours")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time from `start` to `end` (zero when end is before start)."""
        total = timedelta(0)
        if end <= start:
            return total
        for opens, closes in self._windows_from(start):
            if opens >= end:
                break
            begin, finish = max(opens, start), min(closes, end)
            if finish > begin:
                total += finish - begin
        return total


@dataclass(frozen=True)
class Pause:
    start: datetime
    end: datetime | None = None  # None: still paused


def sla_due(calendar: BusinessCalendar, started: datetime, target_hours: float, pauses: Iterable[Pause],
            now: datetime) -> datetime | None:
    """When the SLA target is reached, counting business hours and skipping pauses; None while paused."""
    due = calendar.add(started, target_hours)
    for pause in sorted(pauses, key=lambda p: p.start):
        if pause.start >= due:
            break
        if pause.end is None:
            return None
        # The business time lost during the pause moves the target by that much business time.
        lost = calendar.between(pause.start, pause.end)
        due = calendar.add(due, lost.total_seconds() / 3600) if lost else due
    return due


def parse_days(text: str) -> frozenset[int]:
    """'mon-fri' or 'mon,tue,thu' -> weekday numbers."""
    days: set[int] = set()
    for part in (p.strip().lower() for p in text.split(",") if p.strip()):
        first, _, last = part.partition("-")
        if first not in DAY_NAMES or (last and last not in DAY_NAMES):
            raise ValueError(f"{part!r} is not a day or a range of days like mon-fri")
        a, b = DAY_NAMES.index(first), DAY_NAMES.index(last or first)
        days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return frozenset(days)


def parse_hours(text: str) -> tuple[time, time]:
    """'09:00-17:00' -> (opens, closes)."""
    try:
        opens, closes = (time.fromisoformat(t.strip()) for t in text.split("-"))
    except ValueError:
        raise ValueError(f"{text!r} is not working hours like 09:00-17:00") from None
    return opens, closes


def parse_holidays(text: str) -> frozenset[date]:
    try:
        return frozenset(date.fromisoformat(d.strip()) for d in text.split(",") if d.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a comma-separated list of ISO dates") from None
