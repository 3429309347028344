"""The SQL subledger: the FinanceGateway contract on SQLite and PostgreSQL, plus what only a database has
(constraints, commits, concurrent transactions)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bpmn_requests.domain.finance import Posting, PostingRequest
from bpmn_requests.store.demo_data import demo_finance_facts
from bpmn_requests.store.finance_sql import SqlFinanceGateway, has_finance_data, load_finance_facts
from bpmn_requests.store.finance_tables import contacts, contracts, invoices, journal_lines, postings

# The gateway contract is written once, next to the in-memory adapter it also runs on.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from finance_db import finance_engine, postgres_server  # noqa: E402, F401  (fixtures)
from finance_fakes import NOW, TODAY  # noqa: E402
from test_memory_finance import GatewayContract, ReceiptContract  # noqa: E402


def _seeded(engine: Engine) -> None:
    with Session(engine) as session:
        load_finance_facts(session, demo_finance_facts(TODAY))
        session.commit()


def _credit_memo(amount: str = "700.00", key: str = "REQ-1:APR-1:credit_memo") -> PostingRequest:
    return PostingRequest(kind="credit_memo", request_reference="REQ-1", approval_id="APR-1",
                          customer_id="C-1001", amount=Decimal(amount), currency="USD", idempotency_key=key,
                          invoice_number="INV-1001")


class TestSqlFinanceGateway(GatewayContract, ReceiptContract):
    @pytest.fixture
    def gateway(self, finance_engine: Engine) -> Iterator[SqlFinanceGateway]:  # noqa: F811
        with Session(finance_engine) as session:
            load_finance_facts(session, demo_finance_facts(TODAY))
            yield SqlFinanceGateway(session)
            session.rollback()


def test_seeding_stores_contracts_and_contacts_and_is_detectable(finance_engine: Engine) -> None:  # noqa: F811
    with Session(finance_engine) as session:
        assert not has_finance_data(session)
    _seeded(finance_engine)
    facts = demo_finance_facts(TODAY)
    with Session(finance_engine) as session:
        assert has_finance_data(session)
        assert session.execute(select(func.count()).select_from(contracts)).scalar_one() == len(facts.contracts)
        assert session.execute(select(func.count()).select_from(contacts)).scalar_one() == len(facts.contacts)


def test_postings_survive_commit_and_numbers_continue(finance_engine: Engine) -> None:  # noqa: F811
    _seeded(finance_engine)
    with Session(finance_engine) as session:
        first = SqlFinanceGateway(session).post(_credit_memo(), NOW)
        session.commit()
    with Session(finance_engine) as session:
        gateway = SqlFinanceGateway(session)
        assert gateway.postings_for("REQ-1") == [first]
        assert gateway.post(_credit_memo(), NOW) == first
        second = gateway.post(_credit_memo("1.00", key="another"), NOW)
        session.commit()
    assert second.number == "CM-000002"


def test_a_rolled_back_posting_leaves_no_trace(finance_engine: Engine) -> None:  # noqa: F811
    _seeded(finance_engine)
    with Session(finance_engine) as session:
        SqlFinanceGateway(session).post(_credit_memo(), NOW)
        session.rollback()
    with Session(finance_engine) as session:
        gateway = SqlFinanceGateway(session)
        assert gateway.postings_for("REQ-1") == []
        assert gateway.reconcile().balanced
        assert gateway.post(_credit_memo(), NOW).number == "CM-000001"


def test_the_database_refuses_a_second_posting_with_the_same_key(finance_engine: Engine) -> None:  # noqa: F811
    _seeded(finance_engine)
    with Session(finance_engine) as session:
        posting = SqlFinanceGateway(session).post(_credit_memo(), NOW)
        row = session.execute(select(postings).where(postings.c.number == posting.number)).one()._asdict()
        row.update(id=None, number="CM-999999")
        with pytest.raises(IntegrityError):
            session.execute(insert(postings).values(**row))
        session.rollback()


@pytest.mark.parametrize("statement", [
    update(invoices).where(invoices.c.number == "INV-1001").values(open_amount=Decimal("-0.01")),
    insert(journal_lines).values(posting_number="X", account="1200", debit=Decimal("1.00"), credit=Decimal("1.00")),
])
def test_check_constraints_guard_the_ledger(finance_engine: Engine, statement: object) -> None:  # noqa: F811
    _seeded(finance_engine)
    with Session(finance_engine) as session, pytest.raises(IntegrityError):
        session.execute(statement)  # type: ignore[call-overload]


def test_concurrent_postings_with_the_same_key_book_once(finance_engine: Engine) -> None:  # noqa: F811
    if finance_engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises whole transactions; row locks are a PostgreSQL matter")
    _seeded(finance_engine)
    results: list[Posting | BaseException] = []

    def second_transaction() -> None:
        with Session(finance_engine) as session:
            try:
                results.append(SqlFinanceGateway(session).post(_credit_memo(), NOW))
                session.commit()
            except BaseException as error:  # reported to the main thread
                results.append(error)

    with Session(finance_engine) as session:
        first = SqlFinanceGateway(session).post(_credit_memo(), NOW)
        other = threading.Thread(target=second_transaction)
        other.start()
        time.sleep(0.5)
        assert other.is_alive(), "the second transaction should wait for the invoice row lock"
        session.commit()
    other.join(timeout=10)
    assert results == [first]
    with Session(finance_engine) as session:
        gateway = SqlFinanceGateway(session)
        assert len(gateway.postings_for("REQ-1")) == 1
        invoice = gateway.invoice("INV-1001")
        assert invoice is not None and invoice.open_amount == Decimal("11800.00")
        assert gateway.reconcile().balanced
