"""Seed case 1 in a real browser: alice records Northwind's dispute, bob investigates (first with a mistake),
carol approves. Screenshots of the main pages at 1280 and 360 pixels wide go to test-output/screenshots/."""

from __future__ import annotations

import json
import re
from typing import Any

from browser_helpers import both_widths, sign_in
from playwright.sync_api import expect

from bpmn_requests.forms import compile_feel
from bpmn_requests.usecases.queries import show_request


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def alice_records_the_dispute(page: Any, base: str) -> str:
    """alice takes Northwind's call and records the dispute in the portal on the customer's behalf."""
    sign_in(page, base, "alice")
    expect(page.get_by_text("Nothing to do right now.")).to_be_visible()
    page.goto(f"{base}/portal/new/billing_dispute")
    page.check("#channel-email")
    page.fill("#f-customer_id", "C-1001")
    page.fill("#f-invoice_numbers", "INV-1001")
    page.fill("#f-disputed_amount", "700.00")
    page.fill("#f-description", "Invoice INV-1001 uses the old unit price.")
    page.get_by_role("button", name="Send request").click()
    reference = page.locator("strong.reference").inner_text().strip()
    assert re.fullmatch(r"REQ-\d+", reference)
    page.goto(f"{base}/requests?customer=northwind")
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", name=f"{reference} · billing dispute")).to_be_visible()
    sign_out(page)
    return reference


def bob_investigates(page: Any, base: str, reference: str) -> None:
    sign_in(page, base, "bob")
    row = page.locator("tr", has=page.get_by_role("link", name=reference))
    expect(row).to_contain_text("Investigate dispute")
    both_widths(page, "inbox")
    row.get_by_role("link", name="Investigate dispute").click()

    amount, reason = page.locator("#f-corrected_amount"), page.locator("#f-reason_code")
    expect(amount).to_be_hidden()
    expect(reason).to_be_hidden()
    page.get_by_label("Adjust the invoice").check()
    expect(amount).to_be_visible()  # forms.js shows the fields as soon as bob chooses "adjust"
    expect(reason).to_be_visible()
    page.get_by_label("Reject: the invoice is correct").check()
    expect(amount).to_be_hidden()
    page.get_by_label("Adjust the invoice").check()
    amount.fill("11800.00")
    reason.select_option("pricing_error")
    page.fill("#f-note", "   ")  # only spaces: the browser lets it through, the server refuses it
    page.get_by_role("button", name="Complete task").click()

    expect(page.locator("#f-note-error")).to_have_text("is required")
    expect(page.locator("#f-note")).to_have_attribute("aria-invalid", "true")
    expect(amount).to_have_value("11800.00")  # what bob typed is kept
    expect(reason).to_have_value("pricing_error")
    expect(page.get_by_label("Adjust the invoice")).to_be_checked()
    both_widths(page, "task-investigation")

    page.fill("#f-note", "Contract price list checked: the invoice uses last year's unit price.")
    page.get_by_role("button", name="Complete task").click()
    expect(page.locator(".flash")).to_contain_text(f"Investigate dispute on {reference} is done")
    sign_out(page)


def carol_approves(page: Any, base: str, reference: str) -> None:
    sign_in(page, base, "carol")
    row = page.locator("tr", has=page.get_by_role("link", name=reference))
    row.get_by_role("link", name="Approve change").click()
    expect(page.locator(".form-text")).to_contain_text("credit_memo")
    expect(page.locator(".summary")).to_contain_text("Northwind Traders Inc.")
    both_widths(page, "task-approval")
    page.get_by_label("Approve", exact=True).check()
    page.fill("#f-comment", "Checked against contract and evidence.")
    page.get_by_role("button", name="Complete task").click()
    expect(page.locator(".flash")).to_contain_text(f"Approve change on {reference} is done")


def test_alice_bob_and_carol_take_seed_case_1_through_investigation_and_approval(
        live_server: Any, live_system: Any, page: Any) -> None:
    base = live_server.url
    errors: list[str] = []
    # Error statuses (the expected 422, a missing favicon) are logged too: keep script errors and CSP refusals.
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource") else None)
    page.on("pageerror", lambda error: errors.append(str(error)))

    reference = alice_records_the_dispute(page, base)
    bob_investigates(page, base, reference)
    carol_approves(page, base, reference)

    page.goto(f"{base}/requests/{reference}")
    expect(page.locator("#approvals")).to_contain_text("carol")
    expect(page.locator("#postings")).to_contain_text("CM-")
    expect(page.locator("#postings")).to_contain_text("credit memo USD 700.00")
    expect(page.locator(".diagram svg").first).to_be_visible()
    both_widths(page, "request-record")

    record = show_request(reference, live_system.services)
    assert record["status"] == "awaiting_customer"
    assert [(a["approver"], a["decision"], a["level"]) for a in record["approvals"]] == [("carol", "approve", 1)]
    [posting] = record["postings"]
    assert (posting["kind"], posting["amount"], posting["invoice"]) == ("credit_memo", "700.00", "INV-1001")
    assert errors == []  # no script errors and no CSP violations on any page


CONDITIONS = [
    ('=decision != "adjust"', {"decision": "adjust"}), ('=decision != "adjust"', {}),
    ("amount > 100 and not(urgent)", {"amount": 150, "urgent": False}),
    ("amount > 100 or urgent", {"amount": None, "urgent": None}),
    ('kind in ["a", "b"]', {"kind": "b"}), ('kind in ("a", "c")', {"kind": "b"}),
    ('list contains(tags, "x")', {"tags": ["y", "x"]}), ("customer.country = \"US\"", {"customer": {"country": "US"}}),
    ("x = null", {}), ("x < 3", {"x": "2"}), ("-1.5 < x", {"x": 0}), ("not(x)", {"x": 1}),
    ('name = "say \\"hi\\""', {"name": 'say "hi"'}), ("[1, 2] = [1, 2]", {}), ("true and null", {}),
    ("false and null", {}), ("a >= b", {"a": "b", "b": "a"}),
]


def test_the_browser_evaluates_conditions_exactly_like_the_server(live_server: Any, page: Any) -> None:
    page.goto(f"{live_server.url}/static/forms.js")  # any page of the app: the script needs no form
    page.set_content('<form data-camunda-form></form>')
    page.add_script_tag(url=f"{live_server.url}/static/forms.js")
    for expression, data in CONDITIONS:
        browser = page.evaluate("([e, d]) => window.bpmnFeel.evaluate(window.bpmnFeel.parse(e), d)",
                                [expression, data])
        server = compile_feel(expression).evaluate(json.loads(json.dumps(data)))
        expected = float(server) if server is not None and not isinstance(server, bool | str | list) else server
        assert browser == expected, expression


ROWS_FORM = """{
  "id": "rows", "type": "default", "schemaVersion": 16,
  "components": [
    {"id": "d", "type": "radio", "key": "decision", "label": "Decision",
     "values": [{"label": "Yes", "value": "yes"}, {"label": "No", "value": "no"}]},
    {"id": "g", "type": "group", "label": "Contact", "path": "contact", "components": [
      {"id": "n", "type": "textfield", "key": "name", "label": "Name", "conditional": {"hide": "=decision = \\"no\\""}}]},
    {"id": "l", "type": "dynamiclist", "label": "Lines", "path": "lines", "components": [
      {"id": "q", "type": "number", "key": "qty", "label": "Quantity"},
      {"id": "w", "type": "textfield", "key": "why", "label": "Why so many?",
       "conditional": {"hide": "=qty = null or qty < threshold"}}]}
  ]
}"""


def test_the_form_script_adds_rows_and_shows_fields_as_the_user_types(live_server: Any, live_system: Any,
                                                                      page: Any) -> None:
    from flask import render_template_string

    from bpmn_requests.forms import parse_form
    from bpmn_requests.web import create_app
    from bpmn_requests.web.forms_render import render_form

    with create_app(system=live_system).test_request_context():
        html = render_template_string(
            "{% from 'forms/macros.html' import render_form %}<form data-camunda-form>{{ render_form(r) }}</form>",
            r=render_form(parse_form(ROWS_FORM, "rows.form"), {"threshold": 10}))
    page.goto(f"{live_server.url}/login")  # the app's origin, so its script may run
    page.set_content(html)
    page.add_script_tag(url=f"{live_server.url}/static/forms.js")

    expect(page.locator(".refresh")).to_be_hidden()  # the no-script "Update form" button is not needed
    expect(page.locator("#f-lines-0-why-field")).to_be_hidden()
    page.get_by_role("button", name="Add row").click()
    page.fill("#f-lines-1-qty", "20")
    expect(page.locator("#f-lines-1-why")).to_be_visible()
    expect(page.locator("#f-lines-1-why")).to_be_enabled()
    page.fill("#f-lines-1-why", "Trade fair")
    page.get_by_role("button", name="Remove row").first.click()
    expect(page.locator("[data-row]")).to_have_count(1)
    page.get_by_label("No").check()
    expect(page.locator("#f-contact-name")).to_be_hidden()
    expect(page.locator("#f-contact-name")).to_be_disabled()
    posted = page.evaluate("[...new FormData(document.querySelector('form')).entries()]")
    assert [name for name, _ in posted if not name.startswith("form-")] == ["decision", "lines[1].qty", "lines[1].why"]
    page.get_by_label("Yes").check()
    expect(page.locator("#f-contact-name")).to_be_enabled()
