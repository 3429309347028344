"""The customer portal over HTTP (Flask test client, CSRF on) on SQLite with the demo data.

Every page; the customer's identity check and the agent's submission on behalf; status links that are
unknown or forged; uploads refused; text shown escaped; the rating given once; and nothing internal ever
shown on a status page.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask.testing import FlaskClient
from sqlalchemy import inspect
from sqlalchemy import text as sql
from testenv import DEMO_NOW, ROOT, build_test_system

from bpmn_requests.bootstrap import build_system
from bpmn_requests.config import Settings
from bpmn_requests.domain.clock import FixedClock
from bpmn_requests.domain.errors import Conflict
from bpmn_requests.store.base import metadata
from bpmn_requests.usecases.notes import Upload, add_attachment, add_note
from bpmn_requests.usecases.portal import NO_SUCH_LINK, NOT_CONFIRMED, open_status_link, status_of
from bpmn_requests.usecases.ports import ServiceRating
from bpmn_requests.usecases.seed_cases import SEED_CASES, run_seed_case
from bpmn_requests.usecases.submit import SubmitRequest, submit_request
from bpmn_requests.usecases.tasks import CompleteTask, complete_task
from bpmn_requests.web import create_app

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
DISPUTE = {"customer_id": "C-1001", "contact_email": "ap@northwind.example", "invoice_numbers": "INV-1001",
           "disputed_amount": "700.00", "description": "Invoice INV-1001 uses the old unit price."}
TYPES = ("billing_dispute", "payment_issue", "credit_onboarding", "credit_adjustment", "debt_restructuring")


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory, screener: object) -> Iterator[tuple[Path, Any]]:
    """A migrated database with the demo data and the shipped version deployed, built once per module."""
    path = tmp_path_factory.mktemp("portal") / "template.db"
    built = build_test_system(f"sqlite:///{path}", screener)
    engine = built.services.engine  # type: ignore[attr-defined]
    built.dispose()  # type: ignore[attr-defined]  # closing the last connection folds the WAL into the file
    yield path, engine


@pytest.fixture
def system(template_db: tuple[Path, Any], tmp_path: Path, screener: object) -> Iterator[Any]:
    """A fresh copy of the template database per test; the engine (and its parsed diagrams) is shared."""
    path, engine = template_db
    shutil.copy(path, tmp_path / "portal.db")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'portal.db'}", processes_dir=ROOT / "processes",
                        forms_dir=ROOT / "forms", sanctions_dir=ROOT / "data" / "sanctions",
                        upload_dir=tmp_path / "uploads", secret_key="portal-tests", max_upload_bytes=64 * 1024)
    built = build_system(settings, clock=FixedClock(DEMO_NOW), screener=screener, engine=engine)
    yield built
    built.dispose()


@pytest.fixture
def client(system: Any) -> Iterator[FlaskClient]:
    app = create_app(system=system, config={"TESTING": True})
    with app.test_client() as client:
        yield client


def csrf(client: FlaskClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert found, f"{path} has no CSRF token"
    return found.group(1)


def post_request(client: FlaskClient, request_type: str = "billing_dispute", files: list[tuple[bytes, str]] = (),
                 **fields: str) -> Any:
    data: dict[str, Any] = {"csrf_token": csrf(client, f"/portal/new/{request_type}"), **fields}
    data["evidence"] = [(io.BytesIO(content), name) for content, name in files]
    return client.post(f"/portal/new/{request_type}", data=data, content_type="multipart/form-data")


def submit_dispute(client: FlaskClient, **changes: str) -> tuple[str, str]:
    """Submit the demo dispute as the customer; returns (reference, status path)."""
    response = post_request(client, **{**DISPUTE, **changes})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    reference = re.search(r"REQ-\d+", page).group(0)  # type: ignore[union-attr]
    link = re.search(r'href="http://localhost(/portal/status/[A-Za-z0-9_-]{43})"', page).group(1)  # type: ignore[union-attr]
    return reference, link


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def counts(system: Any) -> tuple[int, int, int, int]:
    with system.services.uow() as uow:
        session = uow.session
        return tuple(session.execute(sql(f"SELECT count(*) FROM {t}")).scalar_one()
                     for t in ("requests", "audit_events", "portal_links", "attachments"))  # type: ignore[return-value]


def staff_completes(system: Any, reference: str, element_id: str, username: str, data: dict[str, Any]) -> None:
    services = system.services
    with services.uow() as uow:
        task = next(t for t in uow.tasks.open_for_request(reference) if t.element_id == element_id)
        user = uow.users.get(username)
    complete_task(CompleteTask(task.id, user, data), services)


INVESTIGATED = {"decision": "adjust", "corrected_amount": "11800.00", "reason_code": "pricing_error",
                "note": "Checked the contract price list against the invoice lines."}


# --- pages -------------------------------------------------------------------------------------------

def test_the_portal_lists_every_request_type(client: FlaskClient) -> None:
    page = text(client.get("/portal/"))
    for request_type in TYPES:
        assert f'href="/portal/new/{request_type}"' in page


@pytest.mark.parametrize("request_type", TYPES)
def test_each_intake_form_renders_its_fields_with_a_csrf_token_and_an_upload(client: FlaskClient,
                                                                             request_type: str) -> None:
    page = text(client.get(f"/portal/new/{request_type}"))
    assert 'name="csrf_token"' in page and 'enctype="multipart/form-data"' in page
    assert 'name="customer_id"' in page and 'name="contact_email"' in page and 'name="description"' in page
    assert 'type="file"' in page and 'name="evidence"' in page
    assert 'name="channel"' not in page  # only agents choose a channel


def test_an_unknown_request_type_is_not_found(client: FlaskClient) -> None:
    assert client.get("/portal/new/lottery_win").status_code == 404


def test_a_post_without_the_csrf_token_is_refused(client: FlaskClient, system: Any) -> None:
    before = counts(system)
    response = client.post("/portal/new/billing_dispute", data=DISPUTE)
    assert response.status_code == 400 and "security token" in text(response)
    assert counts(system) == before


# --- submitting ----------------------------------------------------------------------------------------

def test_a_customer_submits_with_evidence_and_follows_the_private_status_link(client: FlaskClient,
                                                                               system: Any) -> None:
    response = post_request(client, files=[(PDF, "contract page.pdf")], **DISPUTE)
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    reference = re.search(r"REQ-\d+", page).group(0)  # type: ignore[union-attr]
    token = re.search(r"/portal/status/([A-Za-z0-9_-]{43})", page).group(1)  # type: ignore[union-attr]
    assert client.get("/portal/submitted").status_code == 302  # the link is shown once

    status = client.get(f"/portal/status/{token}")
    body = text(status)
    assert status.status_code == 200 and status.headers["Cache-Control"] == "no-store"
    assert reference in body and "In progress" in body and "old unit price" in body
    assert "Request submitted" in body and "contract page.pdf" in body
    attachment_id = re.search(r"/attachments/([0-9a-f]{32})", body).group(1)  # type: ignore[union-attr]
    download = client.get(f"/portal/status/{token}/attachments/{attachment_id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"

    with system.services.uow() as uow:
        record = uow.requests.get(reference)
        link = uow.portal_links.get(hashlib.sha256(token.encode()).hexdigest())
        stored = uow.session.execute(sql("SELECT token_sha256 FROM portal_links")).all()
    assert (record.requested_by, record.channel) == ("customer:C-1001", "portal")
    assert link is not None and link.request_reference == reference
    assert all(token not in row[0] for row in stored)  # only the hash is kept


def test_a_wrong_email_is_refused_like_an_unknown_customer_and_nothing_is_written(client: FlaskClient,
                                                                                    system: Any) -> None:
    before = counts(system)
    wrong = post_request(client, files=[(PDF, "a.pdf")], **{**DISPUTE, "contact_email": "someone@else.example"})
    unknown = post_request(client, **{**DISPUTE, "customer_id": "C-9999"})
    missing = post_request(client, **{**DISPUTE, "contact_email": ""})
    for response in (wrong, unknown, missing):
        assert response.status_code == 422
        assert NOT_CONFIRMED in text(response)
    assert "C-9999" in text(unknown) and "no customer" not in text(unknown).lower()
    assert counts(system) == before
    assert not system.settings.upload_dir.exists() or not any(system.settings.upload_dir.rglob("*"))


def test_the_email_check_ignores_case(client: FlaskClient) -> None:
    reference, _ = submit_dispute(client, contact_email="AP@Northwind.Example")
    assert reference.startswith("REQ-")


def test_form_errors_are_shown_at_their_fields_and_keep_what_was_typed(client: FlaskClient, system: Any) -> None:
    before = counts(system)
    response = post_request(client, **{**DISPUTE, "invoice_numbers": "1001", "disputed_amount": "-5"})
    page = text(response)
    assert response.status_code == 422
    assert 'id="f-invoice_numbers-error"' in page and 'id="f-disputed_amount-error"' in page
    assert "Invoice INV-1001 uses the old unit price." in page
    assert counts(system) == before


def test_someone_elses_invoice_is_refused_without_saying_whose_it_is(client: FlaskClient) -> None:
    response = post_request(client, **{**DISPUTE, "invoice_numbers": "INV-1002"})
    assert response.status_code == 422
    assert "not an invoice of yours" in text(response) and "C-1002" not in text(response)


def test_an_agent_submits_on_behalf_of_a_customer_without_the_email_check(client: FlaskClient,
                                                                           system: Any) -> None:
    client.post("/login", data={"csrf_token": csrf(client, "/login"), "username": "alice", "password": "demo"})
    form = text(client.get("/portal/new/payment_issue"))
    assert 'name="channel"' in form and 'value="phone"' in form
    response = post_request(client, "payment_issue", customer_id="C-1003", payment_references="PAY-5003",
                            description="Paid INV-1003 but it shows as overdue.", channel="phone")
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    reference = re.search(r"REQ-\d+", page).group(0)  # type: ignore[union-attr]
    assert "Give it to the customer" in page
    with system.services.uow() as uow:
        record = uow.requests.get(reference)
    assert (record.requested_by, record.channel, record.customer_id) == ("alice", "phone", "C-1003")
    unknown = post_request(client, "payment_issue", customer_id="C-9999", payment_references="PAY-5003",
                           description="Who is this?", channel="email")
    assert unknown.status_code == 422 and 'id="f-customer_id-error"' in text(unknown)
    assert "no customer C-9999" in text(unknown)
    no_channel = post_request(client, **{**DISPUTE, "contact_email": ""}, channel="fax")
    assert no_channel.status_code == 422 and "channel must be one of phone, email" in text(no_channel)


def test_staff_who_are_not_agents_are_checked_like_customers(client: FlaskClient, system: Any) -> None:
    client.post("/login", data={"csrf_token": csrf(client, "/login"), "username": "bob", "password": "demo"})
    before = counts(system)
    response = post_request(client, **{**DISPUTE, "contact_email": ""}, channel="phone")
    assert response.status_code == 422 and NOT_CONFIRMED in text(response)
    assert counts(system) == before


def test_a_duplicate_request_shows_the_existing_reference(client: FlaskClient, system: Any) -> None:
    reference, _ = submit_dispute(client)
    before = counts(system)
    again = post_request(client, **DISPUTE)
    assert again.status_code == 409
    assert reference in text(again) and "already have an open request" in text(again)
    assert counts(system) == before


@pytest.mark.parametrize(("content", "name", "message"), [
    (b"MZ\x90\x00", "invoice.exe", "only .csv, .jpeg, .jpg, .pdf, .png, .txt files may be attached"),
    (b"<html>not a pdf</html>", "contract.pdf", "the content is not a application/pdf file"),
    (b"%PDF-" + b"x" * (64 * 1024), "big.pdf", "more than the limit"),
    (b"", "empty.txt", "the file is empty"),
])
def test_bad_evidence_refuses_the_whole_submission(client: FlaskClient, system: Any, content: bytes, name: str,
                                                  message: str) -> None:
    before = counts(system)
    response = post_request(client, files=[(PDF, "good.pdf"), (content, name)], **DISPUTE)
    assert response.status_code == 422 and message in text(response)
    assert counts(system) == before


def test_too_many_files_are_refused(client: FlaskClient, system: Any) -> None:
    before = counts(system)
    response = post_request(client, files=[(PDF, f"page{i}.pdf") for i in range(6)], **DISPUTE)
    assert response.status_code == 422 and "at most 5 files" in text(response)
    assert counts(system) == before


@pytest.mark.parametrize(("request_type", "fields", "details"), [
    ("credit_onboarding", {"customer_id": "C-1006", "contact_email": "ap@litware.example",
                           "requested_limit": "50000", "description": "Net-30 terms."},
     {"requested_limit": "50000.00"}),
    ("credit_adjustment", {"customer_id": "C-1002", "contact_email": "ap@contoso.example",
                           "invoice_numbers": "inv-1002", "adjustment_kind": "write_off", "disputed_amount": "120",
                           "description": "Small balance left."},
     {"invoice_numbers": ["INV-1002"], "adjustment_kind": "write_off", "disputed_amount": "120.00"}),
    ("debt_restructuring", {"customer_id": "C-1007", "contact_email": "ap@wideworldimporters.example",
                            "installments": "3", "invoice_numbers": "INV-1071, INV-1072;INV-1073",
                            "description": "Cash-flow problems."},
     {"installments": 3, "invoice_numbers": ["INV-1071", "INV-1072", "INV-1073"]}),
])
def test_every_type_submits_through_its_form(client: FlaskClient, system: Any, request_type: str,
                                             fields: dict[str, str], details: dict[str, Any]) -> None:
    response = post_request(client, request_type, **fields)
    assert response.status_code == 302, text(response)[:2000]
    reference = re.search(r"REQ-\d+", text(client.get(response.headers["Location"]))).group(0)  # type: ignore[union-attr]
    with system.services.uow() as uow:
        record = uow.requests.get(reference)
    assert record.type == request_type and details.items() <= record.details.items()


# --- status links ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("forged", ["x" * 43, "short", "A" * 42 + "!", "../../etc/passwd"])
def test_an_unknown_or_forged_status_link_is_not_found_and_reveals_nothing(client: FlaskClient,
                                                                          forged: str) -> None:
    reference, link = submit_dispute(client)
    for path in (f"/portal/status/{forged}", f"/portal/status/{forged}/attachments/{'0' * 32}"):
        response = client.get(path)
        assert response.status_code == 404
        assert reference not in text(response) and "Northwind" not in text(response)
    assert NO_SUCH_LINK in text(client.get(f"/portal/status/{'x' * 43}"))
    altered = link[:-1] + ("A" if link[-1] != "A" else "B")
    assert client.get(altered).status_code == 404
    token = csrf(client, link)
    response = client.post(f"/portal/status/{'x' * 43}/comments", data={"csrf_token": token, "body": "hi"})
    assert response.status_code == 404


def test_comments_and_documents_from_the_status_page(client: FlaskClient, system: Any) -> None:
    reference, link = submit_dispute(client)
    response = client.post(f"{link}/comments", data={"csrf_token": csrf(client, link), "body": "Any news?"})
    assert response.status_code == 302
    response = client.post(f"{link}/attachments", content_type="multipart/form-data",
                           data={"csrf_token": csrf(client, link), "file": (io.BytesIO(b"a,b\n1,2\n"),
                                                                            "lines.csv")})
    assert response.status_code == 302
    page = text(client.get(link))
    assert "Any news?" in page and "lines.csv" in page
    refused = client.post(f"{link}/attachments", content_type="multipart/form-data",
                          data={"csrf_token": csrf(client, link),
                                "file": (io.BytesIO(b"\x00\x01"), "photo.gif")})
    assert refused.status_code == 422 and "may be attached" in text(refused)
    empty = client.post(f"{link}/comments", data={"csrf_token": csrf(client, link), "body": "  "})
    assert empty.status_code == 422 and "the note is empty" in text(empty)


def test_html_and_script_typed_by_anyone_are_shown_escaped(client: FlaskClient, system: Any) -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    reference, link = submit_dispute(client, description=f"Wrong price {evil}")
    client.post(f"{link}/comments", data={"csrf_token": csrf(client, link), "body": evil})
    staff_completes(system, reference, "Task_Investigate", "bob",
                    {"decision": "need_info", "question": f"Which price? {evil}", "note": "n"})
    page = text(client.get(link))
    assert "<script>alert" not in page and "<img src=x" not in page
    assert page.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") >= 3
    refused = post_request(client, **{**DISPUTE, "invoice_numbers": "INV-1001<b>", "description": evil})
    assert refused.status_code == 422
    assert evil not in text(refused) and 'value="INV-1001&lt;b&gt;"' in text(refused)


def test_the_customer_answers_a_request_for_information(client: FlaskClient, system: Any) -> None:
    reference, link = submit_dispute(client)
    staff_completes(system, reference, "Task_Investigate", "bob",
                    {"decision": "need_info", "question": "Which unit price did you agree?",
                     "note": "The contract is not in our files."})
    page = text(client.get(link))
    assert "Waiting for your answer" in page and "Which unit price did you agree?" in page
    assert 'name="answer"' in page and "We asked you for information" in page
    assert "not in our files" not in page  # the work note stays inside
    empty = client.post(f"{link}/answer", data={"csrf_token": csrf(client, link), "answer": ""})
    assert empty.status_code == 422 and 'id="f-answer-error"' in text(empty)
    done = client.post(f"{link}/answer", data={"csrf_token": csrf(client, link), "answer": "USD 10.00 a unit."})
    assert done.status_code == 302
    page = text(client.get(link))
    assert "You answered our question" in page and 'name="answer"' not in page
    with system.services.uow() as uow:
        assert [t.element_id for t in uow.tasks.open_for_request(reference)] == ["Task_Investigate"]
    again = client.post(f"{link}/answer", data={"csrf_token": csrf(client, link), "answer": "Again"})
    assert again.status_code == 409


def form_of(client: FlaskClient, link: str) -> tuple[str, str]:
    """The CSRF token and the form id (the answer's message id) of the status page as rendered now."""
    page = text(client.get(link))
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form_id = re.search(r'name="message_id" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    return token, form_id


def delivered(system: Any, reference: str) -> list[dict[str, Any]]:
    with system.services.uow() as uow:
        return [e.after for e in uow.audit.for_subject(reference) if e.action == "message.delivered" and e.after]


def asked(client: FlaskClient, system: Any) -> tuple[str, str]:
    reference, link = submit_dispute(client)
    staff_completes(system, reference, "Task_Investigate", "bob",
                    {"decision": "need_info", "question": "Which unit price did you agree?", "note": "n"})
    return reference, link


def test_sending_the_same_answer_form_twice_has_one_effect_and_says_so(client: FlaskClient, system: Any) -> None:
    reference, link = asked(client, system)
    token, form_id = form_of(client, link)
    data = {"csrf_token": token, "message_id": form_id, "answer": "USD 10.00 a unit."}
    assert client.post(f"{link}/answer", data=data).status_code == 302
    second = client.post(f"{link}/answer", data=data)
    assert second.status_code == 302
    assert "We already have this answer: you sent this form before." in text(client.get(second.headers["Location"]))
    assert len(delivered(system, reference)) == 1
    # Asked again: the old form sent once more is still the old answer, and the new question waits.
    staff_completes(system, reference, "Task_Investigate", "bob",
                    {"decision": "need_info", "question": "And the quantity?", "note": "n"})
    third = client.post(f"{link}/answer", data=data)
    assert third.status_code == 302
    page = text(client.get(link))
    assert "We already have this answer" in page and "And the quantity?" in page and 'name="answer"' in page
    assert len(delivered(system, reference)) == 1
    stale = client.post(f"{link}/answer", data={**data, "message_id": "not a form id!"})
    assert stale.status_code == 422 and "reload the page" in text(stale)


def test_accepting_twice_with_the_same_form_has_one_effect(client: FlaskClient, system: Any) -> None:
    reference, link = submit_dispute(client)
    staff_completes(system, reference, "Task_Investigate", "bob", INVESTIGATED)
    staff_completes(system, reference, "Task_Approve", "carol", {"decision": "approve", "comment": "Checked."})
    token, form_id = form_of(client, link)
    data = {"csrf_token": token, "message_id": form_id, "decision": "accept"}
    assert client.post(f"{link}/respond", data=data).status_code == 302
    again = client.post(f"{link}/respond", data=data)
    assert again.status_code == 302 and "We already have this answer" in text(client.get(link))
    assert [d["message"] for d in delivered(system, reference)] == ["customer_decision"]
    with system.services.uow() as uow:
        record = uow.requests.get(reference)
        assert (record.status, record.outcome) == ("closed", "resolved")
        assert len(uow.finance.postings_for(reference)) == 1


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def test_an_answer_brings_documents_that_are_attached_and_named_in_it(client: FlaskClient, system: Any) -> None:
    reference, link = asked(client, system)
    token, form_id = form_of(client, link)
    response = client.post(f"{link}/answer", content_type="multipart/form-data", data={
        "csrf_token": token, "message_id": form_id, "answer": "See the signed price list.",
        "files": [(io.BytesIO(PDF), "letter.pdf"), (io.BytesIO(PNG), "price list.png")]})
    assert response.status_code == 302, text(response)[:2000]
    page = text(client.get(link))
    assert "Thank you: we have your answer and 2 documents" in page
    assert "letter.pdf" in page and "price list.png" in page
    with system.services.uow() as uow:
        record = uow.requests.get(reference)
        files = uow.attachments.for_request(reference)
    [step] = [s for s in record.steps if s.element_id == "Task_ProvideInformation"]
    assert step.data == {"answer": "See the signed price list.\n\nAttached: letter.pdf, price list.png"}
    assert {(f.filename, f.visibility, f.uploaded_by) for f in files} == {
        ("letter.pdf", "customer", "customer:C-1001"), ("price list.png", "customer", "customer:C-1001")}


@pytest.mark.parametrize(("files", "answer", "message"), [
    ([(b"\x00\x01", "photo.gif")], "See the photo.", "may be attached"),
    ([(PDF, f"page{i}.pdf") for i in range(6)], "All pages.", "attach at most 5 files"),
    ([(b"<html>", "letter.pdf")], "See the letter.", "not a application/pdf file"),
    ([], "", 'id="f-answer-error"'),
])
def test_a_bad_answer_or_document_refuses_the_whole_answer(client: FlaskClient, system: Any,
                                                           files: list[tuple[bytes, str]], answer: str,
                                                           message: str) -> None:
    reference, link = asked(client, system)
    token, form_id = form_of(client, link)
    before = counts(system)
    response = client.post(f"{link}/answer", content_type="multipart/form-data", data={
        "csrf_token": token, "message_id": form_id, "answer": answer,
        "files": [(io.BytesIO(content), name) for content, name in files]})
    assert response.status_code == 422 and message in text(response)
    assert counts(system) == before and delivered(system, reference) == []
    assert "Waiting for your answer" in text(client.get(link))


def test_documents_alone_answer_the_question(client: FlaskClient, system: Any) -> None:
    reference, link = asked(client, system)
    token, form_id = form_of(client, link)
    response = client.post(f"{link}/answer", content_type="multipart/form-data", data={
        "csrf_token": token, "message_id": form_id, "answer": "", "files": [(io.BytesIO(PDF), "contract.pdf")]})
    assert response.status_code == 302
    assert delivered(system, reference)[0]["variables"] == {"answer": "Attached: contract.pdf"}


def test_the_history_shows_answers_given_as_messages_and_a_closure_without_an_answer(
        client: FlaskClient, system: Any) -> None:
    from bpmn_requests.usecases.jobs import run_due_work
    from bpmn_requests.usecases.messages import IncomingMessage, send_message

    reference, link = asked(client, system)
    # The customer answered by phone; the agent sends the answer for them.
    send_message(IncomingMessage("customer_answer", reference, {"answer": "USD 10.00"}, "call-1", "alice"),
                 system.services)
    page = text(client.get(link))
    assert "You answered our question" in page and "alice" not in page
    staff_completes(system, reference, "Task_Investigate", "bob",
                    {"decision": "need_info", "question": "And the quantity?", "note": "n"})
    system.services.clock.advance(timedelta(days=15))  # the answer period (14 days) is over
    run_due_work(system.services)
    page = text(client.get(link))
    assert "Closed without your answer" in page and "Closed" in page
    assert "We closed your request because we did not receive your answer" in page
    assert 'name="answer"' not in page and "How did we do?" in page


def test_the_customer_rejects_then_accepts_the_proposal_and_rates_once(client: FlaskClient, system: Any) -> None:
    reference, link = submit_dispute(client)
    early = client.post(f"{link}/rating", data={"csrf_token": csrf(client, link), "score": "5"})
    assert early.status_code == 409 and "once your request is closed" in text(early)
    staff_completes(system, reference, "Task_Investigate", "bob", INVESTIGATED)
    staff_completes(system, reference, "Task_Approve", "carol", {"decision": "approve", "comment": "Checked against the contract."})
    page = text(client.get(link))
    assert "Our proposal" in page and "a credit note of USD 700.00 on invoice INV-1001" in page
    rejected = client.post(f"{link}/respond", data={"csrf_token": csrf(client, link), "decision": "reject",
                                                    "comment": "Not enough."})
    assert rejected.status_code == 302
    staff_completes(system, reference, "Task_Investigate", "bob", {**INVESTIGATED, "corrected_amount": "11500.00"})
    staff_completes(system, reference, "Task_Approve", "carol", {"decision": "approve", "comment": "Checked against the contract."})
    accepted = client.post(f"{link}/respond", data={"csrf_token": csrf(client, link), "decision": "accept"})
    assert accepted.status_code == 302
    page = text(client.get(link))
    assert "Closed" in page and "Resolved" in page and "How did we do?" in page
    assert "You declined the proposed resolution" in page and "You accepted the proposed resolution" in page
    bad = client.post(f"{link}/rating", data={"csrf_token": csrf(client, link), "score": "9"})
    assert bad.status_code == 422
    rated = client.post(f"{link}/rating", data={"csrf_token": csrf(client, link), "score": "4", "comment": "Quick."})
    assert rated.status_code == 302 and "4 out of 5" in text(client.get(link))
    # A closed and rated request has no form left; the session's CSRF token is still the same.
    twice = client.post(f"{link}/rating", data={"csrf_token": csrf(client, "/portal/new/billing_dispute"),
                                                 "score": "1"})
    assert twice.status_code == 409
    with system.services.uow() as uow:
        rating = uow.ratings.get(reference)
    assert rating is not None and (rating.score, rating.comment) == (4, "Quick.")


def test_nothing_internal_is_shown_for_a_blocked_request(client: FlaskClient, system: Any) -> None:
    result = run_seed_case(SEED_CASES[6], system.services)  # case 7: the director is on the SDN list
    token = open_status_link(result.reference, "alice", system.services)
    page = text(client.get(f"/portal/status/{token}"))
    assert result.reference in page and "Closed" in page and "unable to process" in page
    lowered = page.lower()
    for secret in ("sanctions", "noriega", "kyc", "sdn", "frank", "compliance", "confirm_match", "blocked",
                   "alice", "director", "rationale"):
        assert secret not in lowered, secret


def test_nothing_internal_is_shown_for_a_resolved_request(client: FlaskClient, system: Any) -> None:
    result = run_seed_case(SEED_CASES[0], system.services)  # case 1: bob investigates, carol approves
    services = system.services
    with services.uow() as uow:
        bob = uow.users.get("bob")
    add_note(result.reference, bob, "Customer was rude on the phone; watch the account.", "internal", services)
    inside = add_attachment(result.reference, bob, Upload("margin.csv", b"cost,price\n9,12\n"), "internal",
                            system.settings.upload_dir, system.settings.max_upload_bytes, services)
    token = open_status_link(result.reference, "alice", services)
    page = text(client.get(f"/portal/status/{token}"))
    assert "a credit note of USD 700.00" in page  # what was proposed to the customer, in our message
    lowered = page.lower()
    for secret in ("carol", "bob", "alice", "rude", "margin.csv", "checked the contract price list", "pricing_error",
                   "approv", "je-", "posting", "kyc", "11800", "level"):
        assert secret not in lowered, secret
    assert client.get(f"/portal/status/{token}/attachments/{inside.id}").status_code == 404


def test_the_migrated_schema_has_the_portal_tables_as_the_metadata_says(system: Any) -> None:
    with system.db.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    ours = [d for d in differences if "portal_links" in repr(d) or "service_ratings" in repr(d)]
    assert ours == []
    with system.db.connect() as connection:
        names = set(inspect(connection).get_table_names())
    assert {"portal_links", "service_ratings"} <= names


def test_portal_links_and_ratings_are_stored_alike_on_sqlite_and_postgresql(database_url: str,
                                                                              screener: object) -> None:
    built: Any = build_test_system(database_url, screener)
    try:
        services = built.services
        reference = submit_request(SubmitRequest({"type": "billing_dispute", "customer_id": "C-1001",
                                                  "invoice_numbers": ["INV-1001"], "description": "Old price."},
                                                 "customer:C-1001", "portal"), services).reference
        token = open_status_link(reference, "customer:C-1001", services)
        assert status_of(token, services).reference == reference
        with services.uow() as uow:
            uow.ratings.add(ServiceRating(reference, 4, "", DEMO_NOW))
            with pytest.raises(Conflict):
                uow.ratings.add(ServiceRating(reference, 1, "again", DEMO_NOW))
            uow.commit()  # the refused duplicate left the transaction usable
        with services.uow() as uow:
            assert uow.ratings.get(reference) == ServiceRating(reference, 4, "", DEMO_NOW)
        with built.db.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, metadata)
        assert [d for d in differences if "portal_links" in repr(d) or "service_ratings" in repr(d)] == []
    finally:
        built.dispose()
