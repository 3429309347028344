"""Tables of the customer portal: private status links (only the token's hash) and service ratings."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, String, Table, Text

from .base import UtcDateTime, metadata

portal_links = Table(
    "portal_links", metadata,
    Column("token_sha256", String(64), primary_key=True),  # the token itself is shown once, never stored
    Column("request_reference", String(30), ForeignKey("requests.reference"), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
)

service_ratings = Table(
    "service_ratings", metadata,
    Column("request_reference", String(30), ForeignKey("requests.reference"), primary_key=True),
    Column("score", Integer, nullable=False),
    Column("comment", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("score BETWEEN 1 AND 5", name="score_from_1_to_5"),
)
