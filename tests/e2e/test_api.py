"""The REST API through the Flask test client: every endpoint, refusals, bad input, idempotency, a lifecycle.

Tests that write through the lifecycle or depend on locking run on SQLite and PostgreSQL (`system`); the
rest on SQLite (`sqlite_system`).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from testenv import DEMO_NOW, ROOT, build_test_system

from bpmn_requests.bootstrap import build_system
from bpmn_requests.config import Settings
from bpmn_requests.domain.clock import FixedClock
from bpmn_requests.usecases.accounts import set_active
from bpmn_requests.usecases.submit import SubmitRequest, Submitted, submit_request
from bpmn_requests.usecases.tasks import respond_as_customer
from bpmn_requests.usecases.tokens import create_token, revoke_token
from bpmn_requests.web import create_app

ERROR_KEYS = {"code", "message", "field_errors"}
DISPUTE = {"type": "billing_dispute", "customer_id": "C-1001", "invoice_numbers": ["INV-1001"],
           "disputed_amount": "700.00", "description": "Invoice INV-1001 uses the old unit price."}
INVESTIGATION = {"decision": "adjust", "corrected_amount": "11800.00", "reason_code": "pricing_error",
                 "note": "Checked the contract price list against the invoice lines."}
APPROVAL = {"decision": "approve", "comment": "Checked against contract and evidence."}


class Api:
    """The test client with one user's bearer token on every call."""

    def __init__(self, client: Any, token: str):
        self.client, self.token = client, token

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def get(self, path: str, headers: dict[str, str] | None = None) -> Any:
        return self.client.get(path, headers=self._headers(headers))

    def post(self, path: str, json: Any = None, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        return self.client.post(path, json=json, headers=self._headers(headers), **kwargs)

    def delete(self, path: str) -> Any:
        return self.client.delete(path, headers=self._headers(None))


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory, screener: object) -> Iterator[tuple[Path, Any]]:
    """A migrated SQLite database with the demo data and the processes deployed, built once per module."""
    path = tmp_path_factory.mktemp("api") / "template.db"
    built: Any = build_test_system(f"sqlite:///{path}", screener)
    built.dispose()  # closing the last connection folds the WAL into the file
    yield path, built.services.engine


def copied_system(template: tuple[Path, Any], tmp_path: Path, screener: object) -> Any:
    """A system on a fresh copy of the template (hashing the demo passwords again would take seconds)."""
    path, engine = template
    shutil.copy(path, tmp_path / "api.db")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'api.db'}", processes_dir=ROOT / "processes",
                        forms_dir=ROOT / "forms", sanctions_dir=ROOT / "data" / "sanctions")
    return build_system(settings, clock=FixedClock(DEMO_NOW), screener=screener, engine=engine)


@pytest.fixture
def sqlite_system(template_db: tuple[Path, Any], tmp_path: Path, screener: object) -> Iterator[Any]:
    built = copied_system(template_db, tmp_path, screener)
    yield built
    built.dispose()


@pytest.fixture
def system(database_url: str, template_db: tuple[Path, Any], tmp_path: Path, screener: object) -> Iterator[Any]:
    """On SQLite a copy of the template; on PostgreSQL a schema of its own, built from scratch."""
    built = (copied_system(template_db, tmp_path, screener) if database_url.startswith("sqlite")
             else build_test_system(database_url, screener))
    yield built
    built.dispose()


def make_app(system: Any) -> Any:
    return create_app(system=system, config={"TESTING": True})


def api_for(app: Any, system: Any, username: str) -> Api:
    return Api(app.test_client(), create_token(username, "tests", "admin", system.services).token)


@pytest.fixture
def app(system: Any) -> Any:
    return make_app(system)


@pytest.fixture
def sqlite_app(sqlite_system: Any) -> Any:
    return make_app(sqlite_system)


def error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The one error shape: JSON with code, message and field_errors (and existing_reference if any)."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) - {"existing_reference"} == ERROR_KEYS, body
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["field_errors"], dict)
    return dict(body)


def stored(system: Any) -> dict[str, Any]:
    """What the database holds that an API call could change: requests, tasks, audit events, keys."""
    with system.services.uow() as uow:
        requests = uow.requests.search(limit=10_000)
        return {"requests": sorted((r.reference, r.status, len(r.approvals), len(r.steps)) for r in requests),
                "tasks": sorted((t.id, t.status, t.claimed_by) for t in uow.tasks.open_tasks()),
                "audit": len(uow.audit.all()),
                "postings": sum(len(uow.finance.postings_for(r.reference)) for r in requests)}


def task_of(api: Api, reference: str, element_id: str) -> dict[str, Any]:
    items = api.get("/api/v1/tasks").get_json()["items"]
    found = [t for t in items if t["reference"] == reference and t["element_id"] == element_id]
    assert len(found) == 1, items
    return dict(found[0])


def create(api: Api, body: dict[str, Any] | None = None, key: str | None = None) -> Any:
    return api.post("/api/v1/requests", json=DISPUTE if body is None else body,
                    headers={"Idempotency-Key": key} if key else None)


# --- authentication ----------------------------------------------------------------------------------


def test_calls_without_a_token_are_refused_with_401_and_a_bearer_challenge(sqlite_app: Any) -> None:
    client = sqlite_app.test_client()
    for method, path in (("get", "/api/v1/requests"), ("post", "/api/v1/requests"), ("get", "/api/v1/tasks"),
                         ("get", "/api/v1/versions"), ("get", "/api/v1/requests/REQ-100001/audit"),
                         ("post", "/api/v1/tasks/x/claim"), ("delete", "/api/v1/tasks/x/claim")):
        response = getattr(client, method)(path)
        error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    error(client.get("/api/v1/tasks", headers={"Authorization": "Basic YWxpY2U6ZGVtbw=="}), 401, "unauthorized")
    bad = client.get("/api/v1/tasks", headers={"Authorization": "Bearer brq_not-a-token"})
    error(bad, 401, "unauthorized")
    assert "invalid_token" in bad.headers["WWW-Authenticate"]


def test_a_session_cookie_is_not_accepted_by_the_api(sqlite_system: Any) -> None:
    app = create_app(system=sqlite_system, config={"TESTING": True, "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    signed_in = client.post("/login?next=/admin/users", data={"username": "admin", "password": "demo"})
    assert signed_in.status_code == 302 and "session" in signed_in.headers.get("Set-Cookie", "")
    assert client.get("/admin/users").status_code == 200  # the session works for pages
    error(client.get("/api/v1/tasks"), 401, "unauthorized")
    error(client.post("/api/v1/requests", json=DISPUTE), 401, "unauthorized")


def test_a_revoked_token_and_a_deactivated_users_token_are_refused(sqlite_app: Any, sqlite_system: Any) -> None:
    services = sqlite_system.services
    created = create_token("bob", "erp", "admin", services)
    api = Api(sqlite_app.test_client(), created.token)
    assert api.get("/api/v1/tasks").status_code == 200
    revoke_token(created.info.id, "admin", services)
    error(api.get("/api/v1/tasks"), 401, "unauthorized")

    carol = api_for(sqlite_app, sqlite_system, "carol")
    assert carol.get("/api/v1/tasks").status_code == 200
    set_active("carol", False, "admin", services)
    error(carol.get("/api/v1/tasks"), 401, "unauthorized")
    set_active("carol", True, "admin", services)
    assert carol.get("/api/v1/tasks").status_code == 200


def test_only_the_sha256_of_a_token_is_stored(sqlite_system: Any) -> None:
    created = create_token("bob", "erp", "admin", sqlite_system.services)
    assert created.token.startswith("brq_") and len(created.token) == 4 + 43
    with sqlite_system.db.connect() as conn:
        rows = conn.exec_driver_sql("SELECT * FROM api_tokens").all()
    assert created.token not in repr(rows)
    assert hashlib.sha256(created.token.encode()).hexdigest() in repr(rows)


# --- requests ----------------------------------------------------------------------------------------


def test_create_then_read_a_request_with_money_as_strings(sqlite_app: Any, sqlite_system: Any) -> None:
    alice = api_for(sqlite_app, sqlite_system, "alice")
    response = create(alice)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    reference = body["reference"]
    assert response.headers["Location"] == f"/api/v1/requests/{reference}"
    assert (body["status"], body["customer_status"]) == ("investigation", "In progress")
    assert [t["element_id"] for t in body["tasks"]] == ["Task_Investigate"]
    assert body["links"] == {"self": f"/api/v1/requests/{reference}",
                             "audit": f"/api/v1/requests/{reference}/audit"}

    record = alice.get(body["links"]["self"])
    assert record.status_code == 200
    view = record.get_json()
    assert view["reference"] == reference and view["channel"] == "api" and view["requested_by"] == "alice"
    assert view["details"]["disputed_amount"] == "700.00"
    invoice = view["financial_references"]["invoices"][0]
    assert invoice["number"] == "INV-1001" and isinstance(invoice["amount"], str)
    Decimal(invoice["open_amount"])  # a decimal string, not a float
    assert view["open_tasks"][0]["element_id"] == "Task_Investigate"
    error(alice.get("/api/v1/requests/REQ-999999"), 404, "not_found")


def test_a_script_in_the_description_comes_back_as_json_data(sqlite_app: Any, sqlite_system: Any) -> None:
    alice = api_for(sqlite_app, sqlite_system, "alice")
    script = '<script>alert("x")</script><img src=x onerror=alert(1)> & "quotes"'
    created = create(alice, {**DISPUTE, "description": script})
    assert created.status_code == 201
    record = alice.get(f"/api/v1/requests/{created.get_json()['reference']}")
    assert record.mimetype == "application/json"
    assert record.headers["X-Content-Type-Options"] == "nosniff"
    assert record.get_json()["description"] == script  # data, unchanged; never rendered as HTML here


def test_search_pages_with_links_and_filters(sqlite_app: Any, sqlite_system: Any) -> None:
    alice = api_for(sqlite_app, sqlite_system, "alice")
    for customer, invoice in (("C-1001", "INV-1001"), ("C-1002", "INV-1002"), ("C-1004", "INV-1004")):
        body = {"type": "billing_dispute", "customer_id": customer, "invoice_numbers": [invoice],
                "description": f"{invoice} is wrong."}
        assert create(alice, body).status_code == 201
    first = alice.get("/api/v1/requests?page_size=2").get_json()
    assert first["page"] == {"page": 1, "page_size": 2, "has_next": True}
    assert len(first["items"]) == 2 and "prev" not in first["links"]
    second = alice.get(first["links"]["next"]).get_json()
    assert second["page"]["has_next"] is False and len(second["items"]) == 1
    assert second["links"]["prev"] == "/api/v1/requests?page=1&page_size=2"
    seen = [i["reference"] for i in first["items"] + second["items"]]
    assert len(set(seen)) == 3 and seen == sorted(seen, reverse=True)  # newest first, no overlap
    only = alice.get("/api/v1/requests?customer_id=C-1002&type=billing_dispute&status=investigation").get_json()
    assert [i["customer_id"] for i in only["items"]] == ["C-1002"]
    assert only["items"][0]["customer_status"] == "In progress"
    assert alice.get("/api/v1/requests?type=payment_issue").get_json()["items"] == []
    error(alice.get("/api/v1/requests?page=0"), 422, "invalid")
    body = error(alice.get("/api/v1/requests?page_size=500"), 422, "invalid")
    assert set(body["field_errors"]) == {"page_size"}


def test_only_agents_create_requests_and_a_refusal_writes_nothing(system: Any, app: Any) -> None:
    bob = api_for(app, system, "bob")
    before = stored(system)
    error(create(bob, key="bob-1"), 403, "forbidden")
    assert stored(system) == before
    admin = api_for(app, system, "admin")  # admins pass every check
    assert create(admin).status_code == 201


# --- bad input ---------------------------------------------------------------------------------------


def test_malformed_json_is_a_400_and_writes_nothing(sqlite_app: Any, sqlite_system: Any) -> None:
    alice = api_for(sqlite_app, sqlite_system, "alice")
    before = stored(sqlite_system)
    for raw in ('{"type": "billing_dispute",', "not json", b"\xff\xfe"):
        body = error(alice.post("/api/v1/requests", data=raw, headers={"Content-Type": "application/json"}),
                     400, "malformed_json")
        assert body["field_errors"] == {"body": "Invalid JSON body."}
    assert stored(sqlite_system) == before


@pytest.mark.parametrize(("body", "fields"), [
    ({}, {"type", "customer_id", "description"}),
    ({"type": "billing_dispute", "customer_id": "C-1001", "description": "x"}, {"invoice_numbers"}),
    ({**DISPUTE, "disputed_amount": 700.5}, {"disputed_amount"}),
    ({**DISPUTE, "disputed_amount": "-700.00"}, {"disputed_amount"}),
    ({**DISPUTE, "disputed_amount": "0"}, {"disputed_amount"}),
    ({**DISPUTE, "disputed_amount": "12.345"}, {"disputed_amount"}),
    ({**DISPUTE, "invoice_numbers": "INV-1001"}, {"invoice_numbers"}),
    ({**DISPUTE, "invoice_numbers": [1001]}, {"invoice_numbers.0"}),
    ({**DISPUTE, "type": ["billing_dispute"]}, {"type"}),
    ({**DISPUTE, "type": "refund_please"}, {"type"}),
    ({**DISPUTE, "customer_id": "1001"}, {"customer_id"}),
    ({**DISPUTE, "priority": "yesterday"}, {"priority"}),
    ({**DISPUTE, "unexpected": True}, {"unexpected"}),
    ({"type": "debt_restructuring", "customer_id": "C-1007", "description": "x", "installments": "3"},
     {"installments"}),
    ({"type": "debt_restructuring", "customer_id": "C-1007", "description": "x", "installments": 99},
     {"installments"}),
])
def test_invalid_requests_are_422_naming_each_field_and_write_nothing(
        sqlite_app: Any, sqlite_system: Any, body: dict[str, Any], fields: set[str]) -> None:
    alice = api_for(sqlite_app, sqlite_system, "alice")
    before = stored(sqlite_system)
    refused = error(create(alice, body), 422, "invalid")
    assert set(refused["field_errors"]) == fields
    assert stored(sqlite_system) == before


def test_a_body_that_is_not_an_object_is_422(sqlite_app: Any, sqlite_system: Any) -> None:
    alice = api_for(sqlite_app, sqlite_system, "alice")
    for body in ([DISPUTE], "a string", 42, None):
        response = alice.post("/api/v1/requests", data=json.dumps(body),
                              headers={"Content-Type": "application/json"})
        error(response, 422, "invalid")


def test_unknown_routes_and_wrong_methods_use_the_error_shape(sqlite_app: Any, sqlite_system: Any) -> None:
    alice = api_for(sqlite_app, sqlite_system, "alice")
    error(alice.get("/api/v1/nothing-here"), 404, "not_found")
    error(sqlite_app.test_client().get("/api/v2/requests"), 404, "not_found")
    wrong = alice.client.put("/api/v1/requests", headers=alice._headers(None))
    error(wrong, 405, "method_not_allowed")
    assert "POST" in wrong.headers["Allow"]
    error(alice.client.patch("/api/v1/tasks/x/claim", headers=alice._headers(None)), 405, "method_not_allowed")


# --- idempotency -------------------------------------------------------------------------------------


def test_a_retried_key_with_the_same_body_returns_the_first_result(system: Any, app: Any) -> None:
    alice = api_for(app, system, "alice")
    first = create(alice, key="order-7")
    after_first = stored(system)
    again = create(alice, {**DISPUTE}, key="order-7")
    assert (again.status_code, again.get_json()) == (first.status_code, first.get_json())
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert again.headers["Location"] == first.headers["Location"]
    # The same JSON written differently (order, spacing) is the same body.
    reordered = '{"description": "Invoice INV-1001 uses the old unit price.", "invoice_numbers": ["INV-1001"],' \
                '  "disputed_amount": "700.00", "customer_id": "C-1001", "type": "billing_dispute"}'
    third = alice.post("/api/v1/requests", data=reordered,
                       headers={"Content-Type": "application/json", "Idempotency-Key": "order-7"})
    assert third.get_json() == first.get_json()
    assert stored(system) == after_first


def test_a_key_sent_with_another_body_is_a_409_and_writes_nothing(system: Any, app: Any) -> None:
    alice = api_for(app, system, "alice")
    first = create(alice, key="order-8").get_json()
    before = stored(system)
    other = {"type": "billing_dispute", "customer_id": "C-1002", "invoice_numbers": ["INV-1002"],
             "description": "Volume discount missing."}
    body = error(create(alice, other, key="order-8"), 409, "idempotency_conflict")
    assert body["existing_reference"] == first["reference"]
    assert stored(system) == before
    # The key belongs to its user: another user's same key is a new request.
    admin = api_for(app, system, "admin")
    assert create(admin, other, key="order-8").status_code == 201


def test_a_duplicate_request_is_a_409_naming_the_existing_one(sqlite_app: Any, sqlite_system: Any) -> None:
    alice = api_for(sqlite_app, sqlite_system, "alice")
    first = create(alice).get_json()
    before = stored(sqlite_system)
    body = error(create(alice, {**DISPUTE, "description": "Again."}), 409, "duplicate")
    assert body["existing_reference"] == first["reference"]
    assert stored(sqlite_system) == before


def test_an_invalid_idempotency_key_is_refused(sqlite_app: Any, sqlite_system: Any) -> None:
    alice = api_for(sqlite_app, sqlite_system, "alice")
    error(create(alice, key="x" * 201), 422, "invalid")
    body = error(create(alice, key="two words"), 422, "invalid")
    assert set(body["field_errors"]) == {"Idempotency-Key"}


def test_concurrent_retries_with_one_key_create_one_request(system: Any) -> None:
    services = system.services
    barrier, results, failures = threading.Barrier(3), [], []

    def send() -> None:
        barrier.wait()
        try:
            results.append(submit_request(SubmitRequest(DISPUTE, "alice", "api", idempotency_key="race-1"),
                                          services))
        except Exception as exc:  # collected, so the assertion names it
            failures.append(exc)

    threads = [threading.Thread(target=send) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    assert len({r.reference for r in results}) == 1 and len(results) == 3
    assert sum(1 for r in results if not r.replayed) == 1
    with services.uow() as uow:
        assert len(uow.requests.search(limit=100)) == 1


def test_the_use_case_replays_for_the_cli_and_portal_too(sqlite_system: Any) -> None:
    services = sqlite_system.services
    first = submit_request(SubmitRequest(DISPUTE, "alice", idempotency_key="k"), services)
    again = submit_request(SubmitRequest(dict(DISPUTE), "alice", idempotency_key="k"), services)
    assert isinstance(again, Submitted) and again.replayed and not first.replayed
    assert (again.reference, again.status, again.opened_tasks) == (first.reference, first.status,
                                                                   first.opened_tasks)


# --- tasks, permissions and the whole lifecycle --------------------------------------------------------


def test_task_refusals_are_403_or_409_and_change_nothing(system: Any, app: Any) -> None:
    alice, bob, carol = (api_for(app, system, u) for u in ("alice", "bob", "carol"))
    reference = create(alice).get_json()["reference"]
    assert [t["reference"] for t in alice.get("/api/v1/tasks").get_json()["items"]] == []
    task = task_of(bob, reference, "Task_Investigate")
    before = stored(system)
    error(carol.post(f"/api/v1/tasks/{task['id']}/claim"), 403, "forbidden")
    error(carol.post(f"/api/v1/tasks/{task['id']}/complete", json=INVESTIGATION), 403, "forbidden")
    error(carol.post("/api/v1/tasks/no-such-task/claim"), 404, "not_found")
    assert stored(system) == before

    claimed = bob.post(task["links"]["claim"])
    assert claimed.status_code == 200 and claimed.get_json()["claimed_by"] == "bob"
    before = stored(system)
    error(alice.delete(task["links"]["claim"]), 409, "conflict")  # someone else's claim
    bad = error(bob.post(task["links"]["complete"], json={"decision": "adjust"}), 422, "invalid")
    assert "corrected_amount" in bad["field_errors"]
    error(bob.post(task["links"]["complete"], json=["not", "an", "object"]), 422, "invalid")
    assert stored(system) == before
    released = bob.delete(task["links"]["claim"])
    assert released.status_code == 200 and released.get_json()["claimed_by"] is None

    done = bob.post(task["links"]["complete"], json=INVESTIGATION)
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "awaiting_approval"
    before = stored(system)
    error(bob.post(task["links"]["complete"], json=INVESTIGATION), 409, "conflict")  # already completed
    approval = task_of(carol, reference, "Task_Approve")
    # Four eyes: bob proposed the credit memo, so bob may not approve it.
    refused = error(bob.post(approval["links"]["complete"], json=APPROVAL), 403, "rule_violation")
    assert "four eyes" in refused["message"]
    error(bob.post(approval["links"]["claim"]), 403, "forbidden")
    assert stored(system) == before


def test_seed_case_1_through_the_api(system: Any, app: Any) -> None:
    alice, bob, carol = (api_for(app, system, u) for u in ("alice", "bob", "carol"))
    created = create(alice, {**DISPUTE, "channel": "email"}, key="seed-1")
    assert created.status_code == 201
    reference = created.get_json()["reference"]

    investigation = task_of(bob, reference, "Task_Investigate")
    assert bob.post(investigation["links"]["claim"]).status_code == 200
    done = bob.post(investigation["links"]["complete"], json=INVESTIGATION)
    assert done.status_code == 200 and done.get_json()["task"]["completed_by"] == "bob"

    approval = task_of(carol, reference, "Task_Approve")
    approved = carol.post(approval["links"]["complete"], json=APPROVAL)
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["status"] == "awaiting_customer"

    respond_as_customer(reference, True, "", system.services)  # the customer answers on the portal

    view = alice.get(f"/api/v1/requests/{reference}").get_json()
    assert (view["status"], view["outcome"], view["customer_status"]) == ("closed", "resolved", "Closed")
    [posting] = view["postings"]
    assert (posting["kind"], posting["amount"], posting["invoice"]) == ("credit_memo", "700.00", "INV-1001")
    [decision] = view["approvals"]
    assert (decision["approver"], decision["decision"], decision["level"]) == ("carol", "approve", 1)
    assert posting["approval_id"] == decision["id"]
    invoice = view["financial_references"]["invoices"][0]
    assert invoice["open_amount"] == "11800.00"

    trail = alice.get(f"/api/v1/requests/{reference}/audit")
    assert trail.status_code == 200
    events = trail.get_json()["items"]
    actions = [e["action"] for e in events]
    assert {"request.submitted", "task.claimed", "task.completed", "approval.decided"} <= set(actions)
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    assert all(len(e["hash"]) == 64 and e["actor"] for e in events)
    assert alice.get("/api/v1/tasks").get_json()["items"] == []
    error(alice.get("/api/v1/requests/REQ-999999/audit"), 404, "not_found")


def test_versions_list_deployments_with_file_hashes(sqlite_app: Any, sqlite_system: Any) -> None:
    from testenv import ROOT

    grace = api_for(sqlite_app, sqlite_system, "grace")
    [version] = grace.get("/api/v1/versions").get_json()["items"]
    assert version["id"] == 1 and version["active"] is True and version["deployed_by"] == "admin"
    files = {f["name"]: f for f in version["files"]}
    diagram = (ROOT / "processes" / "customer_request.bpmn").read_bytes()
    assert files["processes/customer_request.bpmn"]["sha256"] == hashlib.sha256(diagram).hexdigest()
    assert files["processes/customer_request.bpmn"]["size"] == len(diagram)
    assert any(name.startswith("forms/") for name in files)


def test_a_crash_is_a_500_in_the_same_shape(sqlite_system: Any) -> None:
    app = create_app(system=sqlite_system)  # not TESTING: errors are answered, not raised

    def boom() -> Any:
        raise RuntimeError("a bug")

    app.add_url_rule("/api/v1/boom", view_func=boom)
    body = error(app.test_client().get("/api/v1/boom"), 500, "internal_server_error")
    assert "a bug" not in body["message"]  # no internals leak


def test_tokens_and_idempotency_work_the_same_on_the_memory_store(screener: Any) -> None:
    from support import memory_services

    from bpmn_requests.domain.errors import IdempotencyConflict
    from bpmn_requests.usecases.tokens import verify_token

    services = memory_services(screener=screener)
    created = create_token("bob", "scripts", "admin", services)
    assert verify_token(created.token, services).username == "bob"  # type: ignore[union-attr]
    revoke_token(created.info.id, "admin", services)
    assert verify_token(created.token, services) is None
    first = submit_request(SubmitRequest(DISPUTE, "alice", idempotency_key="m-1"), services)
    again = submit_request(SubmitRequest(DISPUTE, "alice", idempotency_key="m-1"), services)
    assert again.replayed and again.reference == first.reference
    with pytest.raises(IdempotencyConflict):
        submit_request(SubmitRequest({**DISPUTE, "description": "Other."}, "alice", idempotency_key="m-1"), services)
