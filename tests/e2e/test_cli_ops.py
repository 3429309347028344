"""`bpmn-requests messages` and `bpmn-requests incidents` end to end, in-process with click's CliRunner, on
SQLite and PostgreSQL. Requests are moved along by the use cases on the same database (a worker's part is
`run_due_work`); the incident comes from a credit bureau that refuses for good.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from click.testing import CliRunner, Result
from testenv import ROOT
from unattended_helpers import NEED_INFO, ONBOARDING, RefusingBureau

from bpmn_requests.bootstrap import build_system
from bpmn_requests.cli import main
from bpmn_requests.config import Settings
from bpmn_requests.usecases.incidents import list_incidents
from bpmn_requests.usecases.jobs import run_due_work
from bpmn_requests.usecases.submit import SubmitRequest, submit_request
from bpmn_requests.usecases.tasks import CompleteTask, complete_task

Cli = Callable[..., Result]
DISPUTE = {"type": "billing_dispute", "customer_id": "C-1001", "invoice_numbers": ["INV-1001"],
           "description": "Invoice INV-1001 uses the old unit price."}


@pytest.fixture
def cli(database_url: str) -> Cli:
    env: dict[str, str | None] = {name: None for name in os.environ if name.startswith("BPMN_REQUESTS_")}
    env.update(BPMN_REQUESTS_DATABASE_URL=database_url, BPMN_REQUESTS_PROCESSES_DIR=str(ROOT / "processes"),
               BPMN_REQUESTS_FORMS_DIR=str(ROOT / "forms"),
               BPMN_REQUESTS_SANCTIONS_DIR=str(ROOT / "data" / "sanctions"))
    runner = CliRunner(env=env)
    run: Cli = lambda *args: runner.invoke(main, [str(a) for a in args], catch_exceptions=False)  # noqa: E731
    assert run("init", "--demo").exit_code == 0
    return run


@pytest.fixture
def services(cli: Cli, database_url: str, screener: object) -> Iterator[Any]:
    """The use cases on the same database as the command line, with a credit bureau that refuses."""
    built = build_system(Settings(database_url=database_url, processes_dir=ROOT / "processes",
                                  forms_dir=ROOT / "forms", sanctions_dir=ROOT / "data" / "sanctions"),
                         screener=screener)
    built.services.bureau = RefusingBureau()
    yield built.services
    built.dispose()


def ok(result: Result) -> Result:
    assert result.exit_code == 0, f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result


def refused(result: Result, *fragments: str) -> None:
    """An error is one line on stderr and a non-zero exit."""
    assert result.exit_code == 1, result.stdout
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def submitted(services: Any, request: dict[str, Any]) -> str:
    reference = submit_request(SubmitRequest(request, "alice", "cli"), services).reference
    run_due_work(services)
    return reference


def asked(services: Any) -> str:
    """A dispute waiting for the customer's answer to a question."""
    reference = submitted(services, DISPUTE)
    with services.uow() as uow:
        task = next(t for t in uow.tasks.open_for_request(reference) if t.element_id == "Task_Investigate")
        bob = uow.users.get("bob")
    complete_task(CompleteTask(task.id, bob, NEED_INFO), services)
    return reference


def test_messages_send_delivers_keeps_refuses_and_ignores_a_resend(cli: Cli, services: Any) -> None:
    reference = asked(services)
    answer = json.dumps({"answer": "USD 10.00 a unit."})
    sent = ok(cli("messages", "send", "customer_answer", reference, "--message-id", "call-1", "--data", answer,
                  "--as", "alice")).stdout
    assert f"delivered to {reference} at Task_ProvideInformation; now investigation" in sent
    again = ok(cli("messages", "send", "customer_answer", reference, "--message-id", "call-1", "--data", answer,
                   "--as", "alice")).stdout
    assert "message call-1 was received before (delivered); nothing happened now" in again
    refused(cli("messages", "send", "customer_answer", reference, "--message-id", "call-2", "--data", answer,
                "--ttl", "0", "--as", "alice"),
            f"request {reference} does not wait for message 'customer_answer' now")
    kept = as_json(cli("--json", "messages", "send", "payment_received", "PAY-7001", "--message-id", "feed-1",
                       "--as", "alice"))
    assert (kept["status"], kept["duplicate"], kept["reference"]) == ("buffered", False, None)
    refused(cli("messages", "send", "payment_received", "PAY-7001", "--message-id", "feed-2", "--data", "[1]",
                "--as", "alice"), "--data must be a JSON object")
    refused(cli("messages", "send", "payment_received", "PAY-7001", "--message-id", "feed-3", "--data", "{",
                "--as", "alice"), "malformed JSON")
    refused(cli("messages", "send", "payment_received", "PAY-7001", "--message-id", "feed-4", "--as", "nobody"),
            "no user nobody")
    listed = as_json(cli("messages", "list", "--json"))
    assert [(m["message_id"], m["status"]) for m in listed] == [("feed-1", "buffered"), ("call-1", "delivered")]
    assert [m["message_id"] for m in as_json(cli("--json", "messages", "list", "--status", "delivered"))] == [
        "call-1"]
    table = ok(cli("messages", "list")).stdout
    assert "customer_answer" in table and reference in table and "feed-1" in table


def as_json(result: Result) -> Any:
    return json.loads(ok(result).stdout)


def test_incidents_list_show_retry_skip_and_cancel(cli: Cli, services: Any) -> None:
    reference = submitted(services, ONBOARDING)
    [incident] = list_incidents(services)
    assert ok(cli("incidents", "list")).stdout.count("bureau_refused") == 1
    shown = ok(cli("incidents", "show", incident.id)).stdout
    assert f"incident {incident.id} of {reference} (open)" in shown and "Task_ScoreApplicant" in shown
    assert '"customer_id": "C-1006"' in shown
    assert as_json(cli("--json", "incidents", "show", incident.id))["instance_status"] == "incident"
    refused(cli("incidents", "retry", incident.id, "--as", "grace"), "only admins resolve incidents")
    refused(cli("incidents", "show", 999), "no incident 999")

    retried = as_json(cli("--json", "incidents", "retry", incident.id, "--as", "admin"))
    assert (retried["resolution"], retried["instance_status"]) == ("retried", "running")
    refused(cli("incidents", "retry", incident.id, "--as", "admin"), "already resolved")
    run_due_work(services)  # the bureau still refuses: a new incident
    [second] = list_incidents(services)
    refused(cli("incidents", "skip", second.id, "--result", "[70]", "--as", "admin"), "JSON object")
    refused(cli("incidents", "skip", second.id, "--result", "@/no/such/file.json", "--as", "admin"), "no such file")
    skipped = ok(cli("incidents", "skip", second.id, "--as", "admin", "--result",
                     '{"credit_score": 70, "risk_class": "B", "recommended_limit": "20000.00"}')).stdout
    assert f"incident {second.id} of {reference}: the step was skipped" in skipped
    with services.uow() as uow:
        assert [t.element_id for t in uow.tasks.open_for_request(reference)] == ["Task_CreditReview"]
    assert as_json(cli("--json", "incidents", "list")) == []
    assert len(as_json(cli("--json", "incidents", "list", "--all"))) == 2


def test_incidents_cancel_closes_the_request(cli: Cli, services: Any) -> None:
    reference = submitted(services, ONBOARDING)
    [incident] = list_incidents(services)
    refused(cli("incidents", "cancel", incident.id, "--reason", " ", "--as", "admin"), "say why")
    done = ok(cli("incidents", "cancel", incident.id, "--reason", "Withdrawn by phone.", "--as", "admin")).stdout
    assert f"incident {incident.id} of {reference}: the request is cancelled" in done
    record = as_json(cli("--json", "requests", "show", reference))
    assert (record["status"], record["outcome"]) == ("closed", "cancelled")
    assert "request.cancelled" in [e["action"] for e in record["audit"]]
