"""Payments the bank reports, booked in the SQL subledger on SQLite and PostgreSQL: once per reference across
commits and concurrent transactions, then matched and applied with the subledger reconciling.

The behaviour both adapters share is ReceiptContract (tests/unit/test_memory_finance.py), which
test_finance_sql.py runs on these databases too; here is what only a database has.
"""

from __future__ import annotations

import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bpmn_requests.domain import ledger
from bpmn_requests.domain.errors import ServiceTaskError
from bpmn_requests.domain.finance import Payment, PostingRequest
from bpmn_requests.service_tasks import build_registry
from bpmn_requests.store.demo_data import demo_finance_facts
from bpmn_requests.store.finance_sql import SqlFinanceGateway, load_finance_facts
from bpmn_requests.store.finance_tables import journal_lines

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from finance_db import finance_engine, postgres_server  # noqa: E402, F401  (fixtures)
from finance_fakes import NOW, TODAY, make_context, make_record  # noqa: E402
from test_memory_finance import receipt  # noqa: E402

D = Decimal
REGISTRY = build_registry()


def _seeded(engine: Engine) -> None:
    with Session(engine) as session:
        load_finance_facts(session, demo_finance_facts(TODAY))
        session.commit()


def _receipt_lines(session: Session, reference: str = "PAY-9001") -> int:
    query = select(func.count()).select_from(journal_lines).where(journal_lines.c.posting_number == f"RC-{reference}")
    return int(session.execute(query).scalar_one())


def test_a_received_payment_survives_commit_and_a_later_repeat_books_nothing(
        finance_engine: Engine) -> None:  # noqa: F811
    _seeded(finance_engine)
    with Session(finance_engine) as session:
        first = SqlFinanceGateway(session).receive_payment(receipt(), NOW, "step-1:payment/receive")
        session.commit()
    with Session(finance_engine) as session:
        gateway = SqlFinanceGateway(session)
        assert gateway.payment("PAY-9001") == first
        assert gateway.receive_payment(receipt(), NOW, "step-2:payment/receive") == first
        session.commit()
    with Session(finance_engine) as session:
        assert _receipt_lines(session) == 2
        assert SqlFinanceGateway(session).reconcile().balanced


def test_a_rolled_back_receipt_leaves_no_trace(finance_engine: Engine) -> None:  # noqa: F811
    _seeded(finance_engine)
    with Session(finance_engine) as session:
        SqlFinanceGateway(session).receive_payment(receipt(), NOW, "k")
        session.rollback()
    with Session(finance_engine) as session:
        assert SqlFinanceGateway(session).payment("PAY-9001") is None
        assert _receipt_lines(session) == 0


def _race(engine: Engine, second: Payment) -> list[Payment | BaseException]:
    """Receive PAY-9001 in one transaction and `second` in another that starts before the first commits."""
    results: list[Payment | BaseException] = []

    def second_transaction() -> None:
        with Session(engine) as session:
            try:
                results.append(SqlFinanceGateway(session).receive_payment(second, NOW, "step-2"))
                # The savepoint kept the transaction usable: it can still book and commit.
                SqlFinanceGateway(session).post(PostingRequest(
                    kind="credit_memo", request_reference="REQ-2", approval_id="APR-2", customer_id="C-1001",
                    amount=D("1.00"), currency="USD", idempotency_key="REQ-2:credit_memo",
                    invoice_number="INV-1001"), NOW)
                session.commit()
            except BaseException as error:  # reported to the main thread
                results.append(error)

    with Session(engine) as session:
        first = SqlFinanceGateway(session).receive_payment(receipt(), NOW, "step-1")
        other = threading.Thread(target=second_transaction)
        other.start()
        time.sleep(0.5)
        assert other.is_alive(), "the second insert should wait for the first transaction"
        session.commit()
    other.join(timeout=10)
    assert first == receipt()
    return results


def _postgres_only(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writing transactions; concurrent inserts are a PostgreSQL matter")


def test_concurrent_reports_of_the_same_payment_book_it_once(finance_engine: Engine) -> None:  # noqa: F811
    _postgres_only(finance_engine)
    _seeded(finance_engine)
    assert _race(finance_engine, receipt()) == [receipt()]
    with Session(finance_engine) as session:
        assert _receipt_lines(session) == 2
        assert len(SqlFinanceGateway(session).postings_for("REQ-2")) == 1
        assert SqlFinanceGateway(session).reconcile().balanced


def test_a_concurrent_report_with_another_amount_is_refused(finance_engine: Engine) -> None:  # noqa: F811
    _postgres_only(finance_engine)
    _seeded(finance_engine)
    (error,) = _race(finance_engine, receipt(amount="999.00"))
    assert isinstance(error, ServiceTaskError) and error.error_code == "payment_conflict"
    with Session(finance_engine) as session:
        payment = SqlFinanceGateway(session).payment("PAY-9001")
        assert payment is not None and payment.amount == D("1250.00")
        assert _receipt_lines(session) == 2


def test_a_payment_the_bank_reports_is_received_matched_and_applied(finance_engine: Engine) -> None:  # noqa: F811
    _seeded(finance_engine)
    with Session(finance_engine) as session:
        gateway = SqlFinanceGateway(session)
        ctx = make_context(gateway, make_record("C-1003", type="payment_issue"))  # type: ignore[arg-type]
        message = {"payment_reference": "pay-9002", "payment_amount": "6240.00", "customer_id": "C-1003",
                   "payer_name": "FABRIKAM INC", "remittance_text": "INV-1013", "received_on": TODAY.isoformat()}
        assert REGISTRY.get("payment/receive").call(ctx, message) == {"payment_reference": "PAY-9002",
                                                                       "payment_received": True}
        matched = REGISTRY.get("payment/match").call(ctx, {"customer_id": "C-1003",
                                                           "payment_references": ["PAY-9002"]})
        assert (matched["matched_invoice"], matched["match_method"], matched["auto_apply"]) == (
            "INV-1013", "remittance_and_amount", True)
        gateway.post(PostingRequest(
            kind="payment_application", request_reference="REQ-1", approval_id="system", customer_id="C-1003",
            amount=matched["payment_amount"], currency="USD", idempotency_key="REQ-1:apply",
            invoice_number="INV-1013", payment_reference="PAY-9002"), NOW)
        session.commit()
    with Session(finance_engine) as session:
        gateway = SqlFinanceGateway(session)
        invoice = gateway.invoice("INV-1013")
        assert invoice is not None and (invoice.open_amount, invoice.status) == (D("0.00"), "paid")
        assert gateway.journal_entry("RC-PAY-9002") == ledger.receipt_entry(receipt("PAY-9002", "6240.00"))[1]
        assert gateway.reconcile().balanced
