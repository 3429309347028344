"""The HTTP credit bureau client against a fake bureau: each failure is classified for the job runner
(transient: retried with backoff; permanent: an incident or a BPMN error), and a report feeds credit/score,
also through the real job runner on the in-memory services."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from fakes.bureau_server import BureauServer
from finance_fakes import make_context, make_record
from support import drain, instance, open_elements, submit

from bpmn_requests.domain.errors import ServiceTaskError
from bpmn_requests.service_tasks.credit_bureau import HttpCreditBureau
from bpmn_requests.service_tasks.credit_score import DEFINITION as CREDIT_SCORE
from bpmn_requests.usecases.context import Services

TIMEOUT = 0.3  # the client's; the fake's "timeout" answer takes longer


def _ask(url: str) -> None:
    HttpCreditBureau(url, timeout=TIMEOUT).report("C-1006", "Litware, Inc.", "US", "REG-1")


def _refusal(url: str) -> ServiceTaskError:
    with pytest.raises(ServiceTaskError) as caught:
        _ask(url)
    return caught.value


@pytest.mark.parametrize(("behaviour", "code", "transient"), [
    ("503", "bureau_unavailable", True),
    ("500", "bureau_unavailable", True),
    ("429", "bureau_unavailable", True),
    ("timeout", "bureau_unavailable", True),
    ("reset", "bureau_unavailable", True),
    ("404", "bureau_no_record", False),
    ("400", "bureau_refused", False),
    ("garbage", "bureau_bad_answer", False),
])
def test_each_failure_maps_to_its_error_code_and_transient_flag(behaviour: str, code: str,
                                                                transient: bool) -> None:
    with BureauServer(script=[behaviour], slow_seconds=3) as bureau:
        error = _refusal(bureau.url)
        assert bureau.calls == 1
    assert (error.error_code, error.transient) == (code, transient)
    assert "/reports" in error.message and "Litware" not in error.message  # the path, never the query


def test_a_status_is_named_in_the_message() -> None:
    with BureauServer(script=["503"]) as bureau:
        assert "HTTP 503" in _refusal(bureau.url).message


def test_a_refused_connection_is_transient() -> None:
    with socket.socket() as probe:  # a port nobody listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    error = _refusal(f"http://127.0.0.1:{port}")
    assert (error.error_code, error.transient) == ("bureau_unavailable", True)


def test_a_name_that_does_not_resolve_is_transient() -> None:
    error = _refusal("http://bureau.invalid")
    assert (error.error_code, error.transient) == ("bureau_unavailable", True)
    assert "bureau.invalid" in error.message


@pytest.mark.parametrize(("score", "delinquencies"), [(900, 0), (299, 0), (700, -1)])
def test_an_answer_outside_the_contract_is_a_bad_answer(score: int, delinquencies: int) -> None:
    with BureauServer(score=score, delinquencies=delinquencies) as bureau:
        error = _refusal(bureau.url)
    assert (error.error_code, error.transient) == ("bureau_bad_answer", False)


def test_a_report_carries_score_delinquencies_and_the_bureaus_report_id() -> None:
    with BureauServer(score=655, delinquencies=2) as bureau:
        report = HttpCreditBureau(f"{bureau.url}/", timeout=TIMEOUT).report("C-1006", "Litware, Inc.", "US", None)
        (call,) = bureau.log
    assert (report.score, report.delinquencies) == (655, 2)
    assert report.source == "127.0.0.1 report R-000001"
    assert call.query == {"customer_id": "C-1006", "name": "Litware, Inc.", "country": "US"}
    assert call.authorization is None


def test_credentials_in_the_url_are_sent_as_basic_auth_and_never_shown() -> None:
    with BureauServer(script=["ok", "503"]) as bureau:
        url = bureau.url.replace("http://", "http://svc:s3cret@") + "?api_key=k3y"
        HttpCreditBureau(url, timeout=TIMEOUT).report("C-1", "Acme", "US", "R-1")
        error = _refusal(url)
        first = bureau.log[0]
    assert first.authorization == "Basic c3ZjOnMzY3JldA=="  # svc:s3cret
    assert first.query["api_key"] == "k3y" and first.query["registration"] == "R-1"
    assert "s3cret" not in error.message and "k3y" not in error.message


@pytest.mark.parametrize("url", ["ftp://bureau.example", "bureau.example/reports", "http://"])
def test_a_url_that_is_not_http_is_refused_at_start_up(url: str) -> None:
    with pytest.raises(ValueError):
        HttpCreditBureau(url)


def test_a_bureau_report_feeds_the_credit_score_and_its_evidence() -> None:
    ctx = make_context(record=make_record("C-1006", type="credit_onboarding"))
    internal = CREDIT_SCORE.call(ctx, {"customer_id": "C-1006", "requested_limit": "50000.00"})
    with BureauServer(score=300, delinquencies=1) as bureau:
        ctx.bureau = HttpCreditBureau(bureau.url, timeout=TIMEOUT)
        out = CREDIT_SCORE.call(ctx, {"customer_id": "C-1006", "requested_limit": "50000.00"})
    assert out["credit_score"] < internal["credit_score"]
    assert ctx.record.credit is not None
    assert ctx.record.credit["bureau"]["source"] == "127.0.0.1 report R-000001"
    assert ctx.record.credit["internal_score"] == internal["credit_score"]


# --- through the job runner ------------------------------------------------------------------------------

def _onboarding(services: Services) -> str:
    """A credit onboarding that clears KYC and reaches the asynchronous credit/score step."""
    return submit(services, type="credit_onboarding", customer_id="C-1006", requested_limit="8000.00",
                  description="Net-30 terms for our first orders.").reference


def _advance_past_due(services: Services, reference: str) -> None:
    due = instance(services, reference).due_at
    assert due is not None and due > services.clock.now()
    services.clock.advance(due - services.clock.now() + timedelta(seconds=1))  # type: ignore[attr-defined]
    drain(services)


def test_an_unavailable_bureau_is_retried_with_backoff_until_it_answers(services: Services) -> None:
    with BureauServer(script=["503", "503", "ok"]) as bureau:
        services.bureau = HttpCreditBureau(bureau.url, timeout=TIMEOUT)
        reference = _onboarding(services)
        first = instance(services, reference)
        assert (bureau.calls, first.status, first.attempts) == (1, "running", 1)
        assert open_elements(services, reference) == []
        first_wait = first.due_at - services.clock.now()  # type: ignore[operator]
        _advance_past_due(services, reference)
        second = instance(services, reference)
        assert (bureau.calls, second.attempts) == (2, 2)
        assert second.due_at - services.clock.now() > first_wait  # type: ignore[operator]  # backoff grows
        _advance_past_due(services, reference)
        assert bureau.calls == 3
    assert open_elements(services, reference) == ["Task_CreditReview"]
    done = instance(services, reference)
    assert (done.status, done.attempts, done.error) == ("running", 0, None)
    with services.uow() as uow:
        failures = [e for e in uow.audit.for_subject(reference) if e.action == "step.failed"]
        assert len(failures) == 2 and uow.incidents.list() == []
        assert uow.requests.get(reference).credit["bureau"]["source"].endswith("R-000003")  # type: ignore[index]


def test_a_bureau_that_refuses_the_request_opens_an_incident(services: Services) -> None:
    with BureauServer(script=["400"]) as bureau:
        services.bureau = HttpCreditBureau(bureau.url, timeout=TIMEOUT)
        reference = _onboarding(services)
        assert bureau.calls == 1
    assert instance(services, reference).status == "incident"
    with services.uow() as uow:
        (incident,) = uow.incidents.list()
    assert (incident.element_id, incident.error_code) == ("Task_ScoreApplicant", "bureau_refused")
    assert open_elements(services, reference) == []
