"""/api/v1/tasks: the tasks the token's user may do; claim, release and complete one."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from ...usecases.ports import HumanTask
from ...usecases.tasks import CompleteTask, claim_task, complete_task, tasks_for
from ..context import services
from .auth import api_user, authenticate
from .schemas import CompletedSchema, TaskDataSchema, TaskListSchema, TaskSchema

blp = Blueprint("api_tasks", __name__, url_prefix="/api/v1/tasks",
                description="User tasks: list, claim, release, complete")
blp.before_request(authenticate)


def task_json(task: HumanTask) -> dict[str, Any]:
    values = asdict(task)
    values["reference"] = values.pop("request_reference")
    values["links"] = {"claim": url_for("api_tasks.TaskClaim", task_id=task.id),
                       "complete": url_for("api_tasks.complete", task_id=task.id),
                       "request": url_for("api_requests.request_record", reference=task.request_reference)}
    return values


@blp.route("")
@blp.response(200, TaskListSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
def list_tasks() -> Any:
    """Tasks I may do

    Open tasks of the token's user: their groups, approvers only up to their level, most urgent first.
    """
    return {"items": [task_json(t) for t in tasks_for(api_user(), services())]}


@blp.route("/<task_id>/claim")
class TaskClaim(MethodView):
    @blp.response(200, TaskSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, task_id: str) -> Any:
        """Claim a task

        Colleagues see who works on it; a task claimed by someone else is refused with 409.
        """
        return task_json(claim_task(task_id, api_user(), services()))

    @blp.response(200, TaskSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def delete(self, task_id: str) -> Any:
        """Release a task

        Gives a claimed task back to its groups.
        """
        return task_json(claim_task(task_id, api_user(), services(), release=True))


@blp.route("/<task_id>/complete", methods=["POST"])
@blp.arguments(TaskDataSchema)
@blp.response(200, CompletedSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def complete(data: dict[str, Any], task_id: str) -> Any:
    """Complete a task

    The body is the task's form data. The form is validated on the server (422 with `field_errors`);
    four eyes and approval authority are enforced (403); a task already completed is a 409.
    """
    result = complete_task(CompleteTask(task_id, api_user(), data), services())
    return {"task": task_json(result.task), "reference": result.reference, "status": result.status,
            "next_tasks": [task_json(t) for t in result.next_tasks]}
