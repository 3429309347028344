"""The demo accounts-receivable data, and FinanceFacts: the seed format every finance adapter loads.

Pure data, no database. Every date is relative to `today`, so the demo tells the same story whenever it
runs (an invoice "due in 20 days" is always due in 20 days). End-to-end tests assert these amounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from ..domain.finance import Customer, IdDocument, Invoice, Payment, Person


@dataclass(frozen=True)
class Contract:
    number: str
    customer_id: str
    title: str
    starts_on: date
    ends_on: date | None = None
    payment_terms_days: int = 30
    currency: str = "USD"


@dataclass(frozen=True)
class Contact:
    customer_id: str
    name: str
    email: str | None
    phone: str | None = None
    role: str = "accounts_payable"


@dataclass(frozen=True)
class FinanceFacts:
    """What a finance adapter starts from: customers, their contracts and contacts, invoices, payments."""

    customers: tuple[Customer, ...] = ()
    invoices: tuple[Invoice, ...] = ()
    payments: tuple[Payment, ...] = ()
    contracts: tuple[Contract, ...] = ()
    contacts: tuple[Contact, ...] = ()


def demo_finance_facts(today: date) -> FinanceFacts:
    """Nine customers with the invoices and payments the demo requests are about."""
    return FinanceFacts(
        customers=_customers(today),
        invoices=_open_invoices(today) + _history(today),
        payments=_unapplied_payments(today) + _history_payments(today),
        contracts=_contracts(today),
        contacts=_contacts(),
    )


def _days(today: date, n: int) -> date:
    return today + timedelta(days=n)


def _usd(value: str) -> Decimal:
    return Decimal(value)


def _company(today: date, id: str, name: str, country: str, *, domain: str, registration: str,
             address: str, people: tuple[Person, ...], limit: str, since_days: int,
             financials: dict[str, Decimal] | None = None) -> Customer:
    return Customer(
        id=id, name=name, kind="company", country=country, email=f"ap@{domain}", currency="USD",
        tax_id=f"TAX-{registration}", registration_number=registration, address=address,
        id_document=IdDocument("registry_extract", f"RX-{registration}", _days(today, 3 * 365)),
        people=people, credit_limit=_usd(limit), since=_days(today, -since_days),
        financials=financials or {})


def _director(name: str, born: date, country: str) -> Person:
    return Person(name, born, country, None, "director")


def _owner(name: str, born: date, country: str, percent: str) -> Person:
    return Person(name, born, country, Decimal(percent), "owner")


def _customers(today: date) -> tuple[Customer, ...]:
    return (
        _company(today, "C-1001", "Northwind Traders Inc.", "US", domain="northwind.example",
                 registration="US-DE-4471820", address="1200 Harbor Way, Seattle, WA 98101, US",
                 people=(_director("Nancy Davolio", date(1968, 12, 8), "US"),
                         _owner("Andrew Fuller", date(1952, 2, 19), "US", "60")),
                 limit="50000.00", since_days=6 * 365),
        _company(today, "C-1002", "Contoso Ltd", "GB", domain="contoso.example",
                 registration="GB-08123456", address="21 King Street, Manchester M2 4LQ, GB",
                 people=(_director("Olivia Bennett", date(1979, 6, 3), "GB"),
                         _owner("Harriet Lowe", date(1961, 11, 23), "GB", "100")),
                 limit="40000.00", since_days=4 * 365),
        _company(today, "C-1003", "Fabrikam Inc.", "US", domain="fabrikam.example",
                 registration="US-NY-5530127", address="88 Pine Street, New York, NY 10005, US",
                 people=(_director("Kevin Brandt", date(1971, 3, 14), "US"),
                         _owner("Kevin Brandt", date(1971, 3, 14), "US", "100")),
                 limit="60000.00", since_days=5 * 365),
        _company(today, "C-1004", "Adventure Works Cycles LLC", "US", domain="adventure-works.example",
                 registration="US-WA-6021934", address="500 Bike Lane, Bothell, WA 98011, US",
                 people=(_director("Sofia Lindqvist", date(1983, 9, 27), "SE"),
                         _owner("Sofia Lindqvist", date(1983, 9, 27), "SE", "51")),
                 limit="30000.00", since_days=3 * 365),
        _company(today, "C-1005", "Tailspin Toys Corp", "CA", domain="tailspintoys.example",
                 registration="CA-BC-1188342", address="77 Granville Street, Vancouver, BC V6C 1T2, CA",
                 people=(_director("Peter Hollis", date(1975, 1, 30), "CA"),
                         _owner("Peter Hollis", date(1975, 1, 30), "CA", "80")),
                 limit="30000.00", since_days=2 * 365),
        _company(today, "C-1006", "Litware Inc.", "US", domain="litware.example",
                 registration="US-CA-7740215", address="400 Market Street, San Francisco, CA 94105, US",
                 people=(_director("Amelia Stratton", date(1980, 7, 11), "US"),
                         _owner("Amelia Stratton", date(1980, 7, 11), "US", "70")),
                 limit="0.00", since_days=10, financials=_litware_financials()),
        _company(today, "C-1007", "Wide World Importers Ltd", "NZ", domain="wideworldimporters.example",
                 registration="NZ-2231764", address="15 Quay Street, Auckland 1010, NZ",
                 people=(_director("Thomas Whitcombe", date(1966, 4, 2), "NZ"),
                         _owner("Thomas Whitcombe", date(1966, 4, 2), "NZ", "100")),
                 limit="40000.00", since_days=7 * 365),
        _company(today, "C-1008", "Isthmus Maritime Trading S.A.", "PA", domain="isthmus-maritime.example",
                 registration="PA-155698412", address="Calle 50, Torre Global, Panama City, PA",
                 people=(_director("Manuel A. Noriega", date(1958, 5, 9), "PA"),
                         _owner("Ricardo Vidal Herrera", date(1964, 8, 17), "PA", "100")),
                 limit="0.00", since_days=20),
        Customer(
            id="C-1009", name="Hannah Meyer", kind="individual", country="DE",
            email="hannah.meyer@example.de", currency="USD", address="Lindenstrasse 12, 10969 Berlin, DE",
            date_of_birth=date(1987, 10, 21),
            # Expired a month ago: the KYC tests of expired documents rely on it.
            id_document=IdDocument("passport", "C01X00T47", _days(today, -30)),
            people=(Person("Hannah Meyer", date(1987, 10, 21), "DE", None, "individual"),),
            credit_limit=_usd("0.00"), since=_days(today, -60)),
    )


def _litware_financials() -> dict[str, Decimal]:
    return {"current_assets": Decimal("820000"), "current_liabilities": Decimal("410000"),
            "total_liabilities": Decimal("900000"), "equity": Decimal("1500000"),
            "revenue": Decimal("5200000"), "net_income": Decimal("410000")}


def _invoice(today: date, number: str, customer_id: str, amount: str, *, issued: int, due: int,
             paid: int | None = None) -> Invoice:
    """An invoice issued and due `issued`/`due` days from today; paid in full `paid` days from today."""
    value = _usd(amount)
    return Invoice(
        number=number, customer_id=customer_id, amount=value,
        open_amount=Decimal("0.00") if paid is not None else value, currency="USD",
        issued_on=_days(today, issued), due_on=_days(today, due),
        status="paid" if paid is not None else "open",
        contract_number=f"CT-{customer_id[2:]}", paid_on=_days(today, paid) if paid is not None else None)


def _open_invoices(today: date) -> tuple[Invoice, ...]:
    return (
        _invoice(today, "INV-1001", "C-1001", "12500.00", issued=-10, due=20),
        _invoice(today, "INV-1002", "C-1002", "14200.00", issued=-5, due=25),
        _invoice(today, "INV-1003", "C-1003", "18500.00", issued=-45, due=-15),
        _invoice(today, "INV-1013", "C-1003", "6240.00", issued=-3, due=27),
        _invoice(today, "INV-1004", "C-1004", "11600.00", issued=-12, due=18),
        _invoice(today, "INV-1005", "C-1005", "11800.00", issued=-8, due=22),
        _invoice(today, "INV-1071", "C-1007", "12000.00", issued=-120, due=-90),
        _invoice(today, "INV-1072", "C-1007", "10500.00", issued=-95, due=-65),
        _invoice(today, "INV-1073", "C-1007", "7500.00", issued=-75, due=-45),
    )


# Paid invoices: (number, customer, amount, issued, due, paid) in days from today. Wide World pays late.
_HISTORY = (
    ("INV-0901", "C-1001", "9800.00", -130, -100, -102),
    ("INV-0931", "C-1001", "11250.00", -100, -70, -68),
    ("INV-0961", "C-1001", "10400.00", -70, -40, -41),
    ("INV-0902", "C-1002", "8900.00", -90, -60, -60),
    ("INV-0903", "C-1003", "7300.00", -110, -80, -75),
    ("INV-0904", "C-1004", "6400.00", -80, -50, -51),
    ("INV-0905", "C-1005", "5200.00", -75, -45, -44),
    ("INV-0971", "C-1007", "9000.00", -300, -270, -232),
    ("INV-0972", "C-1007", "8500.00", -240, -210, -166),
    ("INV-0973", "C-1007", "11000.00", -180, -150, -119),
)


def _history(today: date) -> tuple[Invoice, ...]:
    return tuple(_invoice(today, number, customer, amount, issued=issued, due=due, paid=paid)
                 for number, customer, amount, issued, due, paid in _HISTORY)


def _history_payments(today: date) -> tuple[Payment, ...]:
    """One fully applied payment per paid invoice, so unapplied cash (2050) matches the payments."""
    return tuple(
        Payment(reference=f"PAY-4{number[-3:]}", customer_id=customer, payer_name=_payer(customer),
                amount=_usd(amount), unapplied_amount=Decimal("0.00"), currency="USD",
                received_on=_days(today, paid), remittance_text=number, status="applied")
        for number, customer, amount, _issued, _due, paid in _HISTORY)


def _payer(customer_id: str) -> str:
    names = {"C-1001": "NORTHWIND TRADERS", "C-1002": "CONTOSO LTD", "C-1003": "FABRIKAM INC",
             "C-1004": "ADVENTURE WORKS CYCLES", "C-1005": "TAILSPIN TOYS CORP", "C-1007": "WIDE WORLD IMPORTERS"}
    return names[customer_id]


def _unapplied_payments(today: date) -> tuple[Payment, ...]:
    # Unidentified cash: no customer on the bank line, only the payer name and the remittance text.
    return (Payment(reference="PAY-5003", customer_id=None, payer_name="FABRIKAM INC",
                    amount=_usd("18500.00"), unapplied_amount=_usd("18500.00"), currency="USD",
                    received_on=_days(today, -2), remittance_text="INV 1003", status="unapplied"),)


def _contracts(today: date) -> tuple[Contract, ...]:
    titles = {"C-1001": "Wholesale supply agreement", "C-1002": "Distribution agreement",
              "C-1003": "Master services agreement", "C-1004": "Parts supply agreement",
              "C-1005": "Retail supply agreement", "C-1007": "Import services agreement"}
    return tuple(Contract(f"CT-{cid[2:]}", cid, title, _days(today, -2 * 365), _days(today, 365))
                 for cid, title in titles.items())


def _contacts() -> tuple[Contact, ...]:
    return (
        Contact("C-1001", "Janet Leverling", "ap@northwind.example", "+1 206 555 0101"),
        Contact("C-1002", "Olivia Bennett", "ap@contoso.example", "+44 161 555 0102"),
        Contact("C-1003", "Kevin Brandt", "ap@fabrikam.example", "+1 212 555 0103"),
        Contact("C-1004", "Sofia Lindqvist", "ap@adventure-works.example", "+1 425 555 0104"),
        Contact("C-1005", "Peter Hollis", "ap@tailspintoys.example", "+1 604 555 0105"),
        Contact("C-1006", "Amelia Stratton", "ap@litware.example", "+1 415 555 0106"),
        Contact("C-1007", "Thomas Whitcombe", "ap@wideworldimporters.example", "+64 9 555 0107"),
        Contact("C-1008", "Ricardo Vidal Herrera", "ap@isthmus-maritime.example", "+507 555 0108"),
        Contact("C-1009", "Hannah Meyer", "hannah.meyer@example.de", None, "customer"),
    )
