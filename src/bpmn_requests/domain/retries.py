"""How often, and how long after, a failing step is tried again before it becomes an incident.

Transient errors (a timeout, a refused connection, HTTP 5xx or 429) are retried with exponential backoff;
a permanent error, or a transient one that has used up its retries, becomes an incident for an admin.
A diagram can set the policy of one service task: Camunda 7 `camunda:failedJobRetryTimeCycle`
(`R5/PT1M`: five retries, the first after a minute, each later one twice as long; or a list
`PT1M,PT10M,PT1H` of the delays themselves), Camunda 8 `zeebe:taskDefinition retries="5"`, or SpiffArena's
`retries` property (either form). Without one, the settings' policy applies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from .errors import ValidationFailed

_DURATION = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$", re.IGNORECASE)


def parse_duration(text: str) -> timedelta:
    """An ISO 8601 duration of weeks, days, hours, minutes and seconds: `PT30S`, `P1DT2H`."""
    found = _DURATION.match(text.strip())
    if not found or text.strip().upper() in ("P", "PT") or not any(found.groups()):
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as PT30S or P1D")
    weeks, days, hours, minutes, seconds = (float(g) if g else 0.0 for g in found.groups())
    return timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)


@dataclass(frozen=True)
class RetryPolicy:
    retries: int  # how many times a failing step is tried again
    first_delay: timedelta
    max_delay: timedelta
    delays: tuple[timedelta, ...] = ()  # explicit delays, one per retry (Camunda's list form)

    def __post_init__(self) -> None:
        if self.retries < 0:
            raise ValidationFailed("retries cannot be negative", field="retries")

    def delay(self, failures: int) -> timedelta:
        """How long to wait after the `failures`-th failure before the next try."""
        if self.delays:
            return self.delays[min(failures, len(self.delays)) - 1]
        delay: timedelta = self.first_delay * (2 ** (failures - 1))
        return min(delay, self.max_delay)

    def exhausted(self, failures: int) -> bool:
        """True when `failures` failures have used up every retry."""
        return failures > self.retries

    def for_element(self, spec: str | None) -> RetryPolicy:
        """This policy, with what a diagram element says about its own retries."""
        if not spec or not spec.strip():
            return self
        text = spec.strip()
        try:
            if text.isdigit():
                return RetryPolicy(int(text), self.first_delay, self.max_delay)
            if text.upper().startswith("R"):
                count, _, first = text[1:].partition("/")
                return RetryPolicy(int(count), parse_duration(first) if first else self.first_delay, self.max_delay)
            delays = tuple(parse_duration(part) for part in text.split(",") if part.strip())
            return RetryPolicy(len(delays), delays[0], self.max_delay, delays)
        except (ValueError, IndexError):
            raise ValidationFailed(f"retry cycle {spec!r} is not a count (5), R5/PT1M or a list PT1M,PT10M",
                                   field="retry") from None
