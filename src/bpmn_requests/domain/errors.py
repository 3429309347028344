"""Domain errors. Services raise these; each interface maps them to its own output in one place."""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    """Base of every error a user can cause; `code` is stable and machine-readable."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None, details: Mapping[str, object] | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = dict(details or {})

    def __str__(self) -> str:
        return self.message


class ValidationFailed(DomainError):
    """Input is malformed or incomplete. `field_errors` maps each field to what is wrong with it."""

    code = "invalid"

    def __init__(self, message: str, *, field_errors: Mapping[str, str] | None = None, field: str | None = None):
        errors = dict(field_errors or {})
        if field and field not in errors:
            errors[field] = message
        super().__init__(message, field=field, details={"field_errors": errors})
        self.field_errors = errors

    @classmethod
    def for_fields(cls, field_errors: Mapping[str, str]) -> ValidationFailed:
        """One error naming every bad field."""
        parts = "; ".join(f"{name}: {text}" for name, text in field_errors.items())
        return cls(f"invalid input ({parts})", field_errors=field_errors)


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    """The state changed under the caller (someone else completed the task) or a rule forbids the change."""

    code = "conflict"


class DuplicateRequest(Conflict):
    code = "duplicate"

    def __init__(self, existing_reference: str, message: str):
        super().__init__(message, details={"existing_reference": existing_reference})
        self.existing_reference = existing_reference


class IdempotencyConflict(Conflict):
    """An Idempotency-Key sent again with a different request than the one it first came with."""

    code = "idempotency_conflict"


class IdempotencyKeyTaken(IdempotencyConflict):
    """A concurrent transaction recorded the same Idempotency-Key first (a unique constraint said so)."""


class MessageIdTaken(Conflict):
    """A message with this name and message id was recorded already (by a concurrent delivery)."""

    code = "duplicate_message"


class Forbidden(DomainError):
    code = "forbidden"


class BusinessRuleViolation(Forbidden):
    """Four eyes, approval authority, posting without approval."""

    code = "rule_violation"


class ServiceTaskError(DomainError):
    """A service task refuses on purpose (a business error a BPMN error event may catch).

    `error_code` is the BPMN error code; `transient` tells the caller a retry may succeed.
    """

    code = "service_task_failed"

    def __init__(self, message: str, *, error_code: str = "failed", transient: bool = False,
                 field: str | None = None):
        super().__init__(message, field=field, details={"error_code": error_code})
        self.error_code = error_code
        self.transient = transient


class ProcessError(DomainError):
    """The process definition or engine failed (a broken diagram, a loop past the engine's depth)."""

    code = "process_error"
