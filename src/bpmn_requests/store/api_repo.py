"""SQL repositories of the REST API: bearer tokens and idempotency keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain.errors import IdempotencyKeyTaken, NotFound
from ..usecases.ports import ApiToken, IdempotencyRecord
from .api_tables import api_idempotency, api_tokens


def _token(row: Any) -> ApiToken:
    return ApiToken(row.id, row.username, row.name, row.created_at, row.last_used_at, row.revoked_at)


class SqlApiTokens:
    def __init__(self, session: Session):
        self.session = session

    def add(self, token_sha256: str, username: str, name: str, at: datetime) -> ApiToken:
        token_id = self.session.execute(insert(api_tokens).values(
            token_sha256=token_sha256, username=username, name=name, created_at=at)
            .returning(api_tokens.c.id)).scalar_one()
        return ApiToken(int(token_id), username, name, at)

    def get(self, token_id: int) -> ApiToken:
        if not 0 < token_id < 2**63:  # no such row, and the database could not even compare it
            raise NotFound(f"no API token {token_id}")
        row = self.session.execute(select(api_tokens).where(api_tokens.c.id == token_id)).first()
        if row is None:
            raise NotFound(f"no API token {token_id}")
        return _token(row)

    def by_hash(self, token_sha256: str) -> ApiToken | None:
        row = self.session.execute(select(api_tokens).where(api_tokens.c.token_sha256 == token_sha256)).first()
        return _token(row) if row is not None else None

    def list(self, username: str | None = None) -> list[ApiToken]:
        query = select(api_tokens).order_by(api_tokens.c.id)
        if username is not None:
            query = query.where(api_tokens.c.username == username)
        return [_token(r) for r in self.session.execute(query).all()]

    def touch(self, token_id: int, at: datetime) -> None:
        self.session.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=at))

    def revoke(self, token_id: int, at: datetime) -> None:
        self.session.execute(update(api_tokens).where(api_tokens.c.id == token_id,
                                                      api_tokens.c.revoked_at.is_(None)).values(revoked_at=at))


class SqlIdempotency:
    def __init__(self, session: Session):
        self.session = session

    def get(self, key: str, username: str) -> IdempotencyRecord | None:
        row = self.session.execute(select(api_idempotency).where(
            api_idempotency.c.key == key, api_idempotency.c.username == username)).first()
        if row is None:
            return None
        return IdempotencyRecord(row.key, row.username, row.request_sha256, row.created_at, row.status_code,
                                 row.reference, row.response)

    def reserve(self, key: str, username: str, request_sha256: str, at: datetime) -> None:
        # On PostgreSQL a concurrent insert of the same key waits here for the other transaction, then
        # fails when it committed: the caller reads the committed result instead of creating a second one.
        try:
            self.session.execute(insert(api_idempotency).values(
                key=key, username=username, request_sha256=request_sha256, created_at=at))
        except IntegrityError:
            raise IdempotencyKeyTaken(f"Idempotency-Key {key!r} was just used by another request") from None

    def complete(self, key: str, username: str, status_code: int, reference: str,
                 response: dict[str, Any]) -> None:
        self.session.execute(update(api_idempotency).where(
            api_idempotency.c.key == key, api_idempotency.c.username == username).values(
            status_code=status_code, reference=reference, response=response))
