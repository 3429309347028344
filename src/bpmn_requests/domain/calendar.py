"""Business-hours arithmetic for SLAs: working days, working hours, holidays, and pauses.

SLA targets count business hours only, and time spent waiting for the customer does not count.
All datetimes are timezone-aware; the calendar works in its own time zone (holidays are local dates).
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
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
    _index: _DayIndex = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.opens >= self.closes:
            raise ValidationFailed(f"business hours must open before they close ({self.opens}-{self.closes})",
                                   field="business_hours")
        if not self.working_days:
            raise ValidationFailed("at least one working day is needed", field="working_days")
        with _SHARED_LOCK:  # equal calendars (one per process, usually) share their index
            index = _SHARED.setdefault(self, _DayIndex(self, ZoneInfo(self.zone)))
        object.__setattr__(self, "_index", index)

    @property
    def tz(self) -> ZoneInfo:
        return self._index.tz

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.working_days and day not in self.holidays

    def window(self, day: date) -> tuple[datetime, datetime]:
        """The business hours of `day` in the calendar's zone (whether or not it is a working day)."""
        return (datetime.combine(day, self.opens, self.tz), datetime.combine(day, self.closes, self.tz))

    def _seconds_before(self, moment: datetime) -> float:
        """Business seconds from the index's first day up to `moment`."""
        local = moment.astimezone(self.tz)
        day = local.date()
        before = self._index.start_of(day)
        if not self.is_working_day(day):
            return before
        opens, closes = self.window(day)
        return before + (min(max(local, opens), closes) - opens).total_seconds()

    def add(self, start: datetime, hours: float) -> datetime:
        """The moment `hours` business hours after `start`."""
        target = self._seconds_before(start) + hours * 3600
        day = self._index.day_reaching(target, start.astimezone(self.tz).date(), at_end=hours > 0)
        if day is None:
            raise ValidationFailed(f"{hours} business hours do not fit in ten years of this calendar", field="hours")
        opens, _closes = self.window(day)
        return (opens + timedelta(seconds=target - self._index.start_of(day))).astimezone(start.tzinfo)

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time from `start` to `end` (zero when end is before start)."""
        if end <= start:
            return timedelta(0)
        return timedelta(seconds=max(self._seconds_before(end) - self._seconds_before(start), 0.0))


class _DayIndex:
    """Business seconds before each day since FIRST_DAY, appended as later days are asked about.

    SLA arithmetic runs for every row of every inbox view: with this index `between` is a subtraction and
    `add` a binary search, where walking the calendar day by day cost about 0.1 ms per request. A working
    day always has the same business seconds (the calendar counts local wall-clock time), so filling the
    index is cheap; it only grows, so a value read once never changes.
    """

    def __init__(self, calendar: BusinessCalendar, tz: ZoneInfo):
        self.calendar, self.tz = calendar, tz
        self.day_seconds = float((calendar.closes.hour * 3600 + calendar.closes.minute * 60 + calendar.closes.second)
                                 - (calendar.opens.hour * 3600 + calendar.opens.minute * 60 + calendar.opens.second))
        self.starts = [0.0]  # starts[i]: business seconds before FIRST_DAY + i
        self.lock = threading.Lock()

    def index(self, day: date) -> int:
        """The index of `day`, counting as far as it."""
        index = (day - FIRST_DAY).days
        if index < 0:
            raise ValidationFailed(f"{day} is before {FIRST_DAY}, where business time is counted from", field="date")
        if index >= len(self.starts):
            with self.lock:
                working, holidays = self.calendar.working_days, self.calendar.holidays
                while len(self.starts) <= index:
                    day_n = FIRST_DAY + timedelta(days=len(self.starts) - 1)
                    counts = day_n.weekday() in working and day_n not in holidays
                    self.starts.append(self.starts[-1] + (self.day_seconds if counts else 0.0))
        return index

    def start_of(self, day: date) -> float:
        return self.starts[self.index(day)]

    def day_reaching(self, target: float, from_day: date, *, at_end: bool) -> date | None:
        """The day whose business hours contain the moment `target` seconds are reached (None: not within
        ten years of `from_day`). `at_end`: a target on the close of a day is that day's close, not the next
        opening."""
        first = self.index(from_day)
        last = first + DAYS_AHEAD
        while self.starts[-1] < target and len(self.starts) <= last + 1:  # count further, a month at a time
            self.index(FIRST_DAY + timedelta(days=min(len(self.starts) + 31, last + 1)))
        bisect = bisect_left if at_end else bisect_right
        found = bisect(self.starts, target, first, min(len(self.starts), last + 2)) - 1
        if found < first or found > last:
            return None
        day = FIRST_DAY + timedelta(days=found)
        while not self.calendar.is_working_day(day):  # equal starts over closed days: the working one counts
            day += timedelta(days=1)
        return day


FIRST_DAY = date(1970, 1, 1)
_SHARED: dict[BusinessCalendar, _DayIndex] = {}
_SHARED_LOCK = threading.Lock()
DAYS_AHEAD = 3660  # ten years


@dataclass(frozen=True)
class Pause:
    start: datetime
    end: datetime | None = None  # None: still paused


def sla_due(calendar: BusinessCalendar, started: datetime, target_hours: float,
            pauses: Iterable[Pause]) -> datetime | None:
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
