"""The admin pages of process versions and the REST endpoints beside them, over HTTP (Flask test client,
CSRF on): the list, a version with its heatmap, a diff, rollback, and moving running requests. Only admins
get in; a form without its token changes nothing."""

from __future__ import annotations

import re
from dataclasses import replace
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from support import complete, dispute, instance, investigation
from version_edits import Sources, insert_after, remove, rename, without_boundary_events
from web_client import SignedIn

from bpmn_requests.usecases.tokens import create_token
from bpmn_requests.usecases.versions import list_versions
from bpmn_requests.web import create_app

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
QUESTION = {"decision": "need_info", "question": "Which unit price did you agree?", "note": "No contract on file."}


@pytest.fixture
def app(system: Any) -> Any:
    system.settings = replace(system.settings, secret_key="e2e-tests-secret")
    return create_app(system=system)


@pytest.fixture
def services(system: Any) -> Any:
    return system.services


@pytest.fixture
def two_versions(services: Any, tmp_path: Path) -> dict[str, str]:
    """Three requests on deployment 1, then deployment 2, which removes where one of them waits."""
    investigating = dispute(services)
    asked = dispute(services, "INV-1002", "C-1002")
    complete(services, asked, "Task_Investigate", "bob", QUESTION)
    approving = dispute(services, "INV-1003", "C-1003")
    complete(services, approving, "Task_Investigate", "bob", investigation("17000.00"))
    sources = Sources(tmp_path / "edited")
    sources.edit("billing_dispute.bpmn", without_boundary_events("Task_ProvideInformation"),
                 remove("Task_ProvideInformation"),
                 insert_after("Task_Investigate", "Task_CheckEvidence", "Check evidence"),
                 rename("Task_ComputeInvoiceAdjustment", "Compute the adjustment"))
    assert sources.deploy(services).deployment_id == 2
    return {"investigating": investigating, "asked": asked, "approving": approving}


def text_of(response: Any) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def active_deployment(services: Any) -> int:
    with services.uow() as uow:
        return int(uow.deployments.active().id)


def test_admins_see_the_versions_a_version_with_its_heatmap_and_a_diff(app: Any, two_versions: dict[str, str]) -> None:
    admin = SignedIn(app, "admin")
    listing = admin.get("/admin/versions")
    assert listing.status_code == 200
    page = text_of(listing)
    assert "billing_dispute" in page and "version 2" in page and "Make active (roll back to it)" in page

    version = admin.get("/admin/versions/billing_dispute/1")
    assert version.status_code == 200
    html = version.get_data(as_text=True)
    assert "<svg" in html and "bpmn-badge-count" in html
    assert "Task_Investigate" in text_of(version) and "processes/billing_dispute.bpmn" in text_of(version)
    assert admin.get("/admin/versions/billing_dispute").status_code == 200  # the newest

    diff = text_of(admin.get("/admin/versions/billing_dispute/diff?a=1&b=2"))
    assert "Task_CheckEvidence" in diff and "Task_ProvideInformation" in diff
    assert "Compute invoice adjustment → Compute the adjustment" in diff
    assert "forms/customer_information.form" in diff

    assert admin.get("/admin/versions/no_such_process").status_code == 404
    assert admin.get("/admin/versions/billing_dispute/diff?a=1&b=x").status_code == 422
    assert admin.get("/admin/versions/migrations?from=1").status_code == 422


def test_staff_who_are_not_admins_are_refused_every_page_and_action(
        app: Any, services: Any, two_versions: dict[str, str]) -> None:
    bob = SignedIn(app, "bob")
    for url in ("/admin/versions", "/admin/versions/billing_dispute/1", "/admin/versions/billing_dispute/diff?a=1&b=2",
                "/admin/versions/migrations?from=1&to=2"):
        assert bob.get(url).status_code == 403, url
    before = instance(services, two_versions["investigating"])
    assert bob.post("/admin/versions/deployments/1/activate").status_code == 403
    assert bob.post("/admin/versions/migrations", {"from": "1", "to": "2", "instance": before.id}).status_code == 403
    assert active_deployment(services) == 2 and instance(services, two_versions["investigating"]) == before
    anonymous = app.test_client().get("/admin/versions")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_forms_without_their_csrf_token_change_nothing(app: Any, services: Any, two_versions: dict[str, str]) -> None:
    admin = SignedIn(app, "admin")
    before = instance(services, two_versions["investigating"])
    assert admin.post("/admin/versions/deployments/1/activate", csrf=False).status_code == 400
    refused = admin.post("/admin/versions/migrations", {"from": "1", "to": "2"}, csrf=False)
    assert refused.status_code == 400 and "security token" in text_of(refused)
    assert active_deployment(services) == 2 and instance(services, two_versions["investigating"]) == before


def test_the_rollback_button_makes_the_earlier_deployment_active(app: Any, services: Any,
                                                                two_versions: dict[str, str]) -> None:
    admin = SignedIn(app, "admin")
    done = admin.post("/admin/versions/deployments/1/activate", follow_redirects=True)
    assert done.status_code == 200 and "Deployment 1 is active" in text_of(done)
    assert active_deployment(services) == 1
    assert {v.process_id: v.version for v in list_versions(services) if v.active}["billing_dispute"] == 1
    assert instance(services, dispute(services, "INV-1004", "C-1004")).deployment_id == 1


def test_the_migration_page_lists_each_request_and_moves_one_then_every_safe_one(
        app: Any, services: Any, two_versions: dict[str, str]) -> None:
    admin = SignedIn(app, "admin")
    check = text_of(admin.get("/admin/versions/migrations?from=1&to=2"))
    assert "2 can move, 1 cannot" in check
    assert "it waits at billing_dispute/Task_ProvideInformation, which the new version removes" in check
    first = instance(services, two_versions["investigating"])
    moved = admin.post("/admin/versions/migrations", {"from": "1", "to": "2", "instance": first.id},
                       follow_redirects=True)
    assert moved.status_code == 200 and f"{first.request_reference} moved to deployment 2" in text_of(moved)
    assert instance(services, two_versions["investigating"]).deployment_id == 2
    unsafe = instance(services, two_versions["asked"])
    refused = admin.post("/admin/versions/migrations", {"from": "1", "to": "2", "instance": unsafe.id},
                         follow_redirects=True)
    assert "cannot move" in text_of(refused) and instance(services, two_versions["asked"]) == unsafe
    everything = admin.post("/admin/versions/migrations", {"from": "1", "to": "2"}, follow_redirects=True)
    assert "1 request(s) moved to deployment 2; 1 stay on deployment 1" in text_of(everything)
    assert instance(services, two_versions["approving"]).deployment_id == 2
    assert instance(services, two_versions["asked"]) == unsafe


def _bearer(services: Any, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_token(username, 'tests', 'admin', services).token}"}


def test_the_api_lists_versions_and_only_admins_roll_back_and_move_requests(
        app: Any, services: Any, two_versions: dict[str, str]) -> None:
    client, admin, bob = app.test_client(), _bearer(services, "admin"), _bearer(services, "bob")
    listed = client.get("/api/v1/versions/billing_dispute", headers=bob)
    assert listed.status_code == 200
    assert [(v["version"], v["active"], v["running"]) for v in listed.get_json()["items"]] == [(2, True, 0), (1, False, 3)]
    assert client.get("/api/v1/versions/nothing_here", headers=bob).status_code == 404
    assert client.get("/api/v1/versions/billing_dispute").status_code == 401

    assert client.post("/api/v1/deployments/1/activate", headers=bob).status_code == 403
    rolled = client.post("/api/v1/deployments/1/activate", headers=admin)
    assert rolled.status_code == 200 and rolled.get_json() == {"deployment_id": 1, "previous": 2, "changed": True}

    assert client.post("/api/v1/migrations", json={"from": 1, "to": 2, "all_safe": True}, headers=bob).status_code == 403
    unclear = client.post("/api/v1/migrations", json={"from": 1, "to": 2}, headers=admin)
    assert unclear.status_code == 422 and "instance_id" in unclear.get_json()["field_errors"]
    checked = client.post("/api/v1/migrations", json={"from": 1, "to": 2, "check_only": True}, headers=admin)
    assert sorted(c["safe"] for c in checked.get_json()["checked"]) == [False, True, True]
    unsafe = instance(services, two_versions["asked"])
    refused = client.post("/api/v1/migrations", json={"from": 1, "to": 2, "instance_id": unsafe.id}, headers=admin)
    assert refused.status_code == 409 and "Task_ProvideInformation" in refused.get_json()["message"]
    moved = client.post("/api/v1/migrations", json={"from": 1, "to": 2, "all_safe": True}, headers=admin)
    assert sorted(r["moved"] for r in moved.get_json()["results"]) == [False, True, True]
    assert instance(services, two_versions["asked"]) == unsafe
