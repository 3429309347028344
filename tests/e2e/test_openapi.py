"""The OpenAPI document: it validates, it documents what the API does, and fuzzing it finds no 5xx.

Schemathesis generates requests from the document (valid and invalid ones) and sends them to the app
in-process (WSGI) with a valid token; each response must not be a server error, must have a documented
content type, and must match the documented schema (the error shape included).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance
from testenv import build_test_system
from unattended_helpers import ONBOARDING, RefusingBureau

from bpmn_requests.usecases.incidents import list_incidents
from bpmn_requests.usecases.jobs import run_due_work
from bpmn_requests.usecases.submit import SubmitRequest, submit_request
from bpmn_requests.usecases.tokens import create_token
from bpmn_requests.web import create_app

ERROR_REF = "#/components/schemas/Error"
OPERATIONS = [("/api/v1/requests", "get"), ("/api/v1/requests", "post"), ("/api/v1/requests/{reference}", "get"),
              ("/api/v1/requests/{reference}/audit", "get"), ("/api/v1/tasks", "get"),
              ("/api/v1/tasks/{task_id}/claim", "post"), ("/api/v1/tasks/{task_id}/claim", "delete"),
              ("/api/v1/tasks/{task_id}/complete", "post"), ("/api/v1/versions", "get"),
              ("/api/v1/messages", "get"), ("/api/v1/messages", "post"), ("/api/v1/incidents", "get"),
              ("/api/v1/incidents/{incident_id}", "get"), ("/api/v1/incidents/{incident_id}/retry", "post"),
              ("/api/v1/incidents/{incident_id}/skip", "post"), ("/api/v1/incidents/{incident_id}/cancel", "post")]
EXAMPLES = 15  # per operation and mode: a few hundred calls keep the module well under a minute


@pytest.fixture(scope="module")
def fuzz_system(tmp_path_factory: pytest.TempPathFactory, screener: object) -> Iterator[Any]:
    built: Any = build_test_system(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}", screener)
    yield built
    built.dispose()


@pytest.fixture(scope="module")
def known_ids(fuzz_system: Any) -> dict[str, Any]:
    """Path parameters that exist: an open request and its task, so the fuzzer reaches past the 404s."""
    seeded = submit_request(SubmitRequest({"type": "billing_dispute", "customer_id": "C-1001",
                                           "invoice_numbers": ["INV-1001"], "description": "Seed for the fuzzer."},
                                          "alice"), fuzz_system.services)
    # An incident too, so the fuzzer reaches its actions: a credit bureau refuses the credit score for good.
    fuzz_system.services.bureau = RefusingBureau()
    submit_request(SubmitRequest(ONBOARDING, "alice"), fuzz_system.services)
    [incident] = [outcome for outcome in run_due_work(fuzz_system.services) if outcome.outcome == "incident"]
    [opened] = list_incidents(fuzz_system.services)
    assert opened.request_reference == incident.reference
    return {"reference": seeded.reference, "task_id": seeded.opened_tasks[0].id, "deployment_id": 1,
            "process_id": "customer_request", "incident_id": opened.id}


@pytest.fixture(scope="module")
def fuzz_app(fuzz_system: Any) -> Any:
    return create_app(system=fuzz_system)  # not TESTING: a crash must come back as a 500, not raise


@pytest.fixture(scope="module")
def admin_token(fuzz_system: Any) -> str:
    return create_token("admin", "fuzzer", "admin", fuzz_system.services).token


@pytest.fixture(scope="module")
def document(fuzz_app: Any) -> dict[str, Any]:
    response = fuzz_app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return dict(response.get_json())


@pytest.fixture(scope="module")
def api_schema(fuzz_app: Any) -> Any:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzz_app)


def test_the_document_is_valid_openapi_3(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"].startswith("3.")


def test_every_operation_needs_the_bearer_token_and_documents_the_error_shape(document: dict[str, Any]) -> None:
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "an API token, brq_ and 43 characters"}
    assert document["security"] == [{"bearerAuth": []}]
    error = document["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "message", "field_errors"}
    responses = document["components"]["responses"]
    operations = [(path, method, op) for path, item in document["paths"].items()
                  for method, op in item.items() if method in ("get", "post", "put", "delete", "patch")]
    assert {(path, method) for path, method, _ in operations} >= set(OPERATIONS)
    for path, method, operation in operations:
        errors = {code: ref for code, ref in operation["responses"].items() if code == "default" or code[0] in "45"}
        assert "default" in errors and "401" in errors, (path, method)
        for ref in errors.values():
            name = ref["$ref"].rsplit("/", 1)[-1]
            assert responses[name]["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}, (path, method)


def test_request_bodies_document_money_as_strings(document: dict[str, Any]) -> None:
    create = document["components"]["schemas"]["RequestCreate"]
    assert create["properties"]["disputed_amount"]["type"] == "string"
    assert create["additionalProperties"] is False
    assert set(create["required"]) == {"type", "customer_id", "description"}
    post = document["paths"]["/api/v1/requests"]["post"]
    assert [p["name"] for p in post["parameters"]] == ["Idempotency-Key"]


@pytest.mark.parametrize("mode", list(GenerationMode), ids=str)
def test_fuzzing_every_operation_finds_no_server_error(api_schema: Any, admin_token: str, known_ids: dict[str, Any],
                                                       mode: GenerationMode) -> None:
    """Every operation in the document, with an admin's token (admins pass every group check): with
    generated path parameters, and once more with ones that exist."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {(op.path, op.method.lower()) for op in operations} >= set(OPERATIONS)
    runs = [(op, None) for op in operations]
    for op in operations:
        names = {p.name for p in op.path_parameters}
        if names and names <= set(known_ids):
            runs.append((op, {name: known_ids[name] for name in names}))
    for operation, path_parameters in runs:

        @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def call(case: Any) -> None:
            response = case.call(headers={"Authorization": f"Bearer {admin_token}"})
            case.validate_response(response, checks=[not_a_server_error, content_type_conformance,
                                                     response_schema_conformance])

        try:
            call()
        except Exception as failure:
            raise AssertionError(f"{operation.label} {path_parameters or ''} ({mode}): {failure}") from failure
