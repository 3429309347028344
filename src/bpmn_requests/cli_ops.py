"""`bpmn-requests messages` and `bpmn-requests incidents`: unattended work from a terminal.

Send a message to the request waiting for it (or keep it for one to come), list recent messages; list and
show incidents, and retry, skip or cancel them (admins; every action is audited by its use case).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from .cli_common import Context, command, read_json
from .cli_output import console, emit_json, table
from .domain.errors import ValidationFailed

STATUSES = ("buffered", "delivered", "expired", "refused")
INCIDENT_ID = click.IntRange(1, 2**31 - 1)  # ids are 32-bit in the database


def _json_option(value: str, option: str) -> Any:
    """A JSON option given inline or as @file.json."""
    if value.startswith("@"):
        path = Path(value[1:])
        if not path.is_file():
            raise ValidationFailed(f"{path}: no such file", field=option.lstrip("-"))
        return read_json(path.read_text(encoding="utf-8"), str(path))
    return read_json(value, option)


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


@click.group("messages")
def messages_group() -> None:
    """Send messages to waiting requests; list recent messages."""


@messages_group.command("send")
@click.argument("name")
@click.argument("key")
@click.option("--message-id", required=True, help="your id of this message: sending it again has no second effect")
@click.option("--data", "data", default="{}", help="the message's variables as a JSON object, or @file.json")
@click.option("--ttl", type=click.IntRange(min=0), default=None,
              help="seconds to keep it when no request waits yet (default: the configured time; 0: never)")
@click.option("--as", "username", required=True, help="who sends it (for the audit trail)")
@command
def send(ctx: Context, name: str, key: str, message_id: str, data: str, ttl: int | None, username: str) -> None:
    """Send message NAME with correlation key KEY (a request reference, a payment reference, ...)."""
    from .usecases.messages import IncomingMessage, send_message
    variables = _json_option(data, "--data")
    if not isinstance(variables, dict):
        raise ValidationFailed("--data must be a JSON object of the message's variables", field="data")
    sender = ctx.user(username)
    result = send_message(IncomingMessage(name, key, variables, message_id, sender.username,
                                          ttl=None if ttl is None else timedelta(seconds=ttl)), ctx.services)
    duplicate = result.status == "duplicate"
    status = result.first_status if duplicate else result.status
    if ctx.json:
        emit_json({"id": result.id, "name": result.name, "message_id": result.message_id,
                   "correlation_key": result.correlation_key, "status": status, "duplicate": duplicate,
                   "reference": result.reference, "element_id": result.element_id,
                   "request_status": result.request_status, "expires_at": result.expires_at})
        return
    if duplicate:
        console.print(f"message {message_id} was received before ({status}); nothing happened now")
    elif status == "buffered":
        console.print(f"no request waits for {name} {key} yet: kept until {_when(result.expires_at)}")
    else:
        console.print(f"delivered to {result.reference} at {result.element_id}; now {result.request_status}")


@messages_group.command("list")
@click.option("--status", type=click.Choice(STATUSES), default=None, help="only messages with this status")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@command
def list_messages(ctx: Context, status: str | None, limit: int) -> None:
    """Recent messages, newest first, with what became of each."""
    from .usecases.messages import recent_messages
    found = recent_messages(ctx.services, limit, status)
    if ctx.json:
        emit_json([{"id": m.id, "name": m.name, "message_id": m.message_id, "correlation_key": m.correlation_key,
                    "status": m.status, "sender": m.sender, "received_at": m.received_at,
                    "expires_at": m.expires_at, "delivered_at": m.delivered_at, "reference": m.request_reference,
                    "element_id": m.element_id} for m in found])
        return
    table("Messages", ["received", "message", "key", "status", "request", "element", "sender", "message id"],
          [[_when(m.received_at), m.name, m.correlation_key, m.status, m.request_reference, m.element_id,
            m.sender, m.message_id] for m in found])


def _incident_json(incident: Any, view: Any = None) -> dict[str, Any]:
    body = {"id": incident.id, "reference": incident.request_reference, "instance_id": incident.instance_id,
            "element_id": incident.element_id, "error_code": incident.error_code, "message": incident.message,
            "attempts": incident.attempts, "created_at": incident.created_at, "open": incident.open,
            "resolution": incident.resolution, "resolved_by": incident.resolved_by,
            "resolved_at": incident.resolved_at, "resolution_data": incident.resolution_data, "data": incident.data}
    if view is not None:
        body.update(request_status=view.request_status, instance_status=view.instance_status)
    return body


@click.group("incidents")
def incidents_group() -> None:
    """Steps that failed for good: list, show, retry, skip or cancel (admins)."""


@incidents_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="resolved incidents too")
@command
def list_incidents(ctx: Context, show_all: bool) -> None:
    """Open incidents, newest first."""
    from .usecases.incidents import list_incidents as incidents
    found = incidents(ctx.services, open_only=not show_all)
    if ctx.json:
        emit_json([_incident_json(i) for i in found])
        return
    table("Incidents", ["id", "request", "element", "error", "message", "attempts", "since", "resolution"],
          [[i.id, i.request_reference, i.element_id, i.error_code, i.message, i.attempts, _when(i.created_at),
            "open" if i.open else f"{i.resolution} by {i.resolved_by}"] for i in found])


def _print_incident(incident: Any, view: Any) -> None:
    state = "open" if incident.open else f"{incident.resolution} by {incident.resolved_by} {_when(incident.resolved_at)}"
    console.print(f"incident {incident.id} of {incident.request_reference} ({state}); request "
                  f"{view.request_status}, instance {view.instance_status}")
    console.print(f"step {incident.element_id}: {incident.error_code}: {incident.message}", markup=False)
    console.print(f"{incident.attempts} attempt(s); since {_when(incident.created_at)}")
    console.print("variables at the failure:")
    click.echo(json.dumps(incident.data, indent=2, sort_keys=True, default=str))


@incidents_group.command("show")
@click.argument("incident_id", type=INCIDENT_ID)
@command
def show(ctx: Context, incident_id: int) -> None:
    """One incident with the process variables at the failure."""
    from .usecases.incidents import incident_view
    view = incident_view(incident_id, ctx.services)
    if ctx.json:
        emit_json(_incident_json(view.incident, view))
        return
    _print_incident(view.incident, view)


def _after(ctx: Context, incident_id: int, done: str) -> None:
    from .usecases.incidents import incident_view
    view = incident_view(incident_id, ctx.services)
    if ctx.json:
        emit_json(_incident_json(view.incident, view))
    else:
        console.print(f"incident {incident_id} of {view.incident.request_reference}: {done}; request "
                      f"{view.request_status}, instance {view.instance_status}")


@incidents_group.command("retry")
@click.argument("incident_id", type=INCIDENT_ID)
@click.option("--as", "username", required=True, help="the admin who retries")
@command
def retry(ctx: Context, incident_id: int, username: str) -> None:
    """Run the failed step again (now, with a fresh set of retries)."""
    from .usecases.incidents import retry_incident
    retry_incident(incident_id, ctx.user(username), ctx.services)
    _after(ctx, incident_id, "the step is due again")


@incidents_group.command("skip")
@click.argument("incident_id", type=INCIDENT_ID)
@click.option("--result", "result", required=True, help="the step's outputs as a JSON object, or @file.json")
@click.option("--as", "username", required=True, help="the admin who skips the step")
@command
def skip(ctx: Context, incident_id: int, result: str, username: str) -> None:
    """Complete the failed step with the result it should have given, and go on."""
    from .usecases.incidents import skip_incident
    skip_incident(incident_id, _json_option(result, "--result"), ctx.user(username), ctx.services)
    _after(ctx, incident_id, "the step was skipped")


@incidents_group.command("cancel")
@click.argument("incident_id", type=INCIDENT_ID)
@click.option("--reason", required=True, help="why the request is cancelled")
@click.option("--as", "username", required=True, help="the admin who cancels")
@command
def cancel(ctx: Context, incident_id: int, reason: str, username: str) -> None:
    """Cancel the request: its instance and open tasks stop and it is closed as cancelled."""
    from .usecases.incidents import cancel_incident
    cancel_incident(incident_id, reason, ctx.user(username), ctx.services)
    _after(ctx, incident_id, "the request is cancelled")
