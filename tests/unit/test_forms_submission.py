"""Validating what users submit through a form: types, rules, options, hidden and readonly fields."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bpmn_requests.domain.errors import ValidationFailed
from bpmn_requests.forms import FormCatalog, FormDefinition, nest_fields, parse_form, validate_submission

TODAY = date(2025, 3, 14)
FORMS = Path(__file__).resolve().parents[2] / "forms"


def make_form(*components: dict[str, Any]) -> FormDefinition:
    numbered = [dict(component, id=component.get("id", f"Field_{i}")) for i, component in enumerate(components)]
    text = json.dumps({"components": numbered, "type": "default", "id": "sample", "schemaVersion": 16})
    return parse_form(text, "sample.form")


def clean(form: FormDefinition, data: dict[str, Any], context: dict[str, Any] | None = None) -> dict[str, Any]:
    return validate_submission(form, data, context=context, today=TODAY)


def errors(form: FormDefinition, data: dict[str, Any], context: dict[str, Any] | None = None) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as raised:
        clean(form, data, context)
    return raised.value.field_errors


TEXT = {"type": "textfield", "key": "name", "validate": {"required": True, "minLength": 3, "maxLength": 5}}
AMOUNT = {"type": "number", "key": "amount", "decimalDigits": 2, "validate": {"min": "0.01", "max": 1000}}
CHOICE = {"type": "select", "key": "reason", "values": [{"label": "Tax", "value": "tax"},
                                                         {"label": "Other", "value": "other"}]}


def test_required_refuses_a_missing_or_blank_value_and_accepts_a_given_one() -> None:
    form = make_form(TEXT)
    assert errors(form, {}) == {"name": "is required"}
    assert errors(form, {"name": "   "}) == {"name": "is required"}
    assert clean(form, {"name": "Ada"}) == {"name": "Ada"}


def test_min_and_max_length() -> None:
    form = make_form(TEXT)
    assert errors(form, {"name": "Al"}) == {"name": "must be at least 3 characters long"}
    assert errors(form, {"name": "Alexandra"}) == {"name": "must be at most 5 characters long"}


def test_pattern_is_searched_like_javascript_and_explains_itself() -> None:
    form = make_form({"type": "textfield", "key": "invoice", "validate": {"pattern": "^INV-[0-9A-Z-]+$"}})
    assert clean(form, {"invoice": "INV-2024-01"}) == {"invoice": "INV-2024-01"}
    assert errors(form, {"invoice": "inv-1"}) == {"invoice": "does not match the required format"}
    custom = make_form({"type": "textfield", "key": "code", "validate": {
        "pattern": "[0-9]", "patternErrorMessage": "Must contain a digit"}})
    assert clean(custom, {"code": "ab1"}) == {"code": "ab1"}
    assert errors(custom, {"code": "ab"}) == {"code": "Must contain a digit"}


def test_email_and_phone_validation_types() -> None:
    form = make_form({"type": "textfield", "key": "mail", "validate": {"validationType": "email"}},
                     {"type": "textfield", "key": "phone", "validate": {"validationType": "phone"}})
    assert clean(form, {"mail": "ada@example.com", "phone": "+49 30 1234567"})["mail"] == "ada@example.com"
    assert errors(form, {"mail": "ada@", "phone": "12345"}) == {
        "mail": "must be an email address, such as name@example.com",
        "phone": "must be a phone number with country code, such as +49 30 1234567"}


def test_numbers_become_decimals_from_int_decimal_text_and_float_without_float_artefacts() -> None:
    form = make_form(AMOUNT)
    for given in (12, Decimal("12"), "12", " 12.0 ", 12.0):
        assert clean(form, {"amount": given}) == {"amount": Decimal("12.00")}
    result = clean(form, {"amount": 0.1})["amount"]
    assert result == Decimal("0.10") and isinstance(result, Decimal)


def test_numbers_respect_min_and_max() -> None:
    form = make_form(AMOUNT)
    assert errors(form, {"amount": "0"}) == {"amount": "must be at least 0.01"}
    assert errors(form, {"amount": "1000.01"}) == {"amount": "must be at most 1000"}
    assert clean(form, {"amount": "1000"}) == {"amount": Decimal("1000.00")}


def test_numbers_with_more_decimal_places_than_allowed_are_refused_not_rounded() -> None:
    form = make_form(AMOUNT)
    assert errors(form, {"amount": "10.005"}) == {"amount": "must have at most 2 decimal places"}
    assert clean(form, {"amount": "10.500"}) == {"amount": Decimal("10.50")}
    whole = make_form({"type": "number", "key": "count", "decimalDigits": 0})
    assert errors(whole, {"count": "2.5"}) == {"count": "must be a whole number"}
    assert clean(whole, {"count": 3}) == {"count": Decimal("3")}


@pytest.mark.parametrize("bad", ["twelve", "1,000", "1e3", True, [1], float("nan")])
def test_values_that_are_not_numbers_are_refused(bad: Any) -> None:
    assert errors(make_form(AMOUNT), {"amount": bad}) == {"amount": "must be a number, such as 1250.50"}


def test_increment_requires_a_multiple_and_names_the_nearest_values() -> None:
    form = make_form({"type": "number", "key": "step", "increment": "0.25"})
    assert clean(form, {"step": "1.75"}) == {"step": Decimal("1.75")}
    assert errors(form, {"step": "1.8"}) == {
        "step": "must be a multiple of 0.25; the nearest valid values are 1.75 and 2.00"}


def test_bounds_given_as_expressions_use_the_process_data() -> None:
    form = make_form({"type": "number", "key": "refund", "validate": {"max": "=open_amount"}})
    assert errors(form, {"refund": "60"}, {"open_amount": Decimal("50")}) == {"refund": "must be at most 50"}
    assert clean(form, {"refund": "40"}, {"open_amount": Decimal("50")}) == {"refund": Decimal("40")}


def test_an_empty_optional_number_is_stored_as_none() -> None:
    assert clean(make_form(AMOUNT), {"amount": ""}) == {"amount": None}


def test_select_and_radio_accept_only_their_options() -> None:
    form = make_form(CHOICE, dict(CHOICE, type="radio", key="kind"))
    assert clean(form, {"reason": "tax", "kind": "other"}) == {"reason": "tax", "kind": "other"}
    assert errors(form, {"reason": "fraud", "kind": "tax"}) == {"reason": "'fraud' is not one of the options: tax, other"}


def test_options_can_come_from_the_process_data_through_values_key() -> None:
    form = make_form({"type": "select", "key": "invoice", "valuesKey": "open_invoices"})
    context = {"open_invoices": [{"label": "INV-1 (100.00)", "value": "INV-1"}, "INV-2"]}
    assert clean(form, {"invoice": "INV-2"}, context) == {"invoice": "INV-2"}
    assert errors(form, {"invoice": "INV-9"}, context) == {"invoice": "'INV-9' is not one of the options: INV-1, INV-2"}
    assert "has no options" in errors(form, {"invoice": "INV-1"})["invoice"]


def test_numeric_option_values_match_the_text_a_browser_posts() -> None:
    form = make_form({"type": "radio", "key": "level", "valuesKey": "levels"})
    assert clean(form, {"level": "2"}, {"levels": [1, 2]}) == {"level": 2}


def test_checklist_and_taglist_take_lists_of_options() -> None:
    form = make_form(dict(CHOICE, type="checklist", key="reasons"), dict(CHOICE, type="taglist", key="tags"))
    assert clean(form, {"reasons": ["tax", "other", "tax"], "tags": ["other"]}) == {
        "reasons": ["tax", "other"], "tags": ["other"]}
    assert clean(form, {}) == {"reasons": [], "tags": []}
    assert errors(form, {"reasons": "tax", "tags": ["nope"]}) == {
        "reasons": "must be a list of options", "tags": "'nope' is not one of the options: tax, other"}


def test_a_required_checklist_needs_one_choice() -> None:
    form = make_form(dict(CHOICE, type="checklist", key="reasons", validate={"required": True}))
    assert errors(form, {"reasons": []}) == {"reasons": "is required"}


def test_checkboxes_are_booleans_and_absent_means_false() -> None:
    form = make_form({"type": "checkbox", "key": "accept"})
    assert clean(form, {}) == {"accept": False}
    assert clean(form, {"accept": "on"}) == {"accept": True}
    assert clean(form, {"accept": True}) == {"accept": True}
    assert clean(form, {"accept": "false"}) == {"accept": False}
    assert errors(form, {"accept": "maybe"}) == {"accept": "must be true or false"}


def test_a_required_checkbox_must_be_ticked() -> None:
    form = make_form({"type": "checkbox", "key": "terms", "validate": {"required": True}})
    assert errors(form, {}) == {"terms": "must be ticked"}


def test_datetime_fields_parse_iso_text_by_subtype() -> None:
    form = make_form({"type": "datetime", "key": "day", "subtype": "date"},
                     {"type": "datetime", "key": "at", "subtype": "time"},
                     {"type": "datetime", "key": "when", "subtype": "datetime"})
    assert clean(form, {"day": "2025-03-31", "at": "14:30", "when": "2025-03-31T14:30:00Z"}) == {
        "day": date(2025, 3, 31), "at": "14:30", "when": datetime.fromisoformat("2025-03-31T14:30:00+00:00")}
    assert errors(form, {"day": "31.03.2025", "at": "25:00", "when": "2025-03-31"}) == {
        "day": "must be a date such as 2024-12-31", "at": "must be a time such as 14:30",
        "when": "must be a date and time such as 2024-12-31T14:30"}
    assert errors(form, {"day": "2025-02-30"}) == {"day": "must be a date such as 2024-12-31"}


def test_passed_dates_are_refused_when_the_form_says_so() -> None:
    form = make_form({"type": "datetime", "key": "due", "subtype": "date", "disallowPassedDates": True})
    assert errors(form, {"due": "2025-03-13"}) == {"due": "must not be in the past"}
    assert clean(form, {"due": "2025-03-14"}) == {"due": TODAY}


def test_text_fields_refuse_non_text() -> None:
    assert errors(make_form(TEXT), {"name": 123}) == {"name": "must be text"}


def test_unknown_keys_are_refused_naming_the_form() -> None:
    assert errors(make_form(AMOUNT), {"amount": "1", "is_admin": True}) == {"is_admin": "not a field of form sample"}


def test_readonly_and_disabled_fields_never_take_the_users_value() -> None:
    form = make_form({"type": "textfield", "key": "status", "readonly": True, "defaultValue": "new"},
                     {"type": "number", "key": "limit", "disabled": True, "validate": {"required": True}})
    assert clean(form, {"status": "approved", "limit": "999999"}) == {"status": "new"}
    assert clean(form, {"status": "approved"}, {"status": "open"}) == {}


def test_conditions_see_the_process_value_of_a_readonly_field_not_the_submitted_one() -> None:
    form = make_form({"type": "textfield", "key": "invoice", "readonly": True},
                     {"type": "textarea", "key": "why", "validate": {"required": True},
                      "conditional": {"hide": "=invoice != null"}})
    assert clean(form, {"invoice": ""}, {"invoice": "INV-1"}) == {}
    assert errors(form, {"invoice": "INV-2"}) == {"why": "is required"}


def test_readonly_can_be_an_expression() -> None:
    form = make_form({"type": "textfield", "key": "note", "readonly": "=locked"})
    assert clean(form, {"note": "x"}, {"locked": True}) == {}
    assert clean(form, {"note": "x"}, {"locked": False}) == {"note": "x"}


HIDDEN_UNLESS_ADJUST = {"hide": '=decision != "adjust"'}
DECISION = {"type": "radio", "key": "decision", "validate": {"required": True},
            "values": [{"label": "Adjust", "value": "adjust"}, {"label": "Reject", "value": "reject"}]}


def test_hidden_fields_are_neither_required_nor_stored() -> None:
    form = make_form(DECISION, dict(AMOUNT, validate={"required": True}, conditional=HIDDEN_UNLESS_ADJUST))
    assert clean(form, {"decision": "reject", "amount": "not even a number"}) == {"decision": "reject"}
    assert errors(form, {"decision": "adjust"}) == {"amount": "is required"}
    assert clean(form, {"decision": "adjust", "amount": "5"}) == {"decision": "adjust", "amount": Decimal("5.00")}


def test_conditions_see_submitted_values_over_the_process_data_and_typed_numbers() -> None:
    form = make_form(AMOUNT, {"type": "textarea", "key": "why", "validate": {"required": True},
                              "conditional": {"hide": "=amount < 100"}})
    assert clean(form, {"amount": "99.99"}) == {"amount": Decimal("99.99")}
    assert errors(form, {"amount": "100"}, {"amount": Decimal(1)}) == {"why": "is required"}


def test_conditions_can_use_the_process_data() -> None:
    form = make_form({"type": "textarea", "key": "why", "validate": {"required": True},
                      "conditional": {"hide": '=risk != "high"'}})
    assert clean(form, {}, {"risk": "low"}) == {}
    assert errors(form, {}, {"risk": "high"}) == {"why": "is required"}


def test_groups_with_a_path_nest_their_values() -> None:
    form = make_form({"type": "group", "path": "address", "components": [
        {"type": "textfield", "id": "Field_city", "key": "city", "validate": {"required": True}},
        {"type": "textfield", "id": "Field_zip", "key": "post.code"}]},
        {"type": "group", "components": [{"type": "textfield", "id": "Field_flat", "key": "flat"}]})
    assert clean(form, {"address": {"city": "Bonn", "post": {"code": "53111"}}, "flat": "x"}) == {
        "address": {"city": "Bonn", "post": {"code": "53111"}}, "flat": "x"}
    assert errors(form, {"address": {"town": "Bonn"}}) == {
        "address.town": "not a field of form sample", "address.city": "is required"}


def test_a_hidden_group_hides_its_children() -> None:
    form = make_form(DECISION, {"type": "group", "path": "refund", "conditional": HIDDEN_UNLESS_ADJUST,
                                "components": [dict(AMOUNT, id="Field_amount", validate={"required": True})]})
    assert clean(form, {"decision": "reject"}) == {"decision": "reject"}


def test_dynamic_list_rows_are_validated_one_by_one_with_indexed_names() -> None:
    form = make_form({"type": "dynamiclist", "path": "items", "components": [
        dict(AMOUNT, id="Field_amount", validate={"required": True, "min": 1}),
        dict(CHOICE, id="Field_reason")]})
    assert clean(form, {"items": [{"amount": "5", "reason": "tax"}, {"amount": 7}]}) == {
        "items": [{"amount": Decimal("5.00"), "reason": "tax"}, {"amount": Decimal("7.00"), "reason": None}]}
    assert errors(form, {"items": [{"amount": "5"}, {"amount": "0", "reason": "x", "extra": 1}, "row"]}) == {
        "items[1].extra": "not a field of form sample", "items[1].amount": "must be at least 1",
        "items[1].reason": "'x' is not one of the options: tax, other", "items[2]": "must be a row of values"}
    assert clean(form, {}) == {"items": []}


def test_conditions_inside_a_row_see_the_rows_values() -> None:
    form = make_form({"type": "dynamiclist", "path": "lines", "components": [
        dict(DECISION, id="Field_d"),
        dict(AMOUNT, id="Field_a", validate={"required": True}, conditional=HIDDEN_UNLESS_ADJUST)]})
    context = {"decision": "adjust"}
    assert clean(form, {"lines": [{"decision": "reject"}]}, context) == {"lines": [{"decision": "reject"}]}
    assert errors(form, {"lines": [{"decision": "reject"}, {"decision": "adjust"}]}) == {
        "lines[1].amount": "is required"}
    row_amount = make_form({"type": "dynamiclist", "path": "lines", "components": [
        dict(AMOUNT, id="Field_a"), {"type": "textarea", "id": "Field_w", "key": "why", "validate": {"required": True},
                                     "conditional": {"hide": "=this.amount < 100"}}]})
    assert clean(row_amount, {"lines": [{"amount": "99"}]}) == {"lines": [{"amount": Decimal("99.00")}]}
    assert errors(row_amount, {"lines": [{"amount": "100"}]}) == {"lines[0].why": "is required"}


def test_every_bad_field_is_named_in_one_error() -> None:
    form = make_form(TEXT, AMOUNT, CHOICE)
    assert sorted(errors(form, {"name": "", "amount": "x", "reason": "y"})) == ["amount", "name", "reason"]


def test_nest_fields_turns_posted_names_into_nested_data() -> None:
    assert nest_fields({"a.b": "1", "items[1].x": "2", "items[0].x": "3", "c": ["p", "q"]}) == {
        "a": {"b": "1"}, "items": [{"x": "3"}, {"x": "2"}], "c": ["p", "q"]}
    with pytest.raises(ValidationFailed):
        nest_fields({"a": "1", "a.b": "2"})


@pytest.fixture(scope="module")
def shipped() -> FormCatalog:
    return FormCatalog.from_directory(FORMS)


def test_investigation_form_accepts_a_rejection_without_an_amount(shipped: FormCatalog) -> None:
    form = shipped.get("investigation")
    assert clean(form, {"decision": "reject", "note": "Invoice matches the contract."}) == {
        "decision": "reject", "note": "Invoice matches the contract."}
    assert errors(form, {"decision": "adjust", "note": "n", "corrected_amount": "-1"}) == {
        "corrected_amount": "must be at least 0", "reason_code": "is required"}


def test_kyc_review_requires_a_rationale_of_ten_characters(shipped: FormCatalog) -> None:
    assert errors(shipped.get("kyc_review"), {"decision": "clear", "rationale": "ok"}) == {
        "rationale": "must be at least 10 characters long"}


def test_payment_match_needs_an_invoice_number_only_when_applying(shipped: FormCatalog) -> None:
    form = shipped.get("payment_match")
    assert clean(form, {"decision": "reject"}) == {"decision": "reject", "note": ""}
    assert errors(form, {"decision": "apply", "invoice_number": "12"}) == {
        "invoice_number": "does not match the required format"}


def test_restructure_plan_takes_whole_installments_and_a_future_date(shipped: FormCatalog) -> None:
    form = shipped.get("restructure_plan")
    data = {"decision": "approve_plan", "plan_installments": "12", "first_due_date": "2025-04-01", "note": "ok"}
    assert clean(form, data)["first_due_date"] == date(2025, 4, 1)
    assert errors(form, dict(data, plan_installments="25")) == {"plan_installments": "must be at most 24"}


def test_approval_comment_is_required_for_the_approval_history(shipped: FormCatalog) -> None:
    assert errors(shipped.get("approval"), {"decision": "approve"}) == {"comment": "is required"}


def test_customer_resolution_without_the_box_ticked_declines(shipped: FormCatalog) -> None:
    assert clean(shipped.get("customer_resolution"), {"comment": "Too little"}) == {
        "accept": False, "comment": "Too little"}
