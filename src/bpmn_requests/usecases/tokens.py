"""API tokens: create (the token is shown once; only its sha256 is stored), verify, list, revoke.

A token is `brq_` and 32 random bytes, URL-safe base64. It acts as its user: a revoked token, or the token
of a deactivated user, authenticates no one.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from ..domain.errors import Conflict, NotFound, ValidationFailed
from ..domain.users import User
from .context import Services
from .ports import ApiToken

TOKEN_PREFIX = "brq_"
# Writing last_used_at on every call would make each API read a write; once a minute is precise enough.
TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class CreatedToken:
    token: str  # the secret, shown once and never stored
    info: ApiToken


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _checked_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationFailed("a token needs a name of 1 to 100 characters (what it is for)", field="name")
    return name


def create_token(username: str, name: str, actor: str, services: Services) -> CreatedToken:
    """A new token for an active staff user; the caller shows `token` once."""
    name = _checked_name(name)
    with services.uow() as uow:
        user = uow.users.get(username)
        if user is None:
            raise NotFound(f"no user {username}")
        if user.is_customer or not user.active:
            raise Conflict(f"{username} is {'a customer' if user.is_customer else 'deactivated'}: "
                           f"only active staff users get API tokens")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        info = uow.api_tokens.add(token_digest(token), username, name, services.clock.now())
        uow.audit.record(actor, "api_token.created", f"user:{username}", None,
                         {"token_id": info.id, "name": name})
        uow.commit()
    return CreatedToken(token, info)


def verify_token(token: str, services: Services) -> User | None:
    """The active staff user a token acts as, or None (unknown, revoked, or its user deactivated)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    with services.uow() as uow:
        info = uow.api_tokens.by_hash(token_digest(token))
        if info is None or info.revoked_at is not None:
            return None
        user = uow.users.get(info.username)
        if user is None or not user.active or user.is_customer:
            return None
        now = services.clock.now()
        if info.last_used_at is None or now - info.last_used_at >= TOUCH_INTERVAL:
            uow.api_tokens.touch(info.id, now)
            uow.commit()
    return user


def list_tokens(services: Services, username: str | None = None) -> list[ApiToken]:
    """Every token (or one user's), revoked ones included, oldest first."""
    with services.uow() as uow:
        return uow.api_tokens.list(username)


def revoke_token(token_id: int, actor: str, services: Services) -> ApiToken:
    """Revoke a token for good; revoking it again changes nothing."""
    with services.uow() as uow:
        info = uow.api_tokens.get(token_id)
        if info.revoked_at is not None:
            return info
        uow.api_tokens.revoke(token_id, services.clock.now())
        uow.audit.record(actor, "api_token.revoked", f"user:{info.username}", None,
                         {"token_id": token_id, "name": info.name})
        uow.commit()
        return uow.api_tokens.get(token_id)
