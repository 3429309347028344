"""Tables of the accounts-receivable subledger (`ar_*`): customers, invoices, payments, postings, journal.

CHECK constraints hold the invariants the posting rules rely on (no negative open or unapplied amount,
one-sided journal lines), so a bug in an adapter fails loudly instead of corrupting the ledger.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Table,
    UniqueConstraint,
)

from .base import JsonType, MoneyType, UtcDateTime, metadata


def _id() -> Column[int]:
    return Column("id", Integer, primary_key=True, autoincrement=True)


def _customer_fk(nullable: bool = False) -> Column[str]:
    return Column("customer_id", String(20), ForeignKey("ar_customers.id"), nullable=nullable, index=True)


customers = Table(
    "ar_customers", metadata,
    Column("id", String(20), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("country", String(2), nullable=False),
    Column("email", String(254)),
    Column("currency", String(3), nullable=False),
    Column("tax_id", String(40)),
    Column("registration_number", String(40)),
    Column("address", String(500)),
    Column("date_of_birth", Date),
    Column("id_document_kind", String(30)),
    Column("id_document_number", String(60)),
    Column("id_document_expires_on", Date),
    Column("credit_limit", MoneyType, nullable=False),
    Column("since", Date),
    Column("financials", JsonType, nullable=False),  # {name: decimal string}
    CheckConstraint("kind IN ('individual', 'company')", name="kind"),
    CheckConstraint("credit_limit >= 0", name="credit_limit_not_negative"),
)

customer_people = Table(
    "ar_customer_people", metadata,
    _id(),
    _customer_fk(),
    Column("name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("ownership", Numeric(5, 2, asdecimal=True)),  # percent, for owners
    Column("date_of_birth", Date),
    Column("country", String(2)),
    CheckConstraint("role IN ('director', 'owner', 'individual')", name="role"),
    CheckConstraint("ownership IS NULL OR (ownership >= 0 AND ownership <= 100)", name="ownership_percent"),
)

contacts = Table(
    "ar_contacts", metadata,
    _id(),
    _customer_fk(),
    Column("name", String(200), nullable=False),
    Column("email", String(254)),
    Column("phone", String(40)),
    Column("role", String(40), nullable=False),
)

contracts = Table(
    "ar_contracts", metadata,
    _id(),
    Column("number", String(40), nullable=False, unique=True),
    _customer_fk(),
    Column("title", String(200), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date),
    Column("payment_terms_days", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
)

invoices = Table(
    "ar_invoices", metadata,
    _id(),
    Column("number", String(40), nullable=False, unique=True),
    _customer_fk(),
    Column("amount", MoneyType, nullable=False),
    Column("open_amount", MoneyType, nullable=False),  # may exceed amount after a debit memo
    Column("currency", String(3), nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("status", String(20), nullable=False),
    Column("contract_number", String(40)),  # no foreign key: an ERP may bill outside a stored contract
    Column("paid_on", Date),
    CheckConstraint("amount >= 0", name="amount_not_negative"),
    CheckConstraint("open_amount >= 0", name="open_amount_not_negative"),
    CheckConstraint("status IN ('open', 'paid', 'partially_paid', 'written_off')", name="status"),
)

payments = Table(
    "ar_payments", metadata,
    _id(),
    Column("reference", String(40), nullable=False, unique=True),
    _customer_fk(nullable=True),  # NULL: unidentified cash, only the bank line's payer name is known
    Column("payer_name", String(200), nullable=False),
    Column("amount", MoneyType, nullable=False),
    Column("unapplied_amount", MoneyType, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("received_on", Date, nullable=False),
    Column("remittance_text", String(500), nullable=False),
    Column("status", String(20), nullable=False),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint("unapplied_amount >= 0 AND unapplied_amount <= amount", name="unapplied_within_amount"),
    CheckConstraint("status IN ('unapplied', 'applied', 'partially_applied')", name="status"),
)

postings = Table(
    "ar_postings", metadata,
    _id(),
    Column("number", String(20), nullable=False, unique=True),
    Column("kind", String(30), nullable=False),
    Column("request_reference", String(40), nullable=False, index=True),
    Column("approval_id", String(80), nullable=False),
    _customer_fk(),
    Column("amount", MoneyType, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("invoice_number", String(40), ForeignKey("ar_invoices.number")),
    Column("payment_reference", String(40), ForeignKey("ar_payments.reference")),
    Column("reason_code", String(40)),
    # The last line of defence against booking a retried step twice; the gateway looks it up first.
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("posted_at", UtcDateTime, nullable=False),
    Column("details", JsonType, nullable=False),  # invoice_numbers of a plan, ...
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint("kind IN ('credit_memo', 'debit_memo', 'payment_application', 'write_off', "
                    "'credit_limit_change', 'installment_plan')", name="kind"),
)

journal_lines = Table(
    "ar_journal_lines", metadata,
    _id(),
    # A posting number, or an opening entry of seeded facts (OB-, OS-, RC-), hence no foreign key.
    Column("posting_number", String(60), nullable=False, index=True),
    Column("account", String(10), nullable=False, index=True),
    Column("debit", MoneyType, nullable=False),
    Column("credit", MoneyType, nullable=False),
    CheckConstraint("debit >= 0 AND credit >= 0", name="amounts_not_negative"),
    CheckConstraint("debit = 0 OR credit = 0", name="one_sided"),
)

installments = Table(
    "ar_installments", metadata,
    _id(),
    Column("posting_number", String(20), ForeignKey("ar_postings.number"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("amount", MoneyType, nullable=False),
    Column("status", String(20), nullable=False),  # scheduled | paid | missed
    UniqueConstraint("posting_number", "seq"),
    CheckConstraint("amount > 0", name="amount_positive"),
)

credit_limit_changes = Table(
    "ar_credit_limit_changes", metadata,
    _id(),
    _customer_fk(),
    Column("old_limit", MoneyType, nullable=False),
    Column("new_limit", MoneyType, nullable=False),
    Column("posting_number", String(20), ForeignKey("ar_postings.number"), nullable=False, unique=True),
    CheckConstraint("old_limit >= 0 AND new_limit >= 0", name="limits_not_negative"),
)

# In creation order (parents first); drop in reverse.
FINANCE_TABLES = (customers, customer_people, contacts, contracts, invoices, payments, postings,
                  journal_lines, installments, credit_limit_changes)
