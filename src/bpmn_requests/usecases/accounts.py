"""Staff accounts: create users with argon2 password hashes, check passwords, the demo staff."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..domain.errors import Conflict, NotFound, ValidationFailed
from ..domain.users import User
from .context import Services
from .ports import UnitOfWork
from .tasks import may_see

_hasher = PasswordHasher()


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Replace the argon2 parameters (tests use cheap ones; production keeps argon2-cffi's defaults)."""
    global _hasher
    _hasher = hasher

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


# The groups a staff user may be in: what diagrams name as candidate groups, plus admins.
# `integrations` are other systems (a bank feed, an ERP) that post events through the API.
STAFF_GROUPS = ("agents", "billing", "ar_supervisors", "finance_managers", "cfo", "compliance", "credit",
                "integrations", "admins")


def _checked_groups(groups: Iterable[str]) -> tuple[str, ...]:
    chosen = set(groups)
    unknown = sorted(chosen - set(STAFF_GROUPS))
    if unknown:
        raise ValidationFailed(f"unknown group(s) {', '.join(unknown)}; the groups are {', '.join(STAFF_GROUPS)}",
                               field="groups")
    if not chosen:
        raise ValidationFailed("a user needs at least one group", field="groups")
    return tuple(g for g in STAFF_GROUPS if g in chosen)


def _staff_user(uow: UnitOfWork, username: str) -> User:
    user = uow.users.get(username)
    if user is None or user.is_customer:
        raise NotFound(f"no staff user {username}")
    return user


def list_users(services: Services) -> list[User]:
    """Every staff user, active or not, by user name."""
    with services.uow() as uow:
        return [u for u in uow.users.all() if not u.is_customer]


def create_user(username: str, full_name: str, groups: Iterable[str], password: str, actor: str,
                services: Services) -> User:
    """A new staff user who can sign in with `password` at once."""
    chosen = _checked_groups(groups)
    full_name = full_name.strip()
    if not full_name or len(full_name) > 200:
        raise ValidationFailed("the full name must have 1 to 200 characters", field="full_name")
    with services.uow() as uow:
        user = add_user(uow, username.strip(), full_name, chosen, password, actor)
        uow.commit()
    return user


def _release_tasks(uow: UnitOfWork, user: User, actor: str) -> None:
    """Give back the tasks `user` claimed or was assigned but may no longer do, so colleagues can."""
    for found in uow.tasks.open_tasks():
        if user.username not in (found.claimed_by, found.assignee):
            continue
        uow.instances.get_for_update(found.instance_id)
        task = uow.tasks.get(found.id)  # read again under the instance lock
        if task.status != "open" or (user.active and may_see(user, replace(task, assignee=None))):
            continue
        before = {"task": task.id, "claimed_by": task.claimed_by, "assignee": task.assignee}
        task.claimed_by = None if task.claimed_by == user.username else task.claimed_by
        task.assignee = None if task.assignee == user.username else task.assignee
        uow.tasks.update(task)
        uow.audit.record(actor, "task.released", task.request_reference, before,
                         {"task": task.id, "element": task.element_id, "reason": f"{user.username} may no longer do it"})


def set_groups(username: str, groups: Iterable[str], actor: str, services: Services) -> User:
    """Change a staff user's groups; tasks they held and may no longer do go back to their groups."""
    chosen = _checked_groups(groups)
    with services.uow() as uow:
        user = _staff_user(uow, username)
        if username == actor and user.is_admin and "admins" not in chosen:
            raise Conflict("you cannot take yourself out of admins; another admin can")
        updated = replace(user, groups=frozenset(chosen))
        if updated.groups == user.groups:
            return user
        uow.users.update(updated)
        uow.audit.record(actor, "user.groups_changed", f"user:{username}", {"groups": sorted(user.groups)},
                         {"groups": sorted(updated.groups)})
        _release_tasks(uow, updated, actor)
        uow.commit()
    return updated


def set_active(username: str, active: bool, actor: str, services: Services) -> User:
    """Deactivate (no sign-in, no API token works, held tasks released) or reactivate a staff user."""
    with services.uow() as uow:
        user = _staff_user(uow, username)
        if username == actor and not active:
            raise Conflict("you cannot deactivate yourself; another admin can")
        if user.active == active:
            return user
        updated = replace(user, active=active)
        uow.users.update(updated)
        uow.audit.record(actor, "user.reactivated" if active else "user.deactivated", f"user:{username}",
                         {"active": user.active}, {"active": active})
        if not active:
            _release_tasks(uow, updated, actor)
        uow.commit()
    return updated
