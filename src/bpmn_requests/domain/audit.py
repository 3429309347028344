"""The audit chain: every state change is an event whose hash covers the previous event's hash."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEvent:
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str  # request reference, task id, version id, ...
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    prev_hash: str
    hash: str


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def event_hash(prev_hash: str, seq: int, at: datetime, actor: str, action: str, subject: str,
               before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    payload = canonical([prev_hash, seq, at.isoformat(), actor, action, subject, before, after])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def first_broken(events: list[AuditEvent]) -> tuple[AuditEvent, str] | None:
    """The first event that does not chain (edited, deleted before it, reordered), with why."""
    prev = GENESIS
    expected_seq = events[0].seq if events else 1
    if events and expected_seq != 1:
        return events[0], f"event {events[0].seq} follows a deleted event (the chain starts at 1)"
    for event in events:
        if event.seq != expected_seq:
            return event, f"event {event.seq} follows a gap: event {expected_seq} is missing"
        if event.prev_hash != prev:
            return event, f"event {event.seq} does not link to the hash of event {event.seq - 1}"
        recomputed = event_hash(event.prev_hash, event.seq, event.at, event.actor, event.action,
                                event.subject, event.before, event.after)
        if recomputed != event.hash:
            return event, f"event {event.seq} was changed after it was written (hash mismatch)"
        prev = event.hash
        expected_seq += 1
    return None
