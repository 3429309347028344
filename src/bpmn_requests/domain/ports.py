"""Ports the service tasks and use cases see: clock, request directory, outbox, sanctions screening."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...
    def today(self) -> date: ...


class RequestDirectory(Protocol):
    """Questions about other requests, asked from inside one request's transaction."""

    def next_reference(self) -> str: ...
    def open_request_for(self, customer_id: str, invoice_numbers: list[str],
                         payment_references: list[str], exclude: str | None) -> str | None: ...
    def open_disputes_of(self, customer_id: str, exclude: str | None) -> int: ...


@dataclass(frozen=True)
class OutboxMessage:
    key: str  # idempotency key: a retried step never queues a message twice
    request_reference: str
    customer_id: str
    to: str | None
    template: str
    subject: str
    body: str
    created_at: datetime


class Outbox(Protocol):
    def add(self, message: OutboxMessage) -> bool:
        """Queue once per key; returns False when the key was already queued."""
        ...

    def for_request(self, request_reference: str) -> list[OutboxMessage]: ...


@dataclass(frozen=True)
class BureauReport:
    """What a credit bureau says about a customer."""

    score: int  # the bureau's score, 300..850
    delinquencies: int  # payment defaults on file
    source: str  # which bureau, and its own reference for the report


class CreditBureau(Protocol):
    def report(self, customer_id: str, name: str, country: str, registration: str | None) -> BureauReport:
        """The bureau's report; raises ServiceTaskError (transient for timeouts, refused connections,
        HTTP 5xx and 429; permanent otherwise, `bureau_no_record` when the bureau does not know them)."""
        ...


class TaskBoard(Protocol):
    """The open user tasks of the instance a service task runs in (reminders and escalations)."""

    def remind(self, element_id: str) -> None:
        """Remind whoever holds the open task at `element_id` that its SLA target is near."""
        ...

    def escalate(self, element_id: str, group: str) -> None:
        """Offer the open task at `element_id` to `group` too, marked escalated."""
        ...


@dataclass(frozen=True)
class ScreeningCandidate:
    screened_name: str  # the name we screened (customer, director, owner)
    role: str
    list_name: str  # SDN name or alias that matched
    entry_id: str  # ent_num on the list
    entry_type: str  # individual | entity | vessel | aircraft
    programs: str
    score: float  # 0..100
    phonetic_match: bool
    matched_alias: bool


@dataclass(frozen=True)
class ScreeningResult:
    list_date: str
    entries: int
    threshold: float
    candidates: tuple[ScreeningCandidate, ...] = field(default_factory=tuple)


class SanctionsScreener(Protocol):
    def screen(self, names: list[tuple[str, str]]) -> ScreeningResult:
        """Screen (name, role) pairs; candidates above the threshold, best first."""
        ...


@dataclass(frozen=True)
class PepMatch:
    screened_name: str
    pep_name: str
    position: str
    country: str
    score: float


class PepList(Protocol):
    def screen(self, names: list[tuple[str, str]]) -> list[PepMatch]: ...


__all__ = ["Clock", "Decimal", "Outbox", "OutboxMessage", "PepList", "PepMatch", "RequestDirectory",
           "SanctionsScreener", "ScreeningCandidate", "ScreeningResult"]
