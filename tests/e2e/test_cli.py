"""The `bpmn-requests` command end to end: set up, deploy, validate, a dispute from submission to closure,
the audit trail and its tampering, and the demo. In-process with click's CliRunner, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import delete, select, update
from testenv import ROOT

from bpmn_requests.cli import main
from bpmn_requests.store.database import make_engine
from bpmn_requests.store.tables import audit_events
from bpmn_requests.usecases.seed_cases import SEED_CASES

Cli = Callable[..., Result]
DISPUTE = {"type": "billing_dispute", "customer_id": "C-1001", "invoice_numbers": ["INV-1001"],
           "disputed_amount": "700.00", "description": "Invoice INV-1001 uses the old unit price."}
INVESTIGATION = {"decision": "adjust", "corrected_amount": "11800.00", "reason_code": "pricing_error",
                 "note": "Checked the contract price list against the invoice lines."}
SEED_OUTCOMES = {1: "resolved", 2: "resolved", 3: "resolved", 4: "resolved", 5: "rejected", 6: "resolved",
                 7: "blocked", 8: "resolved"}


def command_line(database_url: str, **settings: Path) -> Cli:
    """Run `bpmn-requests ARGS...` in-process on `database_url`; only the settings named here are set."""
    env: dict[str, str | None] = {name: None for name in os.environ if name.startswith("BPMN_REQUESTS_")}
    env.update(BPMN_REQUESTS_DATABASE_URL=database_url, BPMN_REQUESTS_PROCESSES_DIR=str(ROOT / "processes"),
               BPMN_REQUESTS_FORMS_DIR=str(ROOT / "forms"),
               BPMN_REQUESTS_SANCTIONS_DIR=str(ROOT / "data" / "sanctions"))
    env.update({f"BPMN_REQUESTS_{name.upper()}": str(value) for name, value in settings.items()})
    runner = CliRunner(env=env)
    return lambda *args: runner.invoke(main, [str(a) for a in args], catch_exceptions=False)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result


def as_json(result: Result) -> Any:
    return json.loads(ok(result).stdout)


@pytest.fixture
def cli(database_url: str) -> Cli:
    return command_line(database_url)


@pytest.fixture
def demo_cli(cli: Cli) -> Cli:
    ok(cli("init", "--demo"))
    return cli


def line_of(text: str, fragment: str) -> int:
    """The 1-based number of the first line containing `fragment`."""
    return next(n for n, line in enumerate(text.splitlines(), start=1) if fragment in line)


# --- setting up and deploying --------------------------------------------------------------------------

def test_init_twice_loads_the_demo_once_and_keeps_the_deployment(cli: Cli) -> None:
    first = ok(cli("init", "--demo")).stdout
    assert "schema up to date" in first and "demo data loaded" in first
    assert "deployment 1: new version" in first

    second = ok(cli("init", "--demo")).stdout
    assert "demo data already loaded" in second and "deployment 1: unchanged" in second
    assert as_json(cli("--json", "init", "--demo")) | {"database": None} == {
        "database": None, "demo": "already loaded", "deployment": 1, "deployed": "unchanged"}


def test_deploy_records_a_new_version_only_when_the_processes_change(
        database_url: str, demo_cli: Cli, tmp_path: Path) -> None:
    assert "nothing changed; deployment 1 stays active" in ok(demo_cli("deploy")).stdout

    changed = tmp_path / "processes"
    shutil.copytree(ROOT / "processes", changed)
    diagram = changed / "billing_dispute.bpmn"
    diagram.write_text(diagram.read_text(encoding="utf-8").replace(
        'name="Investigate dispute"', 'name="Investigate the dispute"', 1), encoding="utf-8")
    edited = command_line(database_url, processes_dir=changed)

    assert as_json(edited("--json", "deploy")) == {"deployment": 2, "changed": True,
                                                   "files": ["processes/billing_dispute.bpmn"]}
    assert "nothing changed; deployment 2 stays active" in ok(edited("deploy")).stdout
    assert as_json(demo_cli("--json", "init"))["deployment"] == 3  # the shipped files again: a new version


def test_validate_passes_on_the_shipped_processes_and_forms(sqlite_url: str) -> None:
    cli = command_line(sqlite_url)
    result = ok(cli("validate", ROOT / "processes", ROOT / "forms"))
    assert "0 error(s)" in result.stdout
    assert as_json(cli("--json", "validate", ROOT / "processes", ROOT / "forms"))["ok"] is True


def test_validate_names_file_line_and_element_of_each_broken_part(sqlite_url: str, tmp_path: Path) -> None:
    processes, forms = tmp_path / "processes", tmp_path / "forms"
    shutil.copytree(ROOT / "processes", processes)
    shutil.copytree(ROOT / "forms", forms)
    dispute = processes / "billing_dispute.bpmn"
    text = dispute.read_text(encoding="utf-8")
    assert "decision == 'adjust'</bpmn:conditionExpression>" in text and 'camunda:topic="invoice/lookup"' in text
    text = text.replace("decision == 'adjust'</bpmn:conditionExpression>",
                        "decision == = 'adjust'</bpmn:conditionExpression>", 1)
    text = text.replace('camunda:topic="invoice/lookup"', 'camunda:topic="invoice/lookup-typo"', 1)
    dispute.write_text(text, encoding="utf-8")
    (forms / "approval.form").unlink()
    main_diagram = (processes / "customer_request.bpmn").read_text(encoding="utf-8")
    expected = {
        ("processes/billing_dispute.bpmn", line_of(text, "decision == = 'adjust'"), "Flow_DisputeAdjust"),
        ("processes/billing_dispute.bpmn", line_of(text, "invoice/lookup-typo"), "Task_LookupDisputedInvoice"),
        ("processes/customer_request.bpmn", line_of(main_diagram, '<bpmn:userTask id="Task_Approve"'),
         "Task_Approve"),
    }
    cli = command_line(sqlite_url)

    result = cli("validate", processes, forms)
    assert result.exit_code == 1
    for file, line, element in expected:
        assert f"{file}:{line} {element} " in result.stdout, (file, line, element, result.stdout)
    assert "3 error(s)" in result.stdout
    assert "condition does not compile" in result.stdout and "invoice/lookup-typo" in result.stdout
    assert "form 'approval'" in result.stdout

    report = json.loads(cli("--json", "validate", processes, forms).stdout)
    errors = {(p["file"], p["line"], p["element_id"]) for p in report["problems"] if p["severity"] == "error"}
    assert report["ok"] is False and errors == expected


# --- a dispute from submission to closure --------------------------------------------------------------

def only_task(tasks: list[dict[str, Any]], reference: str) -> dict[str, Any]:
    [task] = [t for t in tasks if t["reference"] == reference]
    return task


def test_dispute_runs_from_submission_to_closure_on_the_command_line(demo_cli: Cli, tmp_path: Path) -> None:
    cli = demo_cli
    request = tmp_path / "request.json"
    request.write_text(json.dumps(DISPUTE), encoding="utf-8")
    submitted = as_json(cli("--json", "requests", "submit", "--as", "alice", "--file", request))
    reference = submitted["reference"]
    assert submitted["status"] == "investigation"

    assert reference in ok(cli("tasks", "list", "--as", "bob")).stdout
    investigation = only_task(as_json(cli("--json", "tasks", "list", "--as", "bob")), reference)
    assert (investigation["element_id"], investigation["name"]) == ("Task_Investigate", "Investigate dispute")
    assert "claimed by bob" in ok(cli("tasks", "claim", investigation["id"], "--as", "bob")).stdout
    assert only_task(as_json(cli("--json", "tasks", "list", "--as", "bob")), reference)["claimed_by"] == "bob"
    data = tmp_path / "investigation.json"
    data.write_text(json.dumps(INVESTIGATION), encoding="utf-8")
    done = ok(cli("tasks", "complete", investigation["id"], "--as", "bob", "--data", f"@{data}")).stdout
    assert f"{reference}: Investigate dispute done; now awaiting_approval" in done

    assert reference not in ok(cli("tasks", "list", "--as", "bob")).stdout
    approval = only_task(as_json(cli("--json", "tasks", "list", "--as", "carol")), reference)
    assert (approval["element_id"], approval["required_level"]) == ("Task_Approve", 1)
    approved = as_json(cli("--json", "tasks", "complete", approval["id"], "--as", "carol", "--data",
                           '{"decision": "approve", "comment": "Matches the contract price list."}'))
    assert approved["status"] == "awaiting_customer"
    answered = ok(cli("requests", "respond", reference, "--as-customer", "--accept")).stdout
    assert f"{reference}: accepted; now closed" in answered

    view = as_json(cli("requests", "show", reference, "--json"))
    assert_complete_record(view, reference)
    assert reference in ok(cli("requests", "show", reference)).stdout
    listed = as_json(cli("--json", "requests", "list", "--status", "closed", "--type", "billing_dispute"))
    assert [(r["reference"], r["status"], r["type"]) for r in listed] == [(reference, "closed", "billing_dispute")]
    assert as_json(cli("--json", "requests", "list", "--status", "investigation")) == []
    assert "audit chain intact" in ok(cli("audit", "verify")).stdout


def assert_complete_record(view: dict[str, Any], reference: str) -> None:
    assert {"reference", "type", "status", "customer", "financial_references", "kyc", "approvals", "postings",
            "resolution", "audit"} <= set(view)
    assert (view["reference"], view["type"], view["status"], view["outcome"]) == (
        reference, "billing_dispute", "closed", "resolved")
    assert view["customer"]["id"] == "C-1001" and view["customer"]["name"]
    [invoice] = view["financial_references"]["invoices"]
    assert (invoice["number"], invoice["amount"], invoice["open_amount"]) == ("INV-1001", "12500.00", "11800.00")
    assert view["financial_references"]["payments"] == []
    kyc = view["kyc"]
    assert kyc["result"] == "clear" and kyc["list_date"] and isinstance(kyc["hits"], list)
    assert all("score" in hit for hit in kyc["hits"])
    [approval] = view["approvals"]
    assert (approval["level"], approval["approver"], approval["decision"]) == (1, "carol", "approve")
    assert approval["comment"] == "Matches the contract price list." and approval["decided_at"]
    [posting] = view["postings"]
    assert (posting["kind"], posting["amount"], posting["invoice"]) == ("credit_memo", "700.00", "INV-1001")
    assert posting["number"].startswith("CM-") and posting["approval_id"] == approval["id"]
    assert [a["number"] for a in view["resolution"]["adjustments"]] == [posting["number"]]
    actions = [event["action"] for event in view["audit"]]
    assert actions.count("request.submitted") == 1 and actions[-1] == "instance.completed"
    assert actions.count("approval.decided") == 1


# --- the audit trail -------------------------------------------------------------------------------------

def test_audit_verify_names_an_edited_event_and_a_deleted_one(database_url: str, demo_cli: Cli,
                                                                tmp_path: Path) -> None:
    request = tmp_path / "request.json"
    request.write_text(json.dumps(DISPUTE), encoding="utf-8")
    reference = as_json(demo_cli("--json", "requests", "submit", "--as", "alice", "--file", request))["reference"]
    intact = as_json(demo_cli("--json", "audit", "verify"))
    assert intact["ok"] is True

    db = make_engine(database_url)
    try:
        with db.begin() as conn:
            submitted = conn.execute(select(audit_events.c.seq, audit_events.c.after).where(
                audit_events.c.action == "request.submitted", audit_events.c.subject == reference)).one()
            forged = {**submitted.after, "details": {**submitted.after["details"], "disputed_amount": "7000.00"}}
            conn.execute(update(audit_events).where(audit_events.c.seq == submitted.seq).values(after=forged))
        edited = demo_cli("audit", "verify")
        assert edited.exit_code != 0
        assert f"BROKEN at event {submitted.seq}:" in edited.stdout and "changed" in edited.stdout
        report = json.loads(demo_cli("--json", "audit", "verify").stdout)
        assert (report["ok"], report["broken_seq"]) == (False, submitted.seq)

        with db.begin() as conn:  # put it back: the chain is whole again
            conn.execute(update(audit_events).where(audit_events.c.seq == submitted.seq)
                         .values(after=submitted.after))
        assert as_json(demo_cli("--json", "audit", "verify")) == intact

        gone = submitted.seq + 1
        with db.begin() as conn:
            conn.execute(delete(audit_events).where(audit_events.c.seq == gone))
        deleted = demo_cli("audit", "verify")
        assert deleted.exit_code != 0
        assert f"BROKEN at event {gone + 1}:" in deleted.stdout and f"event {gone} is missing" in deleted.stdout
    finally:
        db.dispose()


# --- the demo ----------------------------------------------------------------------------------------------

def test_demo_on_a_fresh_database_runs_all_eight_cases(demo_cli: Cli) -> None:
    results = as_json(demo_cli("--json", "demo"))
    assert [r["case"] for r in results] == [case.number for case in SEED_CASES] == list(SEED_OUTCOMES)
    assert [r["reference"] for r in results] == [f"REQ-{100000 + n}" for n in SEED_OUTCOMES]
    assert {r["case"]: (r["status"], r["outcome"]) for r in results} == {
        n: ("closed", outcome) for n, outcome in SEED_OUTCOMES.items()}
    postings = {r["case"]: [(p["kind"], p["amount"]) for p in r["postings"]] for r in results}
    assert postings[1] == [("credit_memo", "700.00")] and postings[5] == postings[7] == []
    assert len(results[3]["refusals"]) == 2
    assert "audit chain intact" in ok(demo_cli("audit", "verify")).stdout


def test_demo_prints_a_row_for_each_case(sqlite_url: str) -> None:
    cli = command_line(sqlite_url)
    ok(cli("init", "--demo"))
    printed = ok(cli("demo")).stdout
    for case in SEED_CASES:
        assert f"REQ-{100000 + case.number}" in printed
    assert "closed / blocked" in printed and "closed / rejected" in printed
