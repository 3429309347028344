"""Helpers views share: the system, the services, the signed-in staff user, permission checks."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, current_app
from flask_login import current_user, login_required

from ..bootstrap import System
from ..domain.users import User
from ..usecases.accounts import STAFF_GROUPS  # noqa: F401 - re-exported for the views
from ..usecases.context import Services
from ..usecases.tasks import SUPERVISOR_GROUPS as _SUPERVISORS

F = TypeVar("F", bound=Callable[..., Any])


def system() -> System:
    return current_app.extensions["bpmn_requests"]  # type: ignore[no-any-return]


def services() -> Services:
    return system().services


def staff() -> User:
    """The signed-in staff user as a domain User (views behind login_required only)."""
    return current_user.user  # type: ignore[no-any-return]


def requires(*groups: str) -> Callable[[F], F]:
    """Signed in and in one of `groups` (admins pass every check); otherwise 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = staff()
            if groups and not user.is_admin and not user.in_any(set(groups)):
                abort(403, description=f"{user.username} may not do this: it needs one of {', '.join(groups)}")
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


# One list of groups each, owned by the use cases; the views only refer to them.
SUPERVISOR_GROUPS = tuple(sorted(_SUPERVISORS))
