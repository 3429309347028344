"""Process versions on SQLite and PostgreSQL: numbering at deploy, running requests keeping theirs, new
requests taking the active one, rollback, the version page's heatmap, and the diff of two versions."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from support import (
    ROOT,
    complete,
    decision,
    dispute,
    ending,
    instance,
    investigation,
    memory_services,
    memory_state,
    open_elements,
)
from version_edits import (
    Sources,
    condition,
    form,
    insert_after,
    remove,
    rename,
    version_tag,
    without_boundary_events,
)

from bpmn_requests.cli import main
from bpmn_requests.domain.errors import NotFound
from bpmn_requests.usecases.audit import verify_audit
from bpmn_requests.usecases.context import Services
from bpmn_requests.usecases.tasks import respond_as_customer
from bpmn_requests.usecases.versions import (
    activate_deployment,
    diff_versions,
    heatmap_svg,
    list_versions,
    show_version,
)

PROCESSES = ["billing_dispute", "credit_adjustment", "credit_onboarding", "customer_request", "debt_restructuring",
             "payment_issue"]


@pytest.fixture
def services(system: Any) -> Services:
    return system.services  # type: ignore[no-any-return]


@pytest.fixture
def sources(tmp_path: Path) -> Sources:
    return Sources(tmp_path / "edited")


def numbers(services: Services) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for v in list_versions(services):
        found.setdefault(v.process_id, []).append(v.version)
    return found


def active(services: Services) -> dict[str, int]:
    return {v.process_id: v.version for v in list_versions(services) if v.active}


def variables(services: Services, reference: str) -> dict[str, Any]:
    row = instance(services, reference)
    with services.uow() as uow:
        deployment = uow.deployments.get(row.deployment_id)
    return services.engine.data(services.bundle(deployment), row.process_id, row.state)


def resolve(services: Services, reference: str, corrected: str = "11800.00") -> None:
    """Take a dispute waiting at the investigation through approval and the customer's acceptance."""
    complete(services, reference, "Task_Investigate", "bob", investigation(corrected))
    complete(services, reference, "Task_Approve", "carol", decision("approve"))
    respond_as_customer(reference, True, "Thank you.", services)


def test_the_first_deployment_numbers_every_process_once_with_its_file_hash(services: Services) -> None:
    versions = list_versions(services)
    assert sorted(v.process_id for v in versions) == PROCESSES
    for v in versions:
        assert (v.version, v.deployment_id, v.deployed_by, v.active) == (1, 1, "admin", True)
        assert v.sha256 == hashlib.sha256((ROOT / v.file_name).read_bytes()).hexdigest()
        assert (v.running, v.completed) == (0, 0)


def test_a_changed_diagram_is_a_new_version_of_that_process_and_of_the_processes_calling_it(
        services: Services, sources: Sources) -> None:
    sources.edit("credit_onboarding.bpmn", rename("Task_CreditReview", "Review the credit application"),
                 version_tag("credit_onboarding", "2026.11-b"))
    deployed = sources.deploy(services, by="dave")
    assert deployed.versions == {"credit_onboarding": 2, "customer_request": 2}
    assert numbers(services) == {**{p: [1] for p in PROCESSES}, "credit_onboarding": [2, 1],
                                 "customer_request": [2, 1]}
    [new] = [v for v in list_versions(services, "credit_onboarding") if v.version == 2]
    assert (new.version_tag, new.deployed_by, new.deployment_id, new.active) == ("2026.11-b", "dave", 2, True)
    assert new.sha256 == sources.sha256("credit_onboarding.bpmn")
    assert show_version("credit_onboarding", 2, services).files == {
        "processes/credit_onboarding.bpmn": sources.sha256("credit_onboarding.bpmn"),
        "forms/credit_review.form": hashlib.sha256((ROOT / "forms/credit_review.form").read_bytes()).hexdigest()}
    with services.uow() as uow:
        [event] = [e for e in uow.audit.all() if e.action == "deployment.created" and e.subject == "deployment:2"]
    assert event.actor == "dave" and event.after is not None
    assert event.after["versions"] == {"credit_onboarding": 2, "customer_request": 2}
    assert event.after["changed"] == ["processes/credit_onboarding.bpmn"]


def test_a_changed_form_is_a_new_version_of_each_process_that_uses_it_and_nothing_new_is_no_version(
        services: Services, sources: Sources) -> None:
    sources.change_form("approval", "Your decision on the proposed change")
    assert sources.deploy(services).versions == {"customer_request": 2}
    unchanged = sources.deploy(services)
    assert (unchanged.changed, unchanged.deployment_id, unchanged.versions) == (False, 2, {})
    assert numbers(services)["customer_request"] == [2, 1]


def test_running_requests_keep_their_version_while_new_requests_take_the_active_one(
        services: Services, sources: Sources) -> None:
    old = dispute(services)
    sources.edit("billing_dispute.bpmn", insert_after("Task_Investigate", "Task_CheckEvidence", "Check evidence"),
                 rename("Task_Investigate", "Investigate the dispute"))
    assert sources.deploy(services).versions == {"billing_dispute": 2, "customer_request": 2}
    new = dispute(services, "INV-1003", "C-1003")
    assert (instance(services, old).deployment_id, instance(services, new).deployment_id) == (1, 2)
    with services.uow() as uow:
        names = {t.request_reference: t.name for t in uow.tasks.open_tasks()}
    assert (names[old], names[new]) == ("Investigate dispute", "Investigate the dispute")

    resolve(services, old)
    resolve(services, new, corrected="17000.00")
    assert ending(services, old) == ending(services, new) == ("Event_Resolved", "resolved")
    assert "passed_Task_CheckEvidence" not in variables(services, old)  # the old diagram, to the end
    assert variables(services, new)["passed_Task_CheckEvidence"] is True
    counts = {(v.process_id, v.version): (v.running, v.completed) for v in list_versions(services)}
    assert counts[("billing_dispute", 1)] == counts[("billing_dispute", 2)] == (0, 1)
    assert counts[("customer_request", 1)] == counts[("customer_request", 2)] == (0, 1)
    assert verify_audit(services).ok


def test_rollback_makes_the_earlier_deployment_active_for_new_requests_only(
        services: Services, sources: Sources) -> None:
    sources.edit("billing_dispute.bpmn", condition("Flow_DisputeAdjust", "decision in ('adjust', 'correct')"))
    sources.deploy(services)
    on_two = dispute(services)
    rolled = activate_deployment(1, "admin", services)
    assert (rolled.deployment_id, rolled.previous, rolled.changed) == (1, 2, True)
    assert active(services) == {p: 1 for p in PROCESSES}
    on_one = dispute(services, "INV-1003", "C-1003")
    assert (instance(services, on_two).deployment_id, instance(services, on_one).deployment_id) == (2, 1)
    assert activate_deployment(1, "admin", services).changed is False
    with services.uow() as uow:
        [event] = [e for e in uow.audit.all() if e.action == "deployment.activated"]
    assert (event.actor, event.subject, event.before) == ("admin", "deployment:1", {"active": 2})
    assert event.after == {"active": 1, "versions": {p: 1 for p in PROCESSES}}
    resolve(services, on_two)  # the request started on deployment 2 finishes there
    assert ending(services, on_two) == ("Event_Resolved", "resolved")
    assert activate_deployment(2, "admin", services).changed and active(services)["billing_dispute"] == 2
    with pytest.raises(NotFound):
        activate_deployment(99, "admin", services)


def test_the_diff_lists_added_removed_and_changed_elements_and_forms(services: Services, sources: Sources) -> None:
    sources.copy_form("investigation", "dispute_investigation")
    sources.edit("billing_dispute.bpmn",
                 insert_after("Task_Investigate", "Task_CheckEvidence", "Check evidence"),
                 without_boundary_events("Task_ProvideInformation"), remove("Task_ProvideInformation"),
                 rename("Task_ComputeInvoiceAdjustment", "Compute the adjustment"),
                 condition("Flow_DisputeAdjust", "decision in ('adjust', 'correct')"),
                 form("Task_Investigate", "dispute_investigation"))
    sources.deploy(services)
    diff = diff_versions("billing_dispute", 1, 2, services)
    assert [(e.element_id, e.kind) for e in diff.added] == [
        ("Flow_Task_InvestigateToTask_CheckEvidence", "sequenceFlow"), ("Task_CheckEvidence", "scriptTask")]
    assert [(e.element_id, e.kind) for e in diff.removed] == [
        ("Event_DisputeInformationOverdue", "boundaryEvent"), ("Event_DisputeUnanswered", "endEvent"),
        ("Flow_CloseUnansweredDisputeToDisputeUnanswered", "sequenceFlow"),
        ("Flow_DisputeInformationOverdueToCloseUnansweredDispute", "sequenceFlow"),
        ("Flow_ProvideInformationToDisputeInvestigationRound", "sequenceFlow"),
        ("Task_CloseUnansweredDispute", "scriptTask"), ("Task_ProvideInformation", "receiveTask")]
    changed = {c.element_id: c.changes for c in diff.changed}
    assert changed["Task_ComputeInvoiceAdjustment"] == {"name": ("Compute invoice adjustment", "Compute the adjustment")}
    assert changed["Flow_DisputeAdjust"] == {"condition": ("decision == 'adjust'", "decision in ('adjust', 'correct')")}
    assert changed["Task_Investigate"] == {"form_id": ("investigation", "dispute_investigation")}
    assert changed["Flow_InvestigateToInvestigationDecision"] == {"source": ("Task_Investigate", "Task_CheckEvidence")}
    assert changed["Flow_RequestDisputeInformationToProvideInformation"] == {
        "target": ("Task_ProvideInformation", "Gateway_DisputeInvestigationRound")}
    assert [(f.name, f.change) for f in diff.forms] == [
        ("forms/customer_information.form", "removed"), ("forms/dispute_investigation.form", "added"),
        ("forms/investigation.form", "removed")]
    assert diff.files == ()
    caller = diff_versions("customer_request", 1, 2, services)
    assert (caller.added, caller.removed, caller.changed) == ((), (), ())
    assert [(f.name, f.change) for f in caller.files] == [("processes/billing_dispute.bpmn", "changed")]


def test_the_version_page_counts_waiting_requests_and_averages_the_time_spent_at_user_tasks(
        services: Services) -> None:
    first, second = dispute(services), dispute(services, "INV-1003", "C-1003")
    services.clock.advance(timedelta(hours=3))  # type: ignore[attr-defined]
    complete(services, first, "Task_Investigate", "bob", investigation("11800.00"))
    assert open_elements(services, first) == ["Task_Approve"]
    detail = show_version("billing_dispute", None, services)
    # The SLA timers on the investigation wait with it (counted at their boundary events).
    assert detail.waiting == {"Task_Investigate": 1, "Event_InvestigateReminder": 1, "Event_InvestigateBreached": 1}
    assert detail.durations == {"Task_Investigate": 3 * 3600.0} and detail.samples == {"Task_Investigate": 1}
    assert (detail.summary.running, detail.summary.completed) == (2, 0)
    caller = show_version("customer_request", 1, services)
    assert caller.waiting == {"Activity_BillingDispute": 1, "Task_Approve": 1, "Event_ApproveReminder": 1,
                              "Event_ApproveBreached": 1}
    svg = heatmap_svg(detail)
    assert svg is not None and svg.startswith("<svg") and "bpmn-badge-count" in svg and "3 h" in svg
    assert open_elements(services, second) == ["Task_Investigate"]
    with pytest.raises(NotFound, match="has no version 7"):
        show_version("billing_dispute", 7, services)


def test_deployments_made_before_versions_were_recorded_are_numbered_at_the_next_deploy(
        screener: Any, sources: Sources) -> None:
    services = memory_services(screener=screener)
    memory_state(services).process_versions.clear()  # as a database deployed before this feature
    sources.edit("payment_issue.bpmn", rename("Task_MatchPayment", "Match the payment"))
    assert sources.deploy(services).versions == {"payment_issue": 2, "customer_request": 2}
    assert numbers(services) == {**{p: [1] for p in PROCESSES}, "payment_issue": [2, 1],
                                 "customer_request": [2, 1]}
    assert {v.deployment_id for v in list_versions(services) if v.version == 1} == {1}


def test_the_command_line_lists_shows_compares_rolls_back_and_moves_requests(
        system: Any, services: Services, sources: Sources, tmp_path: Path) -> None:
    waiting = dispute(services)
    sources.edit("billing_dispute.bpmn", insert_after("Task_Investigate", "Task_CheckEvidence", "Check evidence"))
    sources.deploy(services)
    env: dict[str, str | None] = {name: None for name in os.environ if name.startswith("BPMN_REQUESTS_")}
    env.update(BPMN_REQUESTS_DATABASE_URL=system.settings.database_url,
               BPMN_REQUESTS_PROCESSES_DIR=str(sources.processes), BPMN_REQUESTS_FORMS_DIR=str(sources.forms),
               BPMN_REQUESTS_SANCTIONS_DIR=str(ROOT / "data" / "sanctions"))
    runner = CliRunner(env=env)

    def cli(*args: object) -> Any:
        result = runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
        assert result.exit_code == 0, result.stdout + result.stderr
        return json.loads(result.stdout) if "--json" in args else result.stdout

    listed = cli("versions", "list", "--process", "billing_dispute", "--json")
    assert [(v["version"], v["active"], v["running"]) for v in listed] == [(2, True, 0), (1, False, 1)]
    svg = tmp_path / "heat.svg"
    shown = cli("versions", "show", "billing_dispute", "1", "--svg", svg)
    assert "Task_Investigate" in shown and svg.read_text(encoding="utf-8").startswith("<svg")
    diff = cli("versions", "diff", "billing_dispute", "1", "2", "--json")
    assert [e["element_id"] for e in diff["added"]] == ["Flow_Task_InvestigateToTask_CheckEvidence",
                                                        "Task_CheckEvidence"]
    checked = cli("migrate", "check", "--from", 1, "--to", 2, "--json")
    assert (checked["safe"], checked["unsafe"]) == (1, 0)
    [moved] = cli("migrate", "run", "--from", 1, "--to", 2, "--all-safe", "--json")
    assert moved["moved"] and moved["reference"] == waiting
    assert instance(services, waiting).deployment_id == 2
    assert cli("versions", "activate", 1, "--json") == {"deployment_id": 1, "previous": 2, "changed": True}
    refused = runner.invoke(main, ["migrate", "run", "--from", "1", "--to", "2"])
    assert refused.exit_code == 1 and "--instance" in refused.stderr
