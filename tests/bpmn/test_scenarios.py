"""`bpmn-requests test-scenarios`: every diagram's scenarios pass and together reach every element.

A broken scenario fails with its first difference, and the run exits non-zero.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from testenv import ROOT

from bpmn_requests.cli import main
from bpmn_requests.engine.scenario_files import SUFFIX

PROCESSES = ROOT / "processes"
FORMS = ROOT / "forms"


def run(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(main, ["test-scenarios", *args, "--forms", str(FORMS), "--json"])
    assert result.output.strip().startswith("{"), result.output
    return result.exit_code, json.loads(result.output)


def test_every_diagram_has_a_scenario_file() -> None:
    diagrams = sorted(p.name.removesuffix(".bpmn") for p in PROCESSES.glob("*.bpmn"))
    scenarios = sorted(p.name.removesuffix(SUFFIX) for p in PROCESSES.glob(f"*{SUFFIX}"))
    assert scenarios == diagrams


def test_all_scenarios_pass_and_reach_every_element() -> None:
    code, report = run(str(PROCESSES), "--require-coverage")
    failed = [f"{s['diagram']}: {s['name']}: {s['difference']}" for s in report["scenarios"] if not s["passed"]]
    assert not failed, failed
    uncovered = {c["diagram"]: [m["id"] for m in c["missing"]] for c in report["coverage"] if c["missing"]}
    assert not uncovered, uncovered
    assert {c["diagram"] for c in report["coverage"]} == {p.name for p in PROCESSES.glob("*.bpmn")}
    assert all(c["percent"] == 100.0 and c["elements"] > 0 for c in report["coverage"])
    assert code == 0 and report["ok"]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """The shipped diagrams and decision tables in a folder of their own, without scenario files."""
    for path in PROCESSES.iterdir():
        if path.suffix in (".bpmn", ".dmn"):
            shutil.copy(path, tmp_path / path.name)
    return tmp_path


def scenario(**overrides: Any) -> dict[str, Any]:
    """A passing credit onboarding scenario, changed by `overrides`."""
    body: dict[str, Any] = {
        "name": "approve a limit",
        "start": {"customer_id": "C-1001", "requested_limit": 50000},
        "services": {"credit/score": {"credit_score": 72, "risk_class": "B", "recommended_limit": 40000}},
        "tasks": {"Task_CreditReview": {"decision": "approve_limit", "approved_limit": 40000, "note": "Fine."}},
        "expect": {"end": "Event_CreditLimitProposed", "data": {"action": "credit_limit_change",
                                                                  "action_amount": "40000.00"}},
    }
    body.update(overrides)
    return body


def write(workspace: Path, *scenarios: dict[str, Any]) -> Path:
    path = workspace / f"credit_onboarding{SUFFIX}"
    path.write_text(json.dumps({"scenarios": list(scenarios)}), encoding="utf-8")
    return path


def test_a_passing_scenario_reports_what_it_did_not_reach(workspace: Path) -> None:
    code, report = run(str(write(workspace, scenario())))
    assert code == 0 and report["scenarios"][0]["passed"]
    [coverage] = report["coverage"]
    missing = {m["id"] for m in coverage["missing"]}
    sla = {"Flow_CreditReviewReminderToRemind", "Task_CreditReviewRemind", "Flow_CreditReviewRemindToReminded",
           "Event_CreditReviewReminded", "Flow_CreditReviewBreachedToEscalate", "Task_CreditReviewEscalate",
           "Flow_CreditReviewEscalateToEscalated", "Event_CreditReviewEscalated"}
    # The SLA timers waited on the review (reached) but never fired: what follows them was not reached.
    assert missing == {"Flow_LimitRejected", "Task_RejectOnboarding", "Flow_RejectOnboardingToOnboardingRejected",
                       "Event_OnboardingRejected"} | sla
    assert 0 < coverage["percent"] < 100


def test_require_coverage_fails_an_incomplete_set(workspace: Path) -> None:
    code, report = run(str(write(workspace, scenario())), "--require-coverage")
    assert code == 1 and not report["ok"]


@pytest.mark.parametrize(("change", "difference"), [
    ({"expect": {"end": "Event_OnboardingRejected"}},
     "expected to end at Event_OnboardingRejected, ended at Event_CreditLimitProposed"),
    ({"expect": {"data": {"action_amount": 45000}}}, "expected action_amount = 45000, got 40000"),
    ({"expect": {"data": {"approved_by": "carol"}}}, "expected approved_by = \"carol\", but approved_by is not set"),
    ({"expect": {"path": ["Task_RejectOnboarding"]}}, "expected to pass Task_RejectOnboarding, which was not reached"),
    ({"tasks": {}}, "stopped at user task Task_CreditReview: the scenario gives no (more) data for it"),
    ({"services": {}}, "service task Task_ScoreApplicant (topic credit/score) ran, but the scenario gives no result"),
    ({"tasks": {"Task_CreditReview": {"decision": "approve_limit", "note": "No limit given."}}},
     "form 'credit_review' refuses the data"),
    ({"tasks": {"Task_CreditReview": [{"decision": "reject", "note": "No."}, {"decision": "reject", "note": "No."}]},
      "expect": {}}, "the scenario gives more than the run used: 'Task_CreditReview' (1 submission(s) unused)"),
    ({"expect": {"error": "score service down"}}, "expected an error containing 'score service down', but the "
                                                  "process ended at Event_CreditLimitProposed"),
    ({"services": {"credit/score": {"raise": {"code": "unavailable", "message": "score service down"}}}},
     "stopped with an error: score service down"),
])
def test_a_broken_scenario_fails_with_its_first_difference(workspace: Path, change: dict[str, Any],
                                                           difference: str) -> None:
    code, report = run(str(write(workspace, scenario(**change))))
    [result] = report["scenarios"]
    assert code == 1 and not result["passed"]
    assert difference in result["difference"], result["difference"]


SLA = {"task/remind": {"reminded_task": "Task_CreditReview"},
       "task/escalate": {"escalated_task": "Task_CreditReview", "escalated_to": "ar_supervisors"}}


def test_named_timers_fire_in_order_when_they_wait_and_the_clock_moves_to_them(workspace: Path) -> None:
    base = scenario()
    code, report = run(str(write(workspace, scenario(
        timers=["Event_CreditReviewReminder", "Event_CreditReviewBreached"],
        services={**base["services"], **SLA},
        expect={**base["expect"], "path": ["Task_CreditReviewRemind", "Event_CreditReviewReminded",
                                           "Task_CreditReviewEscalate", "Event_CreditReviewEscalated"]}))))
    assert code == 0, report["scenarios"][0]["difference"]
    visited = report["scenarios"][0]["visited"]
    assert visited.index("Task_CreditReviewRemind") < visited.index("Task_CreditReviewEscalate") \
        < visited.index("Task_SetCreditLimit")


@pytest.mark.parametrize(("change", "difference"), [
    ({"timers": ["Event_CreditReviewBreached", "Event_OnboardingRequested"]},
     "the scenario gives more than the run used: timer 'Event_OnboardingRequested' (it never waited)"),
    ({"timers": ["Event_CreditReviewBreached"], "services": {"credit/score": {"credit_score": 72, "risk_class": "B",
                                                                             "recommended_limit": 40000}}},
     # The clock moves to the breach, so the reminder, due earlier, fires too.
     "service task Task_CreditReviewRemind (topic task/remind) ran, but the scenario gives no result"),
    ({"tasks": {}, "timers": []},
     'stopped at user task Task_CreditReview: the scenario gives no (more) data for it; add it under "tasks" '
     '(or name timer Event_CreditReviewReminder, timer Event_CreditReviewBreached in "timers")'),
])
def test_timers_a_scenario_names_must_fire_and_what_they_start_must_be_answered(
        workspace: Path, change: dict[str, Any], difference: str) -> None:
    body = scenario(services={**scenario()["services"], **SLA})
    body.update(change)
    code, report = run(str(write(workspace, body)))
    [result] = report["scenarios"]
    assert code == 1 and difference in result["difference"], result["difference"]


def payment_scenario(workspace: Path, **overrides: Any) -> Path:
    """A payment issue whose payment the bank reports later (message to the catch event)."""
    body: dict[str, Any] = {
        "name": "the bank reports the payment",
        "start": {"customer_id": "C-1001", "payment_references": ["PAY-9"]},
        "services": {"payment/match": [{"raise": {"code": "payment_not_found", "message": "no PAY-9"}},
                                       {"payment_reference": "PAY-9", "payment_amount": 10, "matched_invoice": "INV-1",
                                        "match_confidence": 0.99, "match_method": "remittance", "auto_apply": True}],
                     "payment/receive": {"payment_reference": "PAY-9", "payment_received": True}},
        "messages": {"Event_PaymentReceived": {"payment_reference": "PAY-9", "payment_amount": "10.00"}},
        "expect": {"end": "Event_PaymentApplicationProposed", "data": {"awaited_payment": "PAY-9"}},
    }
    body.update(overrides)
    path = workspace / f"payment_issue{SUFFIX}"
    path.write_text(json.dumps({"scenarios": [body]}), encoding="utf-8")
    return path


def test_a_message_reaches_its_catch_event_after_a_business_error_the_boundary_caught(workspace: Path) -> None:
    code, report = run(str(payment_scenario(workspace)))
    assert code == 0, report["scenarios"][0]["difference"]
    assert {"Event_PaymentNotFound", "Event_PaymentReceived", "Task_ReceivePayment"} <= set(
        report["scenarios"][0]["visited"])


@pytest.mark.parametrize(("messages", "difference"), [
    ({"Event_PaymentReceived": {"payment_reference": "PAY-9", "approved": True}},
     "variables.approved: message 'payment_received' may not set it at Event_PaymentReceived"),
    ({}, 'stopped at message \'payment_received\' at Event_PaymentReceived: the scenario gives no (more) data '
         'for it; add it under "messages" (or name timer Event_BankWaitOver in "timers")'),
])
def test_a_message_sets_only_the_variables_its_catch_event_takes(workspace: Path, messages: dict[str, Any],
                                                                 difference: str) -> None:
    code, report = run(str(payment_scenario(workspace, messages=messages)))
    assert code == 1 and difference in report["scenarios"][0]["difference"], report["scenarios"][0]["difference"]


def test_a_receive_task_takes_its_data_from_tasks_checked_by_its_form(workspace: Path) -> None:
    path = workspace / f"billing_dispute{SUFFIX}"
    path.write_text(json.dumps({"scenarios": [{
        "name": "the customer's answer is refused by its form",
        "start": {"customer_id": "C-1001", "invoice_numbers": ["INV-1001"], "reason_code": None,
                  "rfi_answer_period": "P14D"},
        "services": {"invoice/lookup": {"invoice_number": "INV-1001", "invoice_amount": 10},
                     "notify/customer": {"message_key": "M-1"}},
        "tasks": {"Task_Investigate": {"decision": "need_info", "question": "Which?", "note": "-"},
                  "Task_ProvideInformation": {"answer": ""}},
    }]}), encoding="utf-8")
    code, report = run(str(path))
    assert code == 1
    assert "Task_ProvideInformation: form 'customer_information' refuses the data" in report["scenarios"][0]["difference"]


def test_a_broken_scenario_is_shown_with_its_difference_to_people(workspace: Path) -> None:
    path = write(workspace, scenario(expect={"end": "Event_OnboardingRejected"}), scenario(name="second"))
    result = CliRunner().invoke(main, ["test-scenarios", str(path), "--forms", str(FORMS)])
    assert result.exit_code == 1
    assert "FAIL credit_onboarding.bpmn: approve a limit" in result.output
    assert "expected to end at Event_OnboardingRejected, ended at Event_CreditLimitProposed" in result.output
    assert "PASS credit_onboarding.bpmn: second" in result.output
    assert "1 passed, 1 failed" in result.output


def test_a_malformed_scenario_file_is_refused_with_its_place(workspace: Path) -> None:
    path = write(workspace, scenario(expected={"end": "x"}))
    result = CliRunner().invoke(main, ["test-scenarios", str(path)])
    assert result.exit_code == 1
    assert "scenario 1: unknown key 'expected'" in result.output
