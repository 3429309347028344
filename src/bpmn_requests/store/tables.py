"""Tables of the application: users, deployments, instances, requests, tasks, audit, outbox.

Finance tables live in finance_tables.py. Every table registers on `base.metadata`.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from .base import JsonType, MoneyType, UtcDateTime, metadata

users = Table(
    "users", metadata,
    Column("username", String(80), primary_key=True),
    Column("full_name", String(200), nullable=False),
    Column("email", String(200)),
    Column("password_hash", String(200)),
    Column("groups", JsonType, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime, nullable=False),
)

deployments = Table(
    "deployments", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("deployed_by", String(80), nullable=False),
    Column("bundle_sha256", String(64), nullable=False),
    Column("active", Boolean, nullable=False, default=False),
    Column("note", Text),
)

deployment_files = Table(
    "deployment_files", metadata,
    Column("deployment_id", Integer, ForeignKey("deployments.id"), primary_key=True),
    Column("name", String(300), primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
)

process_versions = Table(
    "process_versions", metadata,
    Column("process_id", String(200), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("deployment_id", Integer, ForeignKey("deployments.id"), nullable=False),
    Column("file_name", String(300), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("version_tag", String(100)),
    Column("created_at", UtcDateTime, nullable=False),
)

requests = Table(
    "requests", metadata,
    Column("reference", String(30), primary_key=True),
    Column("type", String(40), nullable=False),
    Column("customer_id", String(20), nullable=False),
    Column("description", Text, nullable=False),
    Column("submitted_at", UtcDateTime, nullable=False),
    Column("requested_by", String(80), nullable=False),
    Column("priority", String(10), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("status", String(30), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("details", JsonType, nullable=False),
    Column("kyc", JsonType),
    Column("classification", JsonType),
    Column("credit", JsonType),
    Column("resolution", JsonType, nullable=False),
    Column("closed_at", UtcDateTime),
    Column("outcome", String(20)),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_requests_customer_status", "customer_id", "status"),
    Index("ix_requests_status_type", "status", "type"),
)

# The invoices and payments a request names, for duplicate detection by index rather than JSON search.
request_refs = Table(
    "request_refs", metadata,
    Column("reference", String(30), ForeignKey("requests.reference"), primary_key=True),
    Column("kind", String(10), primary_key=True),
    Column("value", String(40), primary_key=True),
    Index("ix_request_refs_value", "kind", "value"),
)

approvals = Table(
    "approvals", metadata,
    Column("id", String(60), primary_key=True),
    Column("request_reference", String(30), ForeignKey("requests.reference"), nullable=False, index=True),
    Column("seq", Integer, nullable=False),
    Column("level", Integer, nullable=False),
    Column("approver", String(80), nullable=False),
    Column("decision", String(10), nullable=False),
    Column("comment", Text, nullable=False),
    Column("decided_at", UtcDateTime, nullable=False),
    Column("action", String(40), nullable=False),
    Column("amount", MoneyType, nullable=False),
    Column("proposed_by", String(80)),
)

request_steps = Table(
    "request_steps", metadata,
    Column("request_reference", String(30), ForeignKey("requests.reference"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("element_id", String(200), nullable=False),
    Column("name", String(200), nullable=False),
    Column("actor", String(80), nullable=False),
    Column("completed_at", UtcDateTime, nullable=False),
    Column("data", JsonType, nullable=False),
)

instances = Table(
    "instances", metadata,
    Column("id", String(32), primary_key=True),
    Column("request_reference", String(30), nullable=False, unique=True),
    Column("deployment_id", Integer, ForeignKey("deployments.id"), nullable=False),
    Column("process_id", String(200), nullable=False),
    Column("state", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("end_event", String(200)),
    Column("error", Text),
    Column("due_at", UtcDateTime),
    Column("attempts", Integer, nullable=False, default=0),
    Column("dispatched_at", UtcDateTime),
    Index("ix_instances_status_due_at", "status", "due_at"),
)

human_tasks = Table(
    "human_tasks", metadata,
    Column("id", String(36), primary_key=True),
    Column("instance_id", String(32), ForeignKey("instances.id"), nullable=False, index=True),
    Column("request_reference", String(30), nullable=False, index=True),
    Column("element_id", String(200), nullable=False),
    Column("process_id", String(200), nullable=False),
    Column("name", String(200), nullable=False),
    Column("form_id", String(200)),
    Column("candidate_groups", JsonType, nullable=False),
    Column("assignee", String(80)),
    Column("claimed_by", String(80)),
    Column("status", String(12), nullable=False),
    Column("required_level", Integer, nullable=False),
    Column("priority", String(10), nullable=False),
    Column("request_type", String(40), nullable=False),
    Column("properties", JsonType, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("completed_at", UtcDateTime),
    Column("completed_by", String(80)),
    Index("ix_human_tasks_status", "status", "priority"),
)

audit_events = Table(
    "audit_events", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(80), nullable=False),
    Column("action", String(80), nullable=False),
    Column("subject", String(80), nullable=False, index=True),
    Column("before", JsonType),
    Column("after", JsonType),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
)

outbox = Table(
    "outbox", metadata,
    Column("key", String(200), primary_key=True),
    Column("request_reference", String(30), nullable=False, index=True),
    Column("customer_id", String(20), nullable=False),
    Column("recipient", String(200)),
    Column("template", String(60), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    UniqueConstraint("key", name="uq_outbox_key"),
)

request_notes = Table(
    "request_notes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_reference", String(30), ForeignKey("requests.reference"), nullable=False, index=True),
    Column("author", String(80), nullable=False),
    Column("visibility", String(10), nullable=False),  # internal | customer
    Column("body", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

attachments = Table(
    "attachments", metadata,
    Column("id", String(32), primary_key=True),
    Column("request_reference", String(30), ForeignKey("requests.reference"), nullable=False, index=True),
    Column("filename", String(200), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("uploaded_by", String(80), nullable=False),
    Column("visibility", String(10), nullable=False),  # internal | customer
    Column("created_at", UtcDateTime, nullable=False),
)
