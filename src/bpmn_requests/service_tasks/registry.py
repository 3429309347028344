"""Registry of named service tasks (`kyc/validate`, `invoice/lookup`, ...) and the context they run in.

A service task is a plain function `handler(ctx, inputs) -> outputs`. It sees the domain and its ports,
never the engine or Flask. Its outputs become process variables (Camunda external-task semantics).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..domain.calendar import BusinessCalendar
from ..domain.errors import ServiceTaskError
from ..domain.finance import FinanceGateway
from ..domain.ports import (
    Clock,
    CreditBureau,
    Outbox,
    PepList,
    RequestDirectory,
    SanctionsScreener,
    TaskBoard,
)
from ..domain.requests import RequestRecord


@dataclass(frozen=True)
class ServiceSettings:
    """Thresholds the service tasks apply; come from Settings."""

    sanctions_threshold: float = 88.0
    sanctions_review_threshold: float = 88.0
    sanctions_block_threshold: float = 99.0
    payment_auto_apply_confidence: float = 0.9
    write_off_tolerance: Decimal = Decimal("250.00")
    smtp_configured: bool = False
    rfi_answer_period: str = "P14D"  # ISO 8601: how long a customer has to answer a request for information
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)  # SLA targets count business hours


@dataclass
class ServiceContext:
    """What a service task may touch. `record` is persisted by the use case after the engine run."""

    record: RequestRecord
    finance: FinanceGateway
    directory: RequestDirectory
    outbox: Outbox
    screener: SanctionsScreener
    peps: PepList
    clock: Clock
    step_key: str  # unique per execution of one task in one instance: the idempotency key base
    data: Mapping[str, Any] = field(default_factory=dict)  # all process variables, read-only
    settings: ServiceSettings = field(default_factory=ServiceSettings)
    tasks: TaskBoard | None = None  # the instance's open user tasks (None outside an instance run)
    bureau: CreditBureau | None = None  # the credit bureau, when one is configured


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # string | decimal | integer | boolean | list | object | date
    description: str
    required: bool = True


Handler = Callable[[ServiceContext, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class ServiceTaskDefinition:
    topic: str
    title: str
    description: str
    inputs: tuple[Param, ...]
    outputs: tuple[Param, ...]
    handler: Handler

    def call(self, ctx: ServiceContext, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Check the input contract, run the handler, check the output contract."""
        missing = [p.name for p in self.inputs if p.required and inputs.get(p.name) in (None, "")]
        if missing:
            raise ServiceTaskError(f"{self.topic}: missing input {', '.join(missing)}",
                                   error_code="missing_input", field=missing[0])
        result = self.handler(ctx, dict(inputs))
        absent = [p.name for p in self.outputs if p.required and p.name not in result]
        if absent:
            raise ServiceTaskError(f"{self.topic}: handler did not return {', '.join(absent)}",
                                   error_code="bad_output")
        return result


class Registry:
    def __init__(self, definitions: list[ServiceTaskDefinition]):
        self._by_topic: dict[str, ServiceTaskDefinition] = {}
        for definition in definitions:
            if definition.topic in self._by_topic:
                raise ValueError(f"service task topic {definition.topic!r} registered twice")
            self._by_topic[definition.topic] = definition

    def get(self, topic: str) -> ServiceTaskDefinition:
        try:
            return self._by_topic[topic]
        except KeyError:
            raise ServiceTaskError(f"no service task is registered for topic {topic!r}",
                                   error_code="unknown_topic") from None

    def __contains__(self, topic: object) -> bool:
        return topic in self._by_topic

    def topics(self) -> list[str]:
        return sorted(self._by_topic)

    def definitions(self) -> list[ServiceTaskDefinition]:
        return [self._by_topic[t] for t in self.topics()]
