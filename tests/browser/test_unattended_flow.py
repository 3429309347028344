"""Unattended work in real Chromium: an admin finds an incident from the request page, reads the variables
at the failure, is refused a malformed result beside the field, and skips the step with a good one; the
request goes on. Screenshots at 1280 and 360 px wide go to test-output/screenshots/."""

from __future__ import annotations

from typing import Any

from browser_helpers import both_widths, sign_in
from playwright.sync_api import expect

from bpmn_requests.domain.errors import ServiceTaskError
from bpmn_requests.domain.ports import BureauReport
from bpmn_requests.usecases.jobs import run_due_work
from bpmn_requests.usecases.submit import SubmitRequest, submit_request

ONBOARDING = {"type": "credit_onboarding", "customer_id": "C-1006", "requested_limit": "50000.00",
              "description": "New customer onboarding; requests net-30 terms with a 50k limit."}


class RefusingBureau:
    """A credit bureau that refuses every report: a permanent error, so the step becomes an incident."""

    def report(self, customer_id: str, name: str, country: str, registration: str | None) -> BureauReport:
        raise ServiceTaskError("credit bureau: HTTP 400 on /reports", error_code="bureau_refused")


def test_an_admin_skips_a_failed_step_from_the_incident_page(live_server: Any, live_system: Any, page: Any) -> None:
    services = live_system.services
    services.bureau = RefusingBureau()
    reference = submit_request(SubmitRequest(ONBOARDING, "alice", "api"), services).reference
    run_due_work(services)  # the worker runs credit/score, the bureau refuses: an incident
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource") else None)
    page.on("pageerror", lambda error: errors.append(str(error)))

    base = live_server.url
    sign_in(page, base, "admin")
    page.goto(f"{base}/requests/{reference}")
    banner = page.locator(".banner.incident")
    expect(banner).to_contain_text("Stopped by an incident")
    expect(banner).to_contain_text("bureau_refused")
    banner.get_by_role("link", name="Resolve incident 1").click()

    expect(page.get_by_role("heading", name=f"Incident 1 · {reference}")).to_be_visible()
    expect(page.locator("pre.json").first).to_contain_text('"customer_id": "C-1006"')
    both_widths(page, "incident")
    result = page.get_by_label("The step's outputs, as a JSON object")
    result.fill('{"credit_score": 70, "risk_class": "B"')
    page.get_by_role("button", name="Skip the step").click()
    expect(page.locator("#skip-result-error")).to_contain_text("not valid JSON")
    expect(result).to_have_attribute("aria-invalid", "true")
    expect(result).to_have_value('{"credit_score": 70, "risk_class": "B"')  # what the admin typed is kept
    result.fill('{"credit_score": 70, "risk_class": "B", "recommended_limit": "20000.00"}')
    page.get_by_role("button", name="Skip the step").click()
    expect(page.locator(".flash")).to_contain_text("was skipped with the result you gave")
    expect(page.locator("#what-title + dl")).to_contain_text("skipped")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Incidents").click()
    expect(page.get_by_text("No open incidents: every request runs.")).to_be_visible()
    both_widths(page, "incidents")
    page.goto(f"{base}/requests/{reference}")
    expect(page.locator(".banner.incident")).to_have_count(0)
    expect(page.locator("#tasks")).to_contain_text("Review credit")
    assert errors == []  # no script errors and no CSP violations
