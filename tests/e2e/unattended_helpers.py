"""Helpers of the end-to-end tests of unattended work (messages, incidents, SLAs): a system on SQLite and
on PostgreSQL, a credit bureau that refuses, an incident made the way production makes one, API clients and
signed-in browsers.

The fixtures (a system per database, with an integrations user `bank`) are in this folder's conftest.py.
"""

from __future__ import annotations

import re
from typing import Any

from bpmn_requests.domain.errors import ServiceTaskError
from bpmn_requests.domain.ports import BureauReport
from bpmn_requests.usecases.incidents import list_incidents
from bpmn_requests.usecases.jobs import run_due_work
from bpmn_requests.usecases.submit import SubmitRequest, submit_request
from bpmn_requests.usecases.tasks import CompleteTask, complete_task
from bpmn_requests.usecases.tokens import create_token

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
DISPUTE = {"type": "billing_dispute", "customer_id": "C-1001", "invoice_numbers": ["INV-1001"],
           "disputed_amount": "700.00", "description": "Invoice INV-1001 uses the old unit price."}
ONBOARDING = {"type": "credit_onboarding", "customer_id": "C-1006", "requested_limit": "50000.00",
              "description": "New customer onboarding; requests net-30 terms with a 50k limit."}
NEED_INFO = {"decision": "need_info", "question": "Which unit price did you agree?",
             "note": "The contract is not in our files."}
ERROR_KEYS = {"code", "message", "field_errors"}


class RefusingBureau:
    """A credit bureau that refuses every report (a permanent error) until told to answer."""

    def __init__(self) -> None:
        self.refuse = True
        self.calls = 0

    def report(self, customer_id: str, name: str, country: str, registration: str | None) -> BureauReport:
        self.calls += 1
        if self.refuse:
            raise ServiceTaskError("credit bureau: HTTP 400 on /reports (the request was refused)",
                                   error_code="bureau_refused")
        return BureauReport(score=720, delinquencies=0, source="test bureau R-1")


class Api:
    """The test client with one user's bearer token on every call."""

    def __init__(self, client: Any, token: str):
        self.client, self.token = client, token

    def get(self, path: str) -> Any:
        return self.client.get(path, headers={"Authorization": f"Bearer {self.token}"})

    def post(self, path: str, json: Any = None, headers: dict[str, str] | None = None) -> Any:
        return self.client.post(path, json=json, headers={"Authorization": f"Bearer {self.token}", **(headers or {})})


def api_for(app: Any, system: Any, username: str) -> Api:
    return Api(app.test_client(), create_token(username, "tests", "admin", system.services).token)


def error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The one error shape of the API."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) - {"existing_reference"} == ERROR_KEYS, body
    assert body["code"] == code, body
    return dict(body)


def submit(system: Any, request: dict[str, Any] | None = None, by: str = "alice") -> str:
    """Submit a request (the dispute by default) and do the due work a worker would; its reference."""
    reference = submit_request(SubmitRequest(dict(request or DISPUTE), by, "api"), system.services).reference
    run_due_work(system.services)
    return reference


def complete(system: Any, reference: str, element_id: str, username: str, data: dict[str, Any]) -> None:
    services = system.services
    with services.uow() as uow:
        task = next(t for t in uow.tasks.open_for_request(reference) if t.element_id == element_id)
        user = uow.users.get(username)
    complete_task(CompleteTask(task.id, user, data), services)
    run_due_work(services)


def open_elements(system: Any, reference: str) -> list[str]:
    with system.services.uow() as uow:
        return sorted(t.element_id for t in uow.tasks.open_for_request(reference))


def actions(system: Any, reference: str) -> list[str]:
    with system.services.uow() as uow:
        return [e.action for e in uow.audit.for_subject(reference)]


def audit_count(system: Any) -> int:
    with system.services.uow() as uow:
        return len(uow.audit.all())


def make_incident(system: Any) -> tuple[str, int, RefusingBureau]:
    """A credit onboarding whose credit/score step (asynchronous) is refused for good by the credit bureau:
    the worker opens an incident. Returns (reference, incident id, the bureau)."""
    bureau = RefusingBureau()
    system.services.bureau = bureau
    reference = submit(system, ONBOARDING)
    found = [i for i in list_incidents(system.services) if i.request_reference == reference]
    assert len(found) == 1, f"{reference}: expected one incident, found {found}"
    return reference, found[0].id, bureau
