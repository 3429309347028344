"""/api/v1/messages: a message to the request waiting for it (a customer's answer, another system's event),
and the recent messages with what became of them.

One path for every message: `usecases/messages.send_message` correlates it by name and key, checks its
variables against the receiving element, keeps it for a while when nobody waits yet, and gives a resend
with the same message id no second effect.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import url_for
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ...domain.errors import ValidationFailed
from ...usecases.messages import IncomingMessage, MessageResult, recent_messages, send_message
from ...usecases.ports import StoredMessage
from ..context import services
from .auth import api_user, authenticate, require_groups

blp = Blueprint("api_messages", __name__, url_prefix="/api/v1/messages",
                description="Messages to waiting requests: customer answers, events of other systems")
blp.before_request(authenticate)

# Who may send: agents (answering for a customer) and other systems; admins pass every check.
SENDERS = frozenset({"agents", "integrations"})
READERS = frozenset({"integrations"})
STATUSES = ("buffered", "delivered", "expired", "refused")
BODY_FIELDS = frozenset({"name", "correlation_key", "message_id", "variables", "ttl_seconds"})
TTL_LIMIT = 366 * 86400  # the schema's bound; the settings' MESSAGE_TTL_MAX_SECONDS is checked by the use case


class MessageSendSchema(Schema):
    """A message for the request waiting for it."""

    name = fields.String(required=True, metadata={
        "description": "the message the receiving element waits for", "example": "payment_received"})
    correlation_key = fields.String(required=True, metadata={
        "description": "the value the receiver is correlated by: the request reference for customer answers "
                       "(customer_answer, customer_decision), the payment reference for payment_received",
        "example": "PAY-7001"})
    message_id = fields.String(metadata={
        "description": "the sender's id of this message (or the Idempotency-Key header): the same id sent "
                       "again has no second effect", "example": "bank-feed-2026-11-02-0042"})
    variables = fields.Dict(keys=fields.String(), load_default=dict, metadata={
        "description": "the values the message brings; the receiving element decides which it takes (its "
                       "form, or its `variables` property)", "example": {"payment_reference": "PAY-7001",
                                                                        "payment_amount": "700.00"}})
    ttl_seconds = fields.Integer(strict=True, validate=validate.Range(0, TTL_LIMIT), metadata={
        "description": "how long to keep the message when no request waits for it yet; absent: the configured "
                       "time (MESSAGE_TTL_SECONDS); 0: never kept, refused with 404 when nobody waits"})


class MessageIdHeaderSchema(Schema):
    idempotency_key = fields.String(data_key="Idempotency-Key", metadata={
        "description": "the message id, when the body has no message_id"})


class MessageResultSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    message_id = fields.String(required=True)
    correlation_key = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": list(STATUSES), "description":
                                                    "delivered, buffered (kept until expires_at); for a resend "
                                                    "what became of the first"})
    duplicate = fields.Boolean(required=True, metadata={"description": "true: this message id was received "
                                                                       "before; nothing happened now"})
    reference = fields.String(allow_none=True, metadata={"description": "the request it reached"})
    element_id = fields.String(allow_none=True, metadata={"description": "the element that received it"})
    request_status = fields.String(allow_none=True, metadata={"description": "the request's status afterwards"})
    expires_at = fields.DateTime(allow_none=True, metadata={"description": "a buffered message is kept until then"})
    links = fields.Dict(keys=fields.String(), values=fields.String())


class MessageQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(STATUSES), metadata={"enum": list(STATUSES)})
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 500))


class StoredMessageSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    message_id = fields.String(required=True)
    correlation_key = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": list(STATUSES)})
    sender = fields.String(required=True)
    received_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True, metadata={"description": "when it was delivered or refused"})
    reference = fields.String(allow_none=True)
    element_id = fields.String(allow_none=True)


class MessageListSchema(Schema):
    items = fields.List(fields.Nested(StoredMessageSchema), required=True, metadata={"description": "newest first"})


def _links(reference: str | None) -> dict[str, str]:
    return {"request": url_for("api_requests.request_record", reference=reference)} if reference else {}


def result_json(result: MessageResult) -> dict[str, Any]:
    duplicate = result.status == "duplicate"
    return {"id": result.id, "name": result.name, "message_id": result.message_id,
            "correlation_key": result.correlation_key,
            "status": result.first_status if duplicate else result.status, "duplicate": duplicate,
            "reference": result.reference, "element_id": result.element_id, "request_status": result.request_status,
            "expires_at": result.expires_at, "links": _links(result.reference)}


def _body_field(name: str, id_from_header: bool) -> str:
    """Where a refused value is in the request: a body field, the header, or one of the variables."""
    if name == "message_id" and id_from_header:
        return "Idempotency-Key"
    return name if name in BODY_FIELDS else f"variables.{name}"


def _send(message: IncomingMessage, id_from_header: bool) -> MessageResult:
    try:
        return send_message(message, services())
    except ValidationFailed as refused:
        fields_ = {_body_field(name, id_from_header): text for name, text in refused.field_errors.items()}
        raise ValidationFailed(refused.message, field_errors=fields_) from None


@blp.route("", methods=["POST"])
@blp.arguments(MessageIdHeaderSchema, location="headers", as_kwargs=True)
@blp.arguments(MessageSendSchema)
@blp.response(200, MessageResultSchema)
@blp.alt_response(202, schema=MessageResultSchema, description="Kept: no request waits for it yet")
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
def send(data: dict[str, Any], idempotency_key: str | None = None) -> Any:
    """Send a message

    Delivered to the request waiting for it (200, with the element and the request's status); kept when
    nobody waits yet and it has a time to live (202, with `expires_at`); a resend with the same message
    id answers 200 with `duplicate: true` and what became of the first. Nobody waiting and no time to live:
    404 saying what the request waits for. Variables the receiving element does not take: 422 naming them
    (`variables.<name>`). Needs the agents or integrations group.
    """
    user = api_user()
    require_groups(user, SENDERS, "send messages")
    message_id = data.get("message_id") or idempotency_key
    if not message_id:
        raise ValidationFailed("give the message a message_id (or send the Idempotency-Key header): a resend "
                               "with the same id then has no second effect", field="message_id")
    ttl = data.get("ttl_seconds")
    message = IncomingMessage(data["name"], data["correlation_key"], data["variables"], message_id, user.username,
                              ttl=None if ttl is None else timedelta(seconds=ttl))
    result = _send(message, id_from_header=not data.get("message_id"))
    return result_json(result), 202 if result.status == "buffered" else 200


def stored_json(message: StoredMessage) -> dict[str, Any]:
    return {"id": message.id, "name": message.name, "message_id": message.message_id,
            "correlation_key": message.correlation_key, "status": message.status, "sender": message.sender,
            "received_at": message.received_at, "expires_at": message.expires_at,
            "delivered_at": message.delivered_at, "reference": message.request_reference,
            "element_id": message.element_id}


@blp.route("")
@blp.arguments(MessageQuerySchema, location="query")
@blp.response(200, MessageListSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(403, response="FORBIDDEN")
def list_messages(query: dict[str, Any]) -> Any:
    """Recent messages

    Newest first, with what became of each: delivered (to which request and element), buffered (kept
    until `expires_at`), expired, or refused by the receiving element. Needs the admins or integrations group.
    """
    require_groups(api_user(), READERS, "read the messages")
    return {"items": [stored_json(m) for m in recent_messages(services(), query["limit"], query.get("status"))]}
