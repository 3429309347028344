"""What the chaos test and the unattended benchmark drive: many requests of every type, each with its own
customer, invoice or payment, and the data each task gets.

`plans(count, today, seed)` gives the finance facts to load and one `Plan` per request, chosen
deterministically from the seed: billing disputes (some asking the customer for information first),
payment issues (some naming a payment the bank reports later, sometimes before the request waits for it),
credit onboardings and debt restructurings (both ask the credit bureau, asynchronously), credit
adjustments. Amounts spread over every approval level.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from bpmn_requests.domain.finance import Customer, IdDocument, Invoice, Payment, Person
from bpmn_requests.store.demo_data import FinanceFacts

TYPES = ("billing_dispute",) * 4 + ("payment_issue",) * 2 + ("credit_onboarding",) * 2 + \
        ("credit_adjustment",) * 2 + ("debt_restructuring",) * 2
# Names screened against the sanctions list: plain enough to be clear.
COMPANY_WORDS = ("Maple", "Harbor", "Juniper", "Cedar", "Granite", "Willow", "Lantern", "Orchard", "Meadow",
                 "Summit", "Copper", "Pebble")
TRADES = ("Paper", "Office Supply", "Garden Tools", "Print Works", "Packaging", "Lighting")
DIRECTORS = ("Laura Fenwick", "Peter Aldridge", "Susan Whitlock", "Martin Greaves", "Helen Ashcombe")


@dataclass
class Plan:
    key: str  # the Idempotency-Key of its submission
    request: dict[str, Any]
    invoice_amount: Decimal = Decimal("0")
    corrected_amount: Decimal = Decimal("0")
    ask_info: bool = False  # billing disputes: ask the customer a question first
    bank_payment: dict[str, Any] | None = None  # payment issues: the bank's later report
    bank_early: bool = False  # ... sent before the request waits for it
    limit: Decimal = Decimal("0")
    reference: str = ""  # filled in when submitted
    state: dict[str, Any] = field(default_factory=dict)  # what the driver did so far

    @property
    def type(self) -> str:
        return str(self.request["type"])


def _company(customer_id: str, rng: random.Random, today: date) -> Customer:
    name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(TRADES)} {customer_id[2:]} LLC"
    director = rng.choice(DIRECTORS)
    registration = f"US-IL-{customer_id[2:]}77"
    return Customer(
        id=customer_id, name=name, kind="company", country="US", email=f"ap{customer_id[2:]}@example.com",
        currency="USD", tax_id=f"TAX-{registration}", registration_number=registration,
        address="10 Main Street, Springfield, IL 62701, US",
        id_document=IdDocument("registry_extract", f"RX-{registration}", today + timedelta(days=900)),
        people=(Person(director, date(1970, 3, 9), "US", None, "director"),
                Person(director, date(1970, 3, 9), "US", Decimal("100"), "owner")),
        credit_limit=Decimal("0.00"), since=today - timedelta(days=400),
        financials={"current_assets": Decimal("640000"), "current_liabilities": Decimal("300000"),
                    "total_liabilities": Decimal("700000"), "equity": Decimal("1200000"),
                    "revenue": Decimal("4100000"), "net_income": Decimal("330000")})


def _invoice(number: str, customer_id: str, amount: Decimal, today: date, overdue: bool = False) -> Invoice:
    issued = today - timedelta(days=60 if overdue else 7)
    return Invoice(number=number, customer_id=customer_id, amount=amount, open_amount=amount, currency="USD",
                   issued_on=issued, due_on=issued + timedelta(days=30), status="open",
                   contract_number=f"CT-{customer_id[2:]}")


def plans(count: int, today: date, seed: int = 5) -> tuple[FinanceFacts, list[Plan]]:
    rng = random.Random(seed)
    customers, invoices, payments, made = [], [], [], []
    for n in range(count):
        customer_id, kind = f"C-{7000 + n}", TYPES[n % len(TYPES)]
        customers.append(_company(customer_id, rng, today))
        invoice_no = f"INV-{7000 + n}"
        plan = Plan(f"chaos-{seed}-{n}", {"type": kind, "customer_id": customer_id,
                                          "description": f"Chaos request {n} ({kind.replace('_', ' ')})."})
        if kind == "billing_dispute":
            amount = Decimal(rng.choice((2400, 6800, 12500, 19000, 31000)))
            difference = Decimal(rng.choice((120, 700, 2600, 8000, 26000)))
            invoices.append(_invoice(invoice_no, customer_id, amount, today))
            plan.request["invoice_numbers"] = [invoice_no]
            plan.invoice_amount, plan.corrected_amount = amount, max(amount - difference, Decimal("100"))
            plan.ask_info = rng.random() < 0.3
        elif kind == "payment_issue":
            amount = Decimal(rng.choice((850, 2300, 4100)))
            invoices.append(_invoice(invoice_no, customer_id, amount, today))
            reference = f"PAY-{7000 + n}"
            payment = {"payment_reference": reference, "payment_amount": str(amount), "currency": "USD",
                       "payer_name": customers[-1].name, "remittance_text": invoice_no}
            plan.request["payment_references"] = [reference]
            if rng.random() < 0.5:  # the bank reports it later: the request waits for it
                plan.bank_payment, plan.bank_early = payment, rng.random() < 0.4
            else:
                payments.append(Payment(reference, customer_id, customers[-1].name, amount, amount, "USD",
                                        today - timedelta(days=1), invoice_no, "unapplied"))
        elif kind == "credit_onboarding":
            plan.limit = Decimal(rng.choice((4000, 15000, 40000)))
            plan.request["requested_limit"] = str(plan.limit)
        elif kind == "credit_adjustment":
            amount = Decimal(rng.choice((1800, 5200)))
            invoices.append(_invoice(invoice_no, customer_id, amount, today))
            plan.request.update(invoice_numbers=[invoice_no], adjustment_kind=rng.choice(("refund", "write_off")),
                                disputed_amount=str(rng.choice((90, 180, 640, 1500))))
        else:  # debt_restructuring
            amount = Decimal(rng.choice((3000, 9000, 27000)))
            invoices.append(_invoice(invoice_no, customer_id, amount, today, overdue=True))
            plan.request.update(invoice_numbers=[invoice_no], installments=3)
        made.append(plan)
    return FinanceFacts(customers=tuple(customers), invoices=tuple(invoices), payments=tuple(payments)), made


# Who works on which task, and with what.
WORKERS = {"Task_KycReview": "frank", "Task_Investigate": "bob", "Task_ReviewAdjustment": "bob",
           "Task_MatchPayment": "bob", "Task_CreditReview": "grace", "Task_RestructurePlan": "grace"}
APPROVERS = ("carol", "dave", "erin")  # levels 1, 2, 3: the lowest who may decides


def task_data(element_id: str, plan: Plan, today: date) -> dict[str, Any]:
    """The form data `element_id` gets for this request (the plan remembers what it did before)."""
    if element_id == "Task_KycReview":
        return {"decision": "clear", "rationale": "Checked the registry extract; not the listed person."}
    if element_id == "Task_Investigate":
        if plan.ask_info and not plan.state.get("asked"):
            plan.state["asked"] = True
            return {"decision": "need_info", "question": "Which delivery does the invoice cover?",
                    "note": "Asking before correcting."}
        return {"decision": "adjust", "corrected_amount": str(plan.corrected_amount), "reason_code": "pricing_error",
                "note": "Checked the contract price list against the invoice lines."}
    if element_id == "Task_ReviewAdjustment":
        return {"decision": "adjust", "adjustment_amount": plan.request["disputed_amount"],
                "reason_code": "goodwill", "note": "Delivery was late."}
    if element_id == "Task_MatchPayment":
        return {"decision": "apply", "invoice_number": plan.request["customer_id"].replace("C-", "INV-"),
                "note": "Remittance names the invoice."}
    if element_id == "Task_CreditReview":
        return {"decision": "approve_limit", "approved_limit": str(plan.limit), "note": "Sound financials."}
    if element_id == "Task_RestructurePlan":
        return {"decision": "approve_plan", "plan_installments": 3,
                "first_due_date": (today + timedelta(days=30)).isoformat(), "note": "Three monthly installments."}
    if element_id == "Task_Approve":
        return {"decision": "approve", "comment": "Checked against the evidence."}
    raise AssertionError(f"the chaos driver has no data for task {element_id} of {plan.reference}")
