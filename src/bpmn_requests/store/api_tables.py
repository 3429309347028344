"""Tables of the REST API: bearer tokens (only their sha256 is stored) and idempotency keys.

An idempotency row is written in the same transaction as the request it created, so a key is recorded
exactly when its request is; the primary key (key, username) stops a concurrent retry from creating two.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, String, Table

from .base import JsonType, UtcDateTime, metadata

api_tokens = Table(
    "api_tokens", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("username", String(80), ForeignKey("users.username"), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_used_at", UtcDateTime),
    Column("revoked_at", UtcDateTime),
)

api_idempotency = Table(
    "api_idempotency", metadata,
    Column("key", String(200), primary_key=True),
    Column("username", String(80), primary_key=True),
    Column("request_sha256", String(64), nullable=False),  # of the canonical JSON body
    Column("response", JsonType),  # empty only inside the transaction that reserved the key
    Column("status_code", Integer),
    Column("reference", String(30)),
    Column("created_at", UtcDateTime, nullable=False),
)
