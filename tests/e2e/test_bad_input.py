"""Every bad input gets a clear error naming what is wrong, and writes nothing.

Each case runs through the use cases and through the command line (in-process, on the same database). "Writes
nothing" means every table of the schema has the same rows afterwards and the audit chain the same length.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from testenv import ROOT

from bpmn_requests.cli import main
from bpmn_requests.domain.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from bpmn_requests.store import unit_of_work  # noqa: F401  (registers every table on the metadata)
from bpmn_requests.store.base import metadata
from bpmn_requests.usecases.audit import verify_audit
from bpmn_requests.usecases.queries import show_request
from bpmn_requests.usecases.submit import SubmitRequest, submit_request
from bpmn_requests.usecases.tasks import CompleteTask, complete_task, respond_as_customer

DISPUTE = {"type": "billing_dispute", "customer_id": "C-1001", "invoice_numbers": ["INV-1001"],
           "description": "Invoice INV-1001 uses the old unit price."}
INVESTIGATION = {"decision": "adjust", "corrected_amount": "11800.00", "reason_code": "pricing_error",
                 "note": "Checked the contract price list."}
UNKNOWN_REFERENCE = "REQ-999999"


# --- the database before and after ----------------------------------------------------------------------

def table_rows(system: Any) -> dict[str, list[str]]:
    """Every row of every table of the schema, as sorted text, by table name."""
    with system.services.uow() as uow:
        return {table.name: sorted(repr(tuple(row)) for row in uow.session.execute(select(table)))
                for table in metadata.sorted_tables}


def assert_writes_nothing(system: Any, action: Callable[[], Any]) -> Any:
    before, chain = table_rows(system), verify_audit(system.services).events
    outcome = action()
    after = table_rows(system)
    changed = {name: (len(before[name]), len(after[name])) for name in before if before[name] != after[name]}
    assert changed == {}, f"tables changed (rows before, after): {changed}"
    assert verify_audit(system.services).events == chain
    return outcome


# --- the command line on the test's database --------------------------------------------------------------

def cli_env(database_url: str) -> dict[str, str | None]:
    """The settings the command line reads; every other BPMN_REQUESTS_ variable of this process removed."""
    env: dict[str, str | None] = {name: None for name in os.environ if name.startswith("BPMN_REQUESTS_")}
    env.update(BPMN_REQUESTS_DATABASE_URL=database_url, BPMN_REQUESTS_PROCESSES_DIR=str(ROOT / "processes"),
               BPMN_REQUESTS_FORMS_DIR=str(ROOT / "forms"),
               BPMN_REQUESTS_SANCTIONS_DIR=str(ROOT / "data" / "sanctions"))
    return env


@pytest.fixture
def cli(database_url: str) -> Callable[..., Result]:
    runner = CliRunner(env=cli_env(database_url))
    return lambda *args: runner.invoke(main, [str(a) for a in args], catch_exceptions=False)


def assert_one_line_error(result: Result, *fragments: str) -> str:
    assert result.exit_code != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    return lines[0]


def assert_json_error(result: Result, code: str, *fragments: str) -> None:
    assert result.exit_code != 0
    error = json.loads(result.stdout)["error"]
    assert error["code"] == code and set(error) >= {"code", "message"}, error
    for fragment in fragments:
        assert fragment in error["message"], f"{fragment!r} not in {error['message']!r}"


# --- the situation every case starts from: one dispute waiting for billing's investigation ----------------

@dataclass(frozen=True)
class Open:
    reference: str
    task_id: str


@pytest.fixture
def waiting(system: Any) -> Iterator[Open]:
    submitted = submit_request(SubmitRequest(DISPUTE, "alice"), system.services)
    [task] = submitted.opened_tasks
    assert task.element_id == "Task_Investigate"
    yield Open(submitted.reference, task.id)


def user(system: Any, username: str) -> Any:
    with system.services.uow() as uow:
        return uow.users.get(username)


# --- requests --------------------------------------------------------------------------------------------

# (case, request, error class, error code, what the message must name)
BAD_REQUESTS: list[tuple[str, dict[str, Any], type[DomainError], str, tuple[str, ...]]] = [
    ("unknown customer", {**DISPUTE, "customer_id": "C-9999"}, DomainError, "service_task_failed",
     ("customer_id", "C-9999")),
    ("unknown invoice", {**DISPUTE, "invoice_numbers": ["INV-9999"]}, DomainError, "service_task_failed",
     ("invoice_numbers", "INV-9999")),
    ("invoice of another customer", {**DISPUTE, "invoice_numbers": ["INV-1002"]}, DomainError,
     "service_task_failed", ("invoice_numbers", "INV-1002", "C-1001")),
    ("negative amount", {**DISPUTE, "disputed_amount": "-5.00"}, ValidationFailed, "invalid",
     ("disputed_amount", "greater than zero")),
    ("malformed amount", {**DISPUTE, "disputed_amount": "12,5x"}, ValidationFailed, "invalid",
     ("disputed_amount", "not a valid amount", "12,5x")),
    ("decimal comma", {**DISPUTE, "disputed_amount": "12,50"}, ValidationFailed, "invalid",
     ("disputed_amount", "not a valid amount", "12,50")),
    ("more than two decimals", {**DISPUTE, "disputed_amount": Decimal("700.555")}, ValidationFailed, "invalid",
     ("disputed_amount", "more than two decimals", "700.555")),
    ("missing field of the type", {k: v for k, v in DISPUTE.items() if k != "invoice_numbers"},
     ValidationFailed, "invalid", ("invoice_numbers", "required for a billing_dispute")),
    ("unknown field", {**DISPUTE, "colour": "red"}, ValidationFailed, "invalid",
     ("colour", "not a field of a request")),
    ("unknown type", {**DISPUTE, "type": "complaint"}, ValidationFailed, "invalid", ("type", "complaint")),
]


def request_file(tmp_path: Path, case: str, data: dict[str, Any]) -> Path:
    path = tmp_path / f"{case.replace(' ', '_')}.json"
    if case == "more than two decimals":  # a JSON number, as a person would write it
        path.write_text(json.dumps(DISPUTE)[:-1] + ', "disputed_amount": 700.555}', encoding="utf-8")
    else:
        path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_bad_requests_are_refused_naming_the_field_and_write_nothing(
        system: Any, cli: Callable[..., Result], tmp_path: Path, subtests: pytest.Subtests) -> None:
    for case, data, error, code, named in BAD_REQUESTS:
        with subtests.test(case, through="use case"):
            with pytest.raises(error) as refused:
                assert_writes_nothing(system, lambda data=data: submit_request(SubmitRequest(data, "alice"),
                                                                               system.services))
            assert refused.value.code == code
            for fragment in named:
                assert fragment in refused.value.message
        path = request_file(tmp_path, case, data)
        with subtests.test(case, through="command line"):
            result = assert_writes_nothing(system, lambda path=path: cli("requests", "submit", "--as", "alice",
                                                                         "--file", path))
            assert_one_line_error(result, *named)
            assert result.stdout == ""
        with subtests.test(case, through="command line --json"):
            result = assert_writes_nothing(system, lambda path=path: cli("--json", "requests", "submit", "--as",
                                                                         "alice", "--file", path))
            assert_json_error(result, code, *named)


def test_float_amount_from_python_is_refused_as_a_float(system: Any) -> None:
    data = {**DISPUTE, "disputed_amount": 700.5}
    with pytest.raises(ValidationFailed, match="disputed_amount: must be a decimal amount"):
        assert_writes_nothing(system, lambda: submit_request(SubmitRequest(data, "alice"), system.services))


def test_json_number_with_one_decimal_is_read_exactly_as_a_decimal(
        system: Any, cli: Callable[..., Result], tmp_path: Path) -> None:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(DISPUTE)[:-1] + ', "disputed_amount": 700.5}', encoding="utf-8")
    result = cli("--json", "requests", "submit", "--as", "alice", "--file", path)
    assert result.exit_code == 0, result.stderr
    reference = json.loads(result.stdout)["reference"]
    assert show_request(reference, system.services)["details"]["disputed_amount"] == "700.50"


def test_malformed_json_file_names_the_file_line_and_column(
        system: Any, cli: Callable[..., Result], tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"type": "billing_dispute",\n "customer_id": C-1001}\n', encoding="utf-8")
    result = assert_writes_nothing(system, lambda: cli("requests", "submit", "--as", "alice", "--file", path))
    assert_one_line_error(result, str(path), "malformed JSON", "line 2 column 17")
    result = cli("--json", "requests", "submit", "--as", "alice", "--file", path)
    assert_json_error(result, "invalid", str(path), "line 2 column 17")


def test_unknown_user_in_as_is_named(system: Any, cli: Callable[..., Result], tmp_path: Path) -> None:
    path = request_file(tmp_path, "valid", DISPUTE)
    result = assert_writes_nothing(system, lambda: cli("requests", "submit", "--as", "zed", "--file", path))
    assert_one_line_error(result, "no user zed")
    assert_json_error(cli("--json", "tasks", "list", "--as", "zed"), "not_found", "no user zed")


# --- task data -------------------------------------------------------------------------------------------

BAD_TASK_DATA: list[tuple[str, dict[str, Any], tuple[str, ...]]] = [
    ("missing required", {k: v for k, v in INVESTIGATION.items() if k != "note"}, ("note", "is required")),
    ("text for a number", {**INVESTIGATION, "corrected_amount": "abc"}, ("corrected_amount", "must be a number")),
    ("value not an option", {**INVESTIGATION, "reason_code": "whim"}, ("reason_code", "'whim'", "not one of")),
    ("unknown key", {**INVESTIGATION, "colour": "red"}, ("colour", "not a field of form investigation")),
    ("not an object", ["adjust"], ("task data must be a JSON object",)),  # type: ignore[list-item]
]


def test_bad_task_data_is_refused_naming_the_field_and_writes_nothing(
        system: Any, waiting: Open, cli: Callable[..., Result], subtests: pytest.Subtests) -> None:
    bob = user(system, "bob")
    for case, data, named in BAD_TASK_DATA:
        with subtests.test(case, through="use case"):
            with pytest.raises(ValidationFailed) as refused:
                assert_writes_nothing(system, lambda data=data: complete_task(
                    CompleteTask(waiting.task_id, bob, data), system.services))
            for fragment in named:
                assert fragment in refused.value.message
        for flags in ([], ["--json"]):
            with subtests.test(case, through=" ".join(["command line", *flags])):
                result = assert_writes_nothing(system, lambda data=data, flags=flags: cli(
                    *flags, "tasks", "complete", waiting.task_id, "--as", "bob", "--data", json.dumps(data)))
                assert_one_line_error(result, *named)
                if flags:
                    assert_json_error(result, "invalid", *named)


def test_task_data_file_with_malformed_json_names_the_file(
        system: Any, waiting: Open, cli: Callable[..., Result], tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_text('{"decision": "adjust",,}', encoding="utf-8")
    result = assert_writes_nothing(system, lambda: cli("tasks", "complete", waiting.task_id, "--as", "bob",
                                                       "--data", f"@{path}"))
    assert_one_line_error(result, str(path), "line 1 column 23")


# --- who and what: unknown task, wrong group, unknown request, nothing waiting ----------------------------

def test_unknown_task_id_is_not_found(system: Any, waiting: Open, cli: Callable[..., Result]) -> None:
    bob = user(system, "bob")
    with pytest.raises(NotFound, match="no task no-such-task"):
        assert_writes_nothing(system, lambda: complete_task(CompleteTask("no-such-task", bob, INVESTIGATION),
                                                            system.services))
    data = json.dumps(INVESTIGATION)
    result = assert_writes_nothing(system, lambda: cli("tasks", "complete", "no-such-task", "--as", "bob",
                                                       "--data", data))
    assert_one_line_error(result, "no task no-such-task")
    assert_json_error(cli("--json", "tasks", "claim", "no-such-task", "--as", "bob"), "not_found", "no-such-task")


def test_user_outside_the_task_group_is_forbidden(system: Any, waiting: Open, cli: Callable[..., Result]) -> None:
    alice = user(system, "alice")
    with pytest.raises(Forbidden) as refused:
        assert_writes_nothing(system, lambda: complete_task(CompleteTask(waiting.task_id, alice, INVESTIGATION),
                                                            system.services))
    assert "alice may not do task" in refused.value.message and "billing" in refused.value.message
    data = json.dumps(INVESTIGATION)
    result = assert_writes_nothing(system, lambda: cli("tasks", "complete", waiting.task_id, "--as", "alice",
                                                       "--data", data))
    assert_one_line_error(result, "alice may not do task", "billing")
    result = assert_writes_nothing(system, lambda: cli("--json", "tasks", "claim", waiting.task_id, "--as", "carol"))
    assert_json_error(result, "forbidden", "carol may not do task")


def test_showing_an_unknown_request_is_not_found(system: Any, cli: Callable[..., Result]) -> None:
    with pytest.raises(NotFound, match=UNKNOWN_REFERENCE):
        show_request(UNKNOWN_REFERENCE, system.services)
    result = assert_writes_nothing(system, lambda: cli("requests", "show", UNKNOWN_REFERENCE))
    assert_one_line_error(result, f"no request {UNKNOWN_REFERENCE}")
    assert_json_error(cli("requests", "show", UNKNOWN_REFERENCE, "--json"), "not_found", UNKNOWN_REFERENCE)


def test_customer_answer_when_nothing_waits_for_it_is_a_conflict(
        system: Any, waiting: Open, cli: Callable[..., Result]) -> None:
    with pytest.raises(Conflict, match="not waiting for the customer"):
        assert_writes_nothing(system, lambda: respond_as_customer(waiting.reference, True, "", system.services))
    result = assert_writes_nothing(system, lambda: cli("requests", "respond", waiting.reference, "--as-customer",
                                                       "--accept"))
    assert_one_line_error(result, waiting.reference, "not waiting for the customer")
    assert_json_error(cli("--json", "requests", "respond", UNKNOWN_REFERENCE, "--as-customer", "--reject"),
                      "not_found", UNKNOWN_REFERENCE)
