"""Admin pages over HTTP (CSRF on): users, groups, deactivation, API tokens; and the `tokens` command."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from testenv import DEMO_NOW, ROOT, build_test_system
from web_client import SignedIn

from bpmn_requests.bootstrap import build_system
from bpmn_requests.cli import main
from bpmn_requests.config import Settings
from bpmn_requests.domain.clock import FixedClock
from bpmn_requests.usecases.submit import SubmitRequest, submit_request
from bpmn_requests.usecases.tokens import list_tokens
from bpmn_requests.web import create_app

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TOKEN = re.compile(r'value="(brq_[A-Za-z0-9_-]{43})"')
DISPUTE = {"type": "billing_dispute", "customer_id": "C-1001", "invoice_numbers": ["INV-1001"],
           "description": "Invoice INV-1001 uses the old unit price."}


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory, screener: object) -> Iterator[tuple[Path, Any]]:
    path = tmp_path_factory.mktemp("admin") / "template.db"
    built: Any = build_test_system(f"sqlite:///{path}", screener)
    built.dispose()  # closing the last connection folds the WAL into the file
    yield path, built.services.engine


@pytest.fixture
def system(template_db: tuple[Path, Any], tmp_path: Path, screener: object) -> Iterator[Any]:
    """A fresh copy of the template database per test."""
    path, engine = template_db
    shutil.copy(path, tmp_path / "admin.db")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'admin.db'}", processes_dir=ROOT / "processes",
                        forms_dir=ROOT / "forms", sanctions_dir=ROOT / "data" / "sanctions",
                        secret_key="admin-tests")
    built = build_system(settings, clock=FixedClock(DEMO_NOW), screener=screener, engine=engine)
    yield built
    built.dispose()


@pytest.fixture
def app(system: Any) -> Any:
    return create_app(system=system, config={"TESTING": True})


def api_status(app: Any, token: str) -> int:
    return int(app.test_client().get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).status_code)


def users_of(system: Any) -> dict[str, Any]:
    with system.services.uow() as uow:
        return {u.username: u for u in uow.users.all()}


def audit_actions(system: Any, subject: str) -> list[tuple[str, str]]:
    with system.services.uow() as uow:
        return [(e.actor, e.action) for e in uow.audit.for_subject(subject)]


def test_admin_pages_are_for_admins_only(app: Any, system: Any) -> None:
    anonymous = app.test_client().get("/admin/users")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    before = users_of(system)
    for username in ("alice", "bob", "carol", "erin"):
        browser = SignedIn(app, username, next_url="/admin/users", must_succeed=False)
        assert browser.signed_in.status_code == 302
        assert browser.get("/admin/users").status_code == 403
        assert browser.get("/admin/users/bob").status_code == 403
        refused = browser.post("/admin/users", {"username": "mallory", "full_name": "M", "groups": "admins",
                                                "password": "letmein"})
        assert refused.status_code == 403
        assert browser.post("/admin/users/bob/groups", {"groups": "admins"}).status_code == 403
        assert browser.post("/admin/users/bob/tokens", {"name": "x"}).status_code == 403
    assert users_of(system) == before
    assert list_tokens(system.services) == []


def test_admin_sees_every_user_with_groups(app: Any) -> None:
    admin = SignedIn(app, "admin")
    page = admin.get("/admin/users")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for username, groups in (("alice", "agents"), ("carol", "ar_supervisors"), ("grace", "credit")):
        assert f">{username}</a>" in text and groups in text
    detail = admin.get("/admin/users/carol").get_data(as_text=True)
    assert 'value="ar_supervisors" checked' in detail and 'value="billing">' in detail
    assert admin.get("/admin/users/nobody").status_code == 404


def test_forms_without_the_csrf_token_are_refused(app: Any, system: Any) -> None:
    admin = SignedIn(app, "admin")
    before = users_of(system)
    form = {"username": "hank", "full_name": "Hank Billing", "groups": "billing", "password": "s3cret"}
    assert admin.post("/admin/users", form, csrf=False).status_code == 400
    assert admin.client.post("/admin/users", data={**form, "csrf_token": "forged"}).status_code == 400
    assert admin.post("/admin/users/bob/groups", {"groups": "admins"}, csrf=False).status_code == 400
    assert admin.post("/admin/users/bob/active", {"active": "0"}, csrf=False).status_code == 400
    assert admin.post("/admin/users/bob/tokens", {"name": "x"}, csrf=False).status_code == 400
    assert users_of(system) == before and list_tokens(system.services) == []


def test_a_created_user_can_sign_in_at_once(app: Any, system: Any) -> None:
    admin = SignedIn(app, "admin")
    created = admin.client.post("/admin/users", data={
        "username": "hank", "full_name": "Hank Billing", "groups": ["billing", "agents"],
        "password": "s3cret-pass", "csrf_token": admin.token})
    assert created.status_code == 302 and created.headers["Location"].endswith("/admin/users/hank")
    hank = users_of(system)["hank"]
    assert hank.groups == {"billing", "agents"} and hank.active
    assert SignedIn(app, "hank", "s3cret-pass", next_url="/admin/users", must_succeed=False).signed_in.status_code == 302
    assert SignedIn(app, "hank", "wrong", next_url="/admin/users", must_succeed=False).signed_in.status_code == 401
    assert ("admin", "user.created") in audit_actions(system, "user:hank")


@pytest.mark.parametrize(("form", "status", "message"), [
    ({"username": "hank", "full_name": "Hank", "groups": "wizards", "password": "s3cret"}, 422, "unknown group"),
    ({"username": "hank", "full_name": "Hank", "password": "s3cret"}, 422, "at least one group"),
    ({"username": "hank", "full_name": "", "groups": "billing", "password": "s3cret"}, 422, "full name"),
    ({"username": "hank", "full_name": "Hank", "groups": "billing", "password": "abc"}, 422, "password"),
    ({"username": "no spaces", "full_name": "Hank", "groups": "billing", "password": "s3cret"}, 422, "username"),
    ({"username": "bob", "full_name": "Bob Again", "groups": "billing", "password": "s3cret"}, 409, "exists"),
])
def test_a_refused_user_is_not_created(app: Any, system: Any, form: dict[str, str], status: int,
                                       message: str) -> None:
    admin = SignedIn(app, "admin")
    before = users_of(system)
    refused = admin.post("/admin/users", form)
    assert refused.status_code == status
    assert message in refused.get_data(as_text=True)
    assert users_of(system) == before


def test_a_removed_group_loses_its_tasks_and_claims(app: Any, system: Any) -> None:
    services = system.services
    reference = submit_request(SubmitRequest(DISPUTE, "alice"), services).reference
    admin = SignedIn(app, "admin")
    created = admin.post("/admin/users/bob/tokens", {"name": "bob's scripts"})
    token = TOKEN.search(created.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    [task] = api.get("/api/v1/tasks", headers=headers).get_json()["items"]
    assert task["reference"] == reference
    assert api.post(f"/api/v1/tasks/{task['id']}/claim", headers=headers).status_code == 200

    changed = admin.post("/admin/users/bob/groups", {"groups": "agents"})
    assert changed.status_code == 302
    assert api.get("/api/v1/tasks", headers=headers).get_json()["items"] == []
    with services.uow() as uow:
        assert uow.tasks.get(task["id"]).claimed_by is None  # back with the billing team
    refused = api.post(f"/api/v1/tasks/{task['id']}/claim", headers=headers)
    assert refused.status_code == 403 and refused.get_json()["code"] == "forbidden"
    assert ("admin", "user.groups_changed") in audit_actions(system, "user:bob")

    assert admin.post("/admin/users/bob/groups", {"groups": "billing"}).status_code == 302
    assert [t["id"] for t in api.get("/api/v1/tasks", headers=headers).get_json()["items"]] == [task["id"]]


def test_an_admin_cannot_lock_themselves_out(app: Any, system: Any) -> None:
    admin = SignedIn(app, "admin")
    assert admin.post("/admin/users/admin/groups", {"groups": "agents"}).status_code == 409
    assert admin.post("/admin/users/admin/active", {"active": "0"}).status_code == 409
    assert users_of(system)["admin"].groups == {"admins"} and users_of(system)["admin"].active


def test_deactivation_ends_sign_in_sessions_and_tokens_until_reactivated(app: Any, system: Any) -> None:
    admin = SignedIn(app, "admin")
    carol = SignedIn(app, "carol")
    assert carol.get("/").status_code == 200
    token = TOKEN.search(admin.post("/admin/users/carol/tokens", {"name": "t"}).get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    assert api_status(app, token) == 200

    assert admin.post("/admin/users/carol/active", {"active": "0"}).status_code == 302
    assert not users_of(system)["carol"].active
    assert carol.get("/").status_code == 302  # the open session is gone
    assert SignedIn(app, "carol", next_url="/admin/users", must_succeed=False).signed_in.status_code == 401
    assert api_status(app, token) == 401
    assert "deactivated" in admin.get("/admin/users").get_data(as_text=True)

    assert admin.post("/admin/users/carol/active", {"active": "1"}).status_code == 302
    assert SignedIn(app, "carol", next_url="/admin/users", must_succeed=False).signed_in.status_code == 302
    assert api_status(app, token) == 200
    assert [a for _, a in audit_actions(system, "user:carol")][-2:] == ["user.deactivated", "user.reactivated"]


def test_tokens_are_shown_once_listed_and_revoked(app: Any, system: Any) -> None:
    admin = SignedIn(app, "admin")
    created = admin.post("/admin/users/bob/tokens", {"name": "ERP integration"})
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    token = TOKEN.search(created.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    assert api_status(app, token) == 200

    detail = admin.get("/admin/users/bob").get_data(as_text=True)
    assert "ERP integration" in detail and token not in detail
    [info] = list_tokens(system.services, "bob")
    assert info.last_used_at is not None
    assert admin.post("/admin/users/bob/tokens", {"name": " "}).status_code == 422

    revoked = admin.post(f"/admin/tokens/{info.id}/revoke")
    assert revoked.status_code == 302 and revoked.headers["Location"].endswith("/admin/users/bob")
    assert api_status(app, token) == 401
    assert admin.post("/admin/tokens/999/revoke").status_code == 404
    assert admin.post(f"/admin/tokens/{2**64}/revoke").status_code == 404
    assert [a for _, a in audit_actions(system, "user:bob")][-2:] == ["api_token.created", "api_token.revoked"]


def test_the_tokens_command_creates_lists_and_revokes(app: Any, system: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BPMN_REQUESTS_DATABASE_URL", system.settings.database_url)
    runner = CliRunner()
    created = runner.invoke(main, ["tokens", "create", "--user", "bob", "--name", "nightly export", "--json"])
    assert created.exit_code == 0, created.output
    made = json.loads(created.output)
    assert made["username"] == "bob" and made["token"].startswith("brq_")
    assert api_status(app, made["token"]) == 200

    plain = runner.invoke(main, ["tokens", "create", "--user", "grace", "--name", "credit bureau"])
    assert plain.exit_code == 0 and "not shown again" in plain.output
    listed = json.loads(runner.invoke(main, ["tokens", "list", "--json"]).output)
    assert [(t["username"], t["name"]) for t in listed] == [("bob", "nightly export"), ("grace", "credit bureau")]
    assert all("token" not in t for t in listed) and made["token"] not in runner.invoke(main, ["tokens", "list"]).output

    revoked = runner.invoke(main, ["tokens", "revoke", str(made["id"])])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert api_status(app, made["token"]) == 401
    missing = runner.invoke(main, ["tokens", "create", "--user", "nobody", "--name", "x"])
    assert missing.exit_code == 1 and "no user nobody" in missing.output
