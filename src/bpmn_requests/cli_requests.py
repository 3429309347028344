"""Command-line groups for requests, tasks, the audit chain and the demo."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from .cli_common import Context, command, read_json, read_json_arg
from .cli_output import console, emit_json, table
from .domain.errors import ValidationFailed
from .domain.requests import REQUEST_TYPES


def _task_rows(tasks: list[Any]) -> list[list[Any]]:
    return [[t.id, t.request_reference, t.request_type, t.name, t.priority, ", ".join(t.candidate_groups),
             t.claimed_by or "", t.created_at.strftime("%Y-%m-%d %H:%M")] for t in tasks]


def _task_json(t: Any) -> dict[str, Any]:
    return {"id": t.id, "reference": t.request_reference, "type": t.request_type, "element_id": t.element_id,
            "name": t.name, "form_id": t.form_id, "candidate_groups": list(t.candidate_groups),
            "claimed_by": t.claimed_by, "priority": t.priority, "required_level": t.required_level,
            "status": t.status, "created_at": t.created_at}


@click.group("requests")
def requests_group() -> None:
    """Submit, show, list and answer requests."""


@requests_group.command("submit")
@click.option("--as", "username", required=True, help="staff user who submits (on the customer's behalf)")
@click.option("--file", "file", required=True, type=click.Path(path_type=Path), help="request JSON")
@command
def submit(ctx: Context, username: str, file: Path) -> None:
    """Submit a request from a JSON file (type, customer_id, description, ...)."""
    from .usecases.submit import SubmitRequest, submit_request
    if not file.is_file():
        raise ValidationFailed(f"{file}: no such file", field="file")
    data = read_json(file.read_text(encoding="utf-8"), str(file))
    user = ctx.user(username)
    result = submit_request(SubmitRequest(data, user.username, data.get("channel", "cli")
                                          if isinstance(data, dict) else "cli"), ctx.services)
    if ctx.json:
        emit_json({"reference": result.reference, "status": result.status,
                   "customer_status": result.customer_status,
                   "tasks": [_task_json(t) for t in result.opened_tasks]})
        return
    console.print(f"{result.reference}: {result.status} ({result.customer_status})")
    for task in result.opened_tasks:
        console.print(f"  waiting: {task.name} [{', '.join(task.candidate_groups)}] task {task.id}")


@requests_group.command("show")
@click.argument("reference")
@command
def show(ctx: Context, reference: str) -> None:
    """Show every component of a request record."""
    from .usecases.queries import show_request
    view = show_request(reference, ctx.services)
    if ctx.json:
        emit_json(view)
        return
    _print_record(view)


def _print_record(view: dict[str, Any]) -> None:
    customer = view["customer"]
    console.print(f"[bold]{view['reference']}[/bold] {view['type']} - {view['status']} "
                  f"({view['customer_status']}){' - ' + view['outcome'] if view['outcome'] else ''}")
    console.print(f"customer {customer['id']} {customer['name']}; priority {view['priority']}; "
                  f"submitted {view['submitted_at']} by {view['requested_by']}")
    console.print(f"description: {view['description']}", markup=False)
    _print_unattended(view)
    refs = view["financial_references"]
    table("Invoices", ["number", "amount", "open", "status", "due"],
          [[i["number"], i["amount"], i["open_amount"], i["status"], i["due_on"]] for i in refs["invoices"]])
    if refs["payments"]:
        table("Payments", ["reference", "amount", "unapplied", "status"],
              [[p["reference"], p["amount"], p["unapplied_amount"], p["status"]] for p in refs["payments"]])
    if view["kyc"]:
        kyc = view["kyc"]
        console.print(f"KYC: {kyc.get('result')} (risk {kyc.get('risk')}, list of {kyc.get('list_date')}), "
                      f"{len(kyc.get('hits', []))} hit(s)")
        for hit in kyc.get("hits", []):
            console.print(f"  {hit.get('screened_name')} ~ {hit.get('list_name')} score {hit.get('score')}",
                          markup=False)
    table("Approvals", ["id", "level", "approver", "decision", "comment", "at"],
          [[a["id"], a["level"], a["approver"], a["decision"], a["comment"], a["decided_at"]]
           for a in view["approvals"]])
    table("Postings", ["kind", "number", "amount", "invoice", "approval"],
          [[p["kind"], p["number"], p["amount"], p["invoice"], p["approval_id"]] for p in view["postings"]])
    table("History", ["#", "at", "actor", "action", "after"],
          [[e["seq"], e["at"], e["actor"], e["action"], json.dumps(e["after"], default=str)[:140]] for e in view["audit"]])


def _print_unattended(view: dict[str, Any]) -> None:
    """The SLA, an open incident and what the request waits for."""
    sla = view.get("sla")
    if sla:
        state = (f"paused while waiting for the customer since {sla['paused_since']}" if sla["paused"]
                 else f"due {sla['due_at']}")
        breached = f"; breached {sla['breached_at']}" if sla["breached_at"] else ""
        console.print(f"SLA: {sla['target_hours']:g} business hours, {state}; {sla['used_percent']}% used{breached}")
    incident = view.get("incident")
    if incident:
        console.print(f"INCIDENT {incident['id']}: step {incident['element_id']} failed ({incident['error_code']}: "
                      f"{incident['message']}); see `bpmn-requests incidents show {incident['id']}`", markup=False)
    waiting = view.get("waiting_for") or {}
    waits = ([f"task {name}" for name in waiting.get("tasks", [])]
             + [f"message {m['message']} with key {m['correlation_key']}" for m in waiting.get("messages", [])]
             + [f"timer {t['name']} at {t['due_at']}" for t in waiting.get("timers", [])[:1]]
             + [f"a worker for {w['name']}" for w in waiting.get("workers", [])])
    if waits:
        console.print(f"waiting for: {'; '.join(waits)}", markup=False)


@requests_group.command("list")
@click.option("--status", help="internal status, e.g. investigation or closed")
@click.option("--type", "type_", type=click.Choice(REQUEST_TYPES), help="request type")
@click.option("--customer", help="customer id")
@click.option("--limit", default=100, show_default=True)
@command
def list_(ctx: Context, status: str | None, type_: str | None, customer: str | None, limit: int) -> None:
    """List requests, newest first."""
    from .usecases.queries import list_requests
    rows = list_requests(ctx.services, status=status, type=type_, customer_id=customer, limit=limit)
    if ctx.json:
        emit_json(rows)
        return
    table("Requests", ["reference", "type", "customer", "status", "outcome", "priority", "team", "submitted"],
          [[r["reference"], r["type"], r["customer_id"], r["status"], r["outcome"], r["priority"], r["team"],
            r["submitted_at"][:16]] for r in rows])


@requests_group.command("respond")
@click.argument("reference")
@click.option("--as-customer", is_flag=True, required=True, help="answer as the request's customer")
@click.option("--accept/--reject", default=None, help="accept or reject the proposed resolution")
@click.option("--comment", default="", help="the customer's comment")
@command
def respond(ctx: Context, reference: str, as_customer: bool, accept: bool | None, comment: str) -> None:
    """The customer's answer to a proposed resolution (reject reopens the investigation)."""
    from .usecases.tasks import respond_as_customer
    if accept is None:
        raise ValidationFailed("say --accept or --reject", field="accept")
    result = respond_as_customer(reference, accept, comment, ctx.services)
    if ctx.json:
        emit_json({"reference": result.reference, "status": result.status})
    else:
        console.print(f"{result.reference}: {'accepted' if accept else 'rejected'}; now {result.status}")


@click.group("tasks")
def tasks_group() -> None:
    """List, claim and complete user tasks."""


@tasks_group.command("list")
@click.option("--as", "username", help="only the tasks this user may do")
@command
def tasks_list(ctx: Context, username: str | None) -> None:
    """Open tasks (those a user may do with --as)."""
    from .usecases.tasks import tasks_for
    if username:
        tasks = tasks_for(ctx.user(username), ctx.services)
    else:
        with ctx.services.uow() as uow:
            tasks = uow.tasks.open_tasks()
    if ctx.json:
        emit_json([_task_json(t) for t in tasks])
        return
    table("Open tasks", ["id", "request", "type", "task", "priority", "groups", "claimed by", "since"],
          _task_rows(tasks))


@tasks_group.command("claim")
@click.argument("task_id")
@click.option("--as", "username", required=True)
@click.option("--release", is_flag=True, help="give the task back")
@command
def tasks_claim(ctx: Context, task_id: str, username: str, release: bool) -> None:
    """Claim a task so colleagues see who works on it."""
    from .usecases.tasks import claim_task
    task = claim_task(task_id, ctx.user(username), ctx.services, release=release)
    if ctx.json:
        emit_json(_task_json(task))
    else:
        console.print(f"task {task.id} {'released' if release else 'claimed by ' + username}")


@tasks_group.command("complete")
@click.argument("task_id")
@click.option("--as", "username", required=True)
@click.option("--data", "data", default="{}", help="form data as JSON, or @file.json")
@command
def tasks_complete(ctx: Context, task_id: str, username: str, data: str) -> None:
    """Complete a task with its form data; runs the request to its next wait state."""
    from .usecases.tasks import CompleteTask, complete_task
    payload = read_json_arg(data)
    result = complete_task(CompleteTask(task_id, ctx.user(username), payload), ctx.services)
    if ctx.json:
        emit_json({"reference": result.reference, "status": result.status,
                   "next_tasks": [_task_json(t) for t in result.next_tasks]})
        return
    console.print(f"{result.reference}: {result.task.name} done; now {result.status}")
    for task in result.next_tasks:
        console.print(f"  next for you: {task.name} task {task.id}")


@click.group("audit")
def audit() -> None:
    """The hash-chained audit trail."""


@audit.command("verify")
@command
def audit_verify(ctx: Context) -> None:
    """Check the hash chain and name the first broken event."""
    from .usecases.audit import verify_audit
    check = verify_audit(ctx.services)
    if ctx.json:
        emit_json(check.__dict__)
    elif check.ok:
        console.print(f"audit chain intact: {check.events} events")
    else:
        console.print(f"audit chain BROKEN at event {check.broken_seq}: {check.reason}", markup=False)
    if not check.ok:
        sys.exit(1)


@click.command("demo")
@click.option("--open", "leave_open", is_flag=True, help="also leave four requests waiting at different steps")
@command
def demo(ctx: Context, leave_open: bool) -> None:
    """Run the eight seed cases end to end and print what happened to each."""
    from .usecases.seed_cases import OPEN_CASES, SEED_CASES, run_seed_case
    cases = SEED_CASES + (OPEN_CASES if leave_open else ())
    results = [run_seed_case(case, ctx.services) for case in cases]
    if ctx.json:
        emit_json([{"case": r.case.number, "title": r.case.title, "reference": r.reference, "status": r.status,
                    "outcome": r.outcome, "postings": r.postings, "refusals": r.refusals,
                    "approvals": r.approvals} for r in results])
        return
    table("Seed cases", ["#", "case", "request", "outcome", "approvals", "postings", "refused"],
          [[r.case.number, r.case.title, r.reference, f"{r.status} / {r.outcome}",
            "; ".join(f"L{a['level']} {a['approver']} {a['decision']}" for a in r.approvals),
            "; ".join(f"{p['kind']} {p['number']} {p['amount']}" + (f" on {p['invoice']}" if p["invoice"] else "")
                      for p in r.postings),
            "; ".join(r.refusals)] for r in results])
