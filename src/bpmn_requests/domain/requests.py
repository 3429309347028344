"""The request record: the single source of truth for one customer request."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

REQUEST_TYPES = ("billing_dispute", "payment_issue", "credit_onboarding", "credit_adjustment", "debt_restructuring")
PRIORITIES = ("low", "normal", "high", "urgent")
CHANNELS = ("portal", "email", "phone", "api", "cli")

# Internal status -> the name a customer sees. Diagrams set the internal status with a `status` property.
CUSTOMER_STATUS = {
    "submitted": "Received",
    "registered": "Received",
    "kyc_check": "Under review",
    "compliance_review": "Under review",
    "in_progress": "In progress",
    "investigation": "In progress",
    "awaiting_approval": "In progress",
    "approved": "In progress",
    "posted": "In progress",
    "awaiting_customer": "Waiting for your answer",
    "closed": "Closed",
}
OPEN_STATUSES = frozenset(CUSTOMER_STATUS) - {"closed"}


def customer_status(status: str) -> str:
    return CUSTOMER_STATUS.get(status, "In progress")


@dataclass
class Approval:
    id: str  # APR-<reference>-<n>, or AUTO-<reference>-<n> for automatic approvals under the tolerance
    level: int
    approver: str
    decision: str  # approve | reject | return
    comment: str
    decided_at: datetime
    action: str
    amount: Decimal
    proposed_by: str | None = None


@dataclass
class StepRecord:
    """One completed user task: who did what with which data."""

    element_id: str
    name: str
    actor: str
    completed_at: datetime
    data: dict[str, Any]


@dataclass
class RequestRecord:
    reference: str
    type: str
    customer_id: str
    description: str
    submitted_at: datetime
    requested_by: str
    priority: str = "normal"
    channel: str = "cli"
    status: str = "submitted"
    currency: str = "USD"
    details: dict[str, Any] = field(default_factory=dict)  # invoice_numbers, disputed_amount, ...
    kyc: dict[str, Any] | None = None
    classification: dict[str, Any] | None = None
    credit: dict[str, Any] | None = None
    resolution: dict[str, Any] = field(default_factory=dict)
    approvals: list[Approval] = field(default_factory=list)
    steps: list[StepRecord] = field(default_factory=list)
    closed_at: datetime | None = None
    outcome: str | None = None  # resolved | rejected | blocked | withdrawn

    @property
    def is_open(self) -> bool:
        return self.status != "closed"

    def approval(self, approval_id: str) -> Approval | None:
        return next((a for a in self.approvals if a.id == approval_id), None)

    def latest_approval(self) -> Approval | None:
        return self.approvals[-1] if self.approvals else None
