"""/api/v1: the versions of one process, rollback to a deployment, and moving running requests between
deployments. Reading is for every token; changing needs the admins group."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validates_schema

from ...usecases.migration import check_migration, migrate_all_safe, migrate_instance
from ...usecases.versions import activate_deployment, list_versions
from ..context import services
from .auth import api_user, authenticate, require_groups

blp = Blueprint("api_versions_admin", __name__, url_prefix="/api/v1",
                description="Process versions, rollback and migration of running requests")
blp.before_request(authenticate)
ADMINS = frozenset({"admins"})


class ProcessVersionSchema(Schema):
    process_id = fields.String(required=True)
    version = fields.Integer(required=True)
    deployment_id = fields.Integer(required=True)
    deployed_by = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    version_tag = fields.String(allow_none=True, metadata={"description": "camunda:versionTag of the process"})
    file_name = fields.String(required=True)
    sha256 = fields.String(required=True, metadata={"description": "of the process's file"})
    active = fields.Boolean(required=True, metadata={"description": "the version new requests run"})
    running = fields.Integer(required=True)
    completed = fields.Integer(required=True)


class ProcessVersionListSchema(Schema):
    process_id = fields.String(required=True)
    items = fields.List(fields.Nested(ProcessVersionSchema), required=True, metadata={
        "description": "newest first"})


class ActivatedSchema(Schema):
    deployment_id = fields.Integer(required=True)
    previous = fields.Integer(allow_none=True, metadata={"description": "the deployment active before"})
    changed = fields.Boolean(required=True, metadata={"description": "false when it was active already"})


class MigrationRequestSchema(Schema):
    from_deployment = fields.Integer(required=True, strict=True, data_key="from")
    to_deployment = fields.Integer(required=True, strict=True, data_key="to")
    instance_id = fields.String(metadata={"description": "move this instance only"})
    all_safe = fields.Boolean(load_default=False, metadata={"description": "move every instance found safe"})
    check_only = fields.Boolean(load_default=False, metadata={
        "description": "only check each instance of `from`; nothing moves"})

    @validates_schema
    def one_choice(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data.get("check_only") and bool(data.get("instance_id")) == bool(data.get("all_safe")):
            raise ValidationError("name one instance_id, or set all_safe (or check_only)", "instance_id")


class InstanceCheckSchema(Schema):
    instance_id = fields.String(required=True)
    reference = fields.String(required=True)
    status = fields.String(required=True)
    waiting_at = fields.List(fields.String(), required=True, metadata={"description": "process/element"})
    safe = fields.Boolean(required=True)
    reasons = fields.List(fields.String(), required=True, metadata={"description": "why it cannot move"})
    notes = fields.List(fields.String(), required=True)


class MigratedSchema(Schema):
    instance_id = fields.String(required=True)
    reference = fields.String(required=True)
    moved = fields.Boolean(required=True)
    from_deployment = fields.Integer(required=True)
    to_deployment = fields.Integer(required=True)
    tasks = fields.List(fields.String(), required=True, metadata={"description": "its open tasks after"})
    reason = fields.String(allow_none=True, metadata={"description": "why it did not move"})


class MigrationResultSchema(Schema):
    checked = fields.List(fields.Nested(InstanceCheckSchema), metadata={"description": "with check_only"})
    results = fields.List(fields.Nested(MigratedSchema), metadata={"description": "what each move did"})


@blp.route("/versions/<process_id>")
@blp.response(200, ProcessVersionListSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(404, response="NOT_FOUND")
def process_versions(process_id: str) -> Any:
    """Versions of a process

    Each version with its tag, deployment, who deployed it and when, whether new requests run it, and
    how many of its requests are running and completed.
    """
    return {"process_id": process_id, "items": [asdict(v) for v in list_versions(services(), process_id)]}


@blp.route("/deployments/<int:deployment_id>/activate", methods=["POST"])
@blp.response(200, ActivatedSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def activate(deployment_id: int) -> Any:
    """Make a deployment active (rollback)

    New requests start on it; running requests keep their own. Needs the admins group; a deployment
    that no longer passes validation is refused with 422.
    """
    user = api_user()
    require_groups(user, ADMINS, "activate deployments")
    return asdict(activate_deployment(deployment_id, user.username, services()))


@blp.route("/migrations", methods=["POST"])
@blp.arguments(MigrationRequestSchema)
@blp.response(200, MigrationResultSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def migrate(data: dict[str, Any]) -> Any:
    """Move running requests to another deployment

    `check_only` lists each unfinished instance of `from` as safe or unsafe with the reasons;
    `instance_id` moves one (409 with the reason when it cannot, and it stays untouched); `all_safe`
    moves every safe one, each in its own transaction. Needs the admins group.
    """
    user = api_user()
    require_groups(user, ADMINS, "move requests between deployments")
    source, target = data["from_deployment"], data["to_deployment"]
    if data["check_only"]:
        return {"checked": [asdict(i) for i in check_migration(source, target, services()).instances]}
    if data.get("instance_id"):
        moved = migrate_instance(data["instance_id"], target, user.username, services(), from_id=source)
        return {"results": [asdict(moved)]}
    return {"results": [asdict(r) for r in migrate_all_safe(source, target, user.username, services())]}
