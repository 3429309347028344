"""Tables of unattended work: incidents, received messages, and the messages instances wait for."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from .base import JsonType, UtcDateTime, metadata

incidents = Table(
    "incidents", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("instance_id", String(32), ForeignKey("instances.id"), nullable=False, index=True),
    Column("request_reference", String(30), nullable=False, index=True),
    Column("element_id", String(200)),
    Column("error_code", String(80), nullable=False),
    Column("message", Text, nullable=False),
    Column("data", JsonType, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("resolved_at", UtcDateTime),
    Column("resolved_by", String(80)),
    Column("resolution", String(20)),
    Column("resolution_data", JsonType),
)

messages = Table(
    "messages", metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("message_id", String(200), nullable=False),
    Column("correlation_key", String(200), nullable=False),
    Column("variables", JsonType, nullable=False),
    Column("sender", String(80), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime),
    Column("status", String(12), nullable=False),
    Column("instance_id", String(32)),
    Column("element_id", String(200)),
    Column("request_reference", String(30)),
    Column("delivered_at", UtcDateTime),
    UniqueConstraint("name", "message_id", name="uq_messages_name_message_id"),
    Index("ix_messages_buffered", "status", "name", "correlation_key"),
)

message_subscriptions = Table(
    "message_subscriptions", metadata,
    Column("instance_id", String(32), ForeignKey("instances.id"), primary_key=True),
    Column("element_id", String(200), primary_key=True),
    Column("message", String(200), primary_key=True),
    Column("correlation_key", String(200)),
    Column("request_reference", String(30), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_message_subscriptions_key", "message", "correlation_key"),
)
