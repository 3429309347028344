"""Approval policy: four eyes and authority levels. Nothing is posted before the approval it needs."""

from __future__ import annotations

from decimal import Decimal

from .errors import BusinessRuleViolation
from .requests import Approval, RequestRecord
from .users import User


def check_may_approve(user: User, record: RequestRecord, *, required_level: int, proposed_by: str | None) -> None:
    """Refuse with the rule's name when `user` may not decide this approval."""
    if proposed_by and user.username == proposed_by:
        raise BusinessRuleViolation(
            f"four eyes: {user.username} proposed this change and cannot approve it")
    if user.username == record.requested_by:
        raise BusinessRuleViolation(
            f"four eyes: {user.username} submitted request {record.reference} and cannot approve it")
    if user.approval_level < required_level:
        raise BusinessRuleViolation(
            f"approval authority: this decision needs level {required_level}; "
            f"{user.username} has level {user.approval_level}")


def approval_for_posting(record: RequestRecord, *, required_level: int, action: str,
                         amount: Decimal) -> Approval:
    """The approval a posting rests on; refuses when there is none that covers it."""
    approval = record.latest_approval()
    if approval is None or approval.decision != "approve":
        raise BusinessRuleViolation(
            f"no approval: {action} of {amount} on {record.reference} has not been approved")
    if approval.level < required_level:
        raise BusinessRuleViolation(
            f"approval {approval.id} is level {approval.level}; {action} of {amount} needs level {required_level}")
    if approval.action != action or approval.amount != amount:
        raise BusinessRuleViolation(
            f"approval {approval.id} covers {approval.action} of {approval.amount}, not {action} of {amount}")
    return approval
