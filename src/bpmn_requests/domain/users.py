"""Staff users, their groups and approval levels. Customers act through the portal as `customer:<id>`."""

from __future__ import annotations

from dataclasses import dataclass

# The approval level each group grants (authority table: level 1 up to $5,000 for credit memos, ...).
GROUP_APPROVAL_LEVELS = {"ar_supervisors": 1, "finance_managers": 2, "cfo": 3}
CUSTOMER_GROUP = "customers"


@dataclass(frozen=True)
class User:
    username: str
    full_name: str
    groups: frozenset[str]
    email: str | None = None
    active: bool = True

    @property
    def approval_level(self) -> int:
        return max((GROUP_APPROVAL_LEVELS.get(g, 0) for g in self.groups), default=0)

    @property
    def is_admin(self) -> bool:
        return "admins" in self.groups

    @property
    def is_customer(self) -> bool:
        return CUSTOMER_GROUP in self.groups

    def in_any(self, groups: frozenset[str] | set[str]) -> bool:
        return bool(self.groups & groups)


def customer_actor(customer_id: str) -> User:
    """The user a customer acts as when answering from the portal or the command line."""
    return User(f"customer:{customer_id}", f"Customer {customer_id}", frozenset({CUSTOMER_GROUP}))
