"""The SLA clock of one request: business hours from submission, paused while we wait for the customer.

It lives in the request record's classification (`sla_hours`, `started_at`, `pauses`), written by the
routing step and by every status change into or out of waiting for the customer. Diagrams read the due
time and the reminder time as the read-only values `sla_due_at` and `sla_reminder_at` of their timers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from .calendar import BusinessCalendar, Pause, sla_due

WAITING_FOR_CUSTOMER = "awaiting_customer"


@dataclass(frozen=True)
class Sla:
    started_at: datetime
    target_hours: float
    pauses: tuple[Pause, ...] = ()

    @classmethod
    def of(cls, classification: Mapping[str, Any] | None, submitted_at: datetime) -> Sla | None:
        """The SLA of a classified request (None before routing gave it a target)."""
        if not classification or not classification.get("sla_hours"):
            return None
        started = classification.get("started_at")
        pauses = tuple(Pause(datetime.fromisoformat(p[0]), datetime.fromisoformat(p[1]) if p[1] else None)
                       for p in classification.get("pauses", ()))
        return cls(datetime.fromisoformat(started) if started else submitted_at,
                   float(classification["sla_hours"]), pauses)

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1].end is None

    def pause(self, at: datetime) -> Sla:
        return self if self.paused else replace(self, pauses=(*self.pauses, Pause(at)))

    def resume(self, at: datetime) -> Sla:
        if not self.paused:
            return self
        return replace(self, pauses=(*self.pauses[:-1], Pause(self.pauses[-1].start, max(at, self.pauses[-1].start))))

    def _lost(self, calendar: BusinessCalendar, until: datetime) -> timedelta:
        """Business time spent paused before `until`."""
        return sum((calendar.between(p.start, min(p.end or until, until)) for p in self.pauses), timedelta(0))

    def due_at(self, calendar: BusinessCalendar, share: float = 1.0) -> datetime | None:
        """When `share` of the target is used up, counting business hours and skipping pauses; None while a
        pause that began before then runs (the clock stands still)."""
        return sla_due(calendar, self.started_at, self.target_hours * share, self.pauses)

    def used(self, calendar: BusinessCalendar, now: datetime) -> float:
        """The share of the target used by `now` (1.0 at the due time; more once breached)."""
        spent = calendar.between(self.started_at, now) - self._lost(calendar, now)
        return max(spent.total_seconds(), 0.0) / (self.target_hours * 3600) if self.target_hours else 0.0

    def as_json(self) -> dict[str, Any]:
        return {"started_at": self.started_at.isoformat(),
                "pauses": [[p.start.isoformat(), p.end.isoformat() if p.end else None] for p in self.pauses]}


class SlaValues(Mapping[str, str]):
    """`sla_due_at` and `sla_reminder_at` for the timers of one engine run, read when a timer asks.

    A timer that starts in a run starts on a staff task, so the customer is not being waited for: the
    values are those of the SLA as if any pause ended now. Read lazily because the routing step that
    gives a request its target may run in the same run as the first timer.
    """

    def __init__(self, classification: Any, submitted_at: datetime, calendar: BusinessCalendar,
                 now: datetime, reminder_share: float):
        self._classification = classification  # a zero-argument callable giving the current classification
        self._submitted_at, self._calendar, self._now, self._share = submitted_at, calendar, now, reminder_share
        self._cached: tuple[tuple[Any, ...], dict[str, str]] | None = None

    def _values(self) -> dict[str, str]:
        # Every expression of a run sees these values (conditions included): compute them once per SLA state.
        classification = self._classification() or {}
        key = (classification.get("sla_hours"), classification.get("started_at"), str(classification.get("pauses")))
        if self._cached is not None and self._cached[0] == key:
            return self._cached[1]
        sla = Sla.of(classification, self._submitted_at)
        values: dict[str, str] = {}
        if sla is not None:
            running = sla.resume(self._now)
            due, reminder = running.due_at(self._calendar), running.due_at(self._calendar, self._share)
            assert due is not None and reminder is not None
            values = {"sla_due_at": due.isoformat(), "sla_reminder_at": reminder.isoformat()}
        self._cached = (key, values)
        return values

    def __getitem__(self, key: str) -> str:
        return self._values()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values())

    def __len__(self) -> int:
        return len(self._values())
