"""Staff accounts: create users with argon2 password hashes, check passwords, the demo staff."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..domain.errors import Conflict, ValidationFailed
from ..domain.users import User
from .ports import UnitOfWork

_hasher = PasswordHasher()

DEMO_PASSWORD = "demo"
DEMO_USERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("alice", "Alice Agent", ("agents",)),
    ("bob", "Bob Billing", ("billing",)),
    ("carol", "Carol Supervisor", ("ar_supervisors",)),
    ("dave", "Dave Finance Manager", ("finance_managers",)),
    ("erin", "Erin CFO", ("cfo",)),
    ("frank", "Frank Compliance", ("compliance",)),
    ("grace", "Grace Credit", ("credit",)),
    ("admin", "Administrator", ("admins",)),
)


def hash_password(password: str) -> str:
    if len(password) < 4:
        raise ValidationFailed("password must have at least 4 characters", field="password")
    return _hasher.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def add_user(uow: UnitOfWork, username: str, full_name: str, groups: tuple[str, ...], password: str,
             actor: str) -> User:
    """Add a user inside the caller's unit of work (the caller commits)."""
    if not username.isidentifier() or len(username) > 80:
        raise ValidationFailed(f"username {username!r} must be letters, digits and _", field="username")
    if uow.users.get(username) is not None:
        raise Conflict(f"user {username} exists already")
    user = User(username, full_name, frozenset(groups), f"{username}@example.com")
    uow.users.add(user, hash_password(password))
    uow.audit.record(actor, "user.created", f"user:{username}", None, {"groups": sorted(groups)})
    return user


def authenticate(username: str, password: str, uow: UnitOfWork) -> User | None:
    """The active user with this password, or None (same answer for unknown user and wrong password)."""
    user = uow.users.get(username)
    stored = uow.users.password_hash(username) if user is not None else None
    if user is None or not user.active or not password_matches(stored, password):
        _hasher.hash(password) if user is None else None  # same cost either way: no user enumeration by timing
        return None
    return user
