"""Parsing Camunda Forms: the shipped forms, every supported component type, and refusal of broken files."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bpmn_requests.forms import FeelExpression, FormError, parse_form

REPO = Path(__file__).resolve().parents[2]
FORMS = REPO / "forms"
# The form-js JSON Schema lives in the shared folder next to the repository (FORM_JS_SCHEMA_DIR overrides).
SCHEMA_DIR = Path(os.environ.get("FORM_JS_SCHEMA_DIR", REPO.parent / "shared" / "data" / "form-js-schema"))
SHIPPED = sorted(FORMS.glob("*.form"))

# The contract of processes/README.md: each form's field keys, and the option values of its choices.
CONTRACT: dict[str, dict[str, list[str] | None]] = {
    "kyc_review": {"decision": ["clear", "confirm_match"], "rationale": None},
    "investigation": {"decision": ["adjust", "reject", "need_info"], "question": None, "corrected_amount": None,
                      "note": None,
                      "reason_code": ["pricing_error", "billing_error", "duplicate_invoice", "goods_not_received",
                                      "quality_issue", "tax_error", "other"]},
    "adjustment_review": {"decision": ["adjust", "reject", "need_info"], "question": None, "adjustment_amount": None,
                          "note": None,
                          "reason_code": ["goodwill", "small_balance", "uncollectible", "duplicate_payment",
                                          "service_failure", "other"]},
    "payment_match": {"decision": ["apply", "reject"], "invoice_number": None, "note": None},
    "credit_review": {"decision": ["approve_limit", "reject"], "approved_limit": None, "note": None},
    "restructure_plan": {"decision": ["approve_plan", "reject"], "plan_installments": None,
                         "first_due_date": None, "note": None},
    "approval": {"decision": ["approve", "reject", "return"], "comment": None},
    "customer_resolution": {"accept": None, "comment": None},
    "customer_information": {"answer": None},
    # The portal's intake forms: the intake fields of domain/intake.py plus contact_email (identity check).
    "intake_billing_dispute": {"customer_id": None, "contact_email": None, "invoice_numbers": None,
                               "disputed_amount": None, "description": None},
    "intake_payment_issue": {"customer_id": None, "contact_email": None, "payment_references": None,
                             "description": None},
    "intake_credit_onboarding": {"customer_id": None, "contact_email": None, "requested_limit": None,
                                 "description": None},
    "intake_credit_adjustment": {"customer_id": None, "contact_email": None, "invoice_numbers": None,
                                 "adjustment_kind": ["refund", "write_off"], "disputed_amount": None,
                                 "description": None},
    "intake_debt_restructuring": {"customer_id": None, "contact_email": None, "installments": None,
                                  "invoice_numbers": None, "disputed_amount": None, "description": None},
}


def form_text(components: list[dict[str, Any]], **root: Any) -> str:
    """A form file as Camunda Modeler writes it, with `root` overriding top-level properties."""
    document = {"components": components, "type": "default", "id": "sample",
                "executionPlatform": "Camunda Platform", "executionPlatformVersion": "7.21.0",
                "exporter": {"name": "Camunda Modeler", "version": "5.22.0"}, "schemaVersion": 16}
    document.update(root)
    return json.dumps(document, indent=2)


def refusal(text: str) -> list[str]:
    with pytest.raises(FormError) as raised:
        parse_form(text, "sample.form")
    return [str(problem) for problem in raised.value.problems]


def form_js_validator() -> Any:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is needed to check forms against form-js")
    referencing = pytest.importorskip("referencing")
    from referencing.jsonschema import DRAFT7

    if not (SCHEMA_DIR / "src" / "index.json").is_file():
        pytest.skip(f"form-js JSON Schema not found in {SCHEMA_DIR}; set FORM_JS_SCHEMA_DIR to check forms")
    prefix = "http://niklaskiefer.de/schema/form-js/"

    def retrieve(uri: str) -> Any:
        contents = json.loads((SCHEMA_DIR / uri.removeprefix(prefix)).read_text(encoding="utf-8"))
        return referencing.Resource.from_contents(contents, default_specification=DRAFT7)

    schema = json.loads((SCHEMA_DIR / "src" / "index.json").read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema, registry=referencing.Registry(retrieve=retrieve))


def test_every_contract_form_is_shipped() -> None:
    assert sorted(path.stem for path in SHIPPED) == sorted(CONTRACT)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_shipped_form_validates_against_the_form_js_json_schema(path: Path) -> None:
    errors = [error.message for error in form_js_validator().iter_errors(json.loads(path.read_text()))]
    assert errors == []


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_shipped_form_is_a_camunda_modeler_file_with_the_contract_keys_and_options(path: Path) -> None:
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert (raw["executionPlatform"], raw["executionPlatformVersion"]) == ("Camunda Platform", "7.21.0")
    assert raw["exporter"]["name"] == "Camunda Modeler" and raw["schemaVersion"] >= 16
    form = parse_form(path.read_text(encoding="utf-8"), path.name)
    assert form.id == path.stem
    fields = {str(field.key): field for field in form.inputs()}
    assert sorted(fields) == sorted(CONTRACT[path.stem])
    for key, options in CONTRACT[path.stem].items():
        if options is not None:
            assert [option.value for option in fields[key].values] == options


def test_component_ids_of_shipped_forms_are_unique_across_all_forms() -> None:
    ids = [c["id"] for path in SHIPPED for c in json.loads(path.read_text())["components"]]
    assert len(ids) == len(set(ids))


ALL_TYPES: list[dict[str, Any]] = [
    {"type": "text", "id": "Field_text", "text": "# Hello {{name}}"},
    {"type": "textfield", "id": "Field_tf", "key": "name", "label": "Name",
     "validate": {"required": True, "minLength": 2, "maxLength": "20", "pattern": "^[A-Z]",
                  "validationType": "email"}, "appearance": {"prefixAdorner": "@"}},
    {"type": "textarea", "id": "Field_ta", "key": "story", "readonly": "=locked = true"},
    {"type": "number", "id": "Field_nb", "key": "amount", "decimalDigits": 2, "increment": "0.05",
     "validate": {"min": 0, "max": "=limit"}, "defaultValue": "10"},
    {"type": "checkbox", "id": "Field_cb", "key": "agree", "defaultValue": True, "disabled": True},
    {"type": "checklist", "id": "Field_cl", "key": "tags", "values": [{"label": "A", "value": "a"}]},
    {"type": "radio", "id": "Field_rd", "key": "choice", "valuesKey": "choices"},
    {"type": "select", "id": "Field_sl", "key": "pick", "valuesExpression": "=options", "searchable": True},
    {"type": "taglist", "id": "Field_tl", "key": "labels", "values": [{"label": "X", "value": "x"}]},
    {"type": "datetime", "id": "Field_dt", "key": "due", "subtype": "datetime", "dateLabel": "Due",
     "timeLabel": "At", "use24h": True, "disallowPassedDates": True},
    {"type": "group", "id": "Field_gr", "label": "Address", "path": "address", "showOutline": True,
     "components": [{"type": "textfield", "id": "Field_st", "key": "street"}]},
    {"type": "dynamiclist", "id": "Field_dl", "label": "Items", "path": "items", "isRepeating": True,
     "allowAddRemove": True, "defaultRepetitions": 1,
     "components": [{"type": "number", "id": "Field_am", "key": "amount"}]},
    {"type": "spacer", "id": "Field_sp", "height": 40},
    {"type": "separator", "id": "Field_sep"},
    {"type": "button", "id": "Field_bt", "label": "Submit", "action": "submit"},
]


def test_every_supported_component_type_parses_with_its_settings() -> None:
    text = form_text([dict(c, layout={"row": f"Row_{i}", "columns": 8}, properties={"hint": "x"})
                      for i, c in enumerate(ALL_TYPES)])
    form = parse_form(text, "sample.form")
    by_id = {c.id: c for c in form.components}
    assert [c.type for c in form.components] == [c["type"] for c in ALL_TYPES]
    assert form.schema_version == 16 and form.id == "sample"
    name = by_id["Field_tf"]
    assert (name.validate.required, name.validate.min_length, name.validate.max_length) == (True, 2, 20)
    assert name.validate.pattern is not None and name.validate.validation_type == "email"
    assert isinstance(by_id["Field_ta"].readonly, FeelExpression)
    amount = by_id["Field_nb"]
    assert (amount.decimal_digits, amount.increment, amount.validate.min) == (2, Decimal("0.05"), Decimal(0))
    assert isinstance(amount.validate.max, FeelExpression) and amount.default_value == "10"
    assert by_id["Field_cb"].disabled is True and by_id["Field_rd"].values_key == "choices"
    assert by_id["Field_sl"].values_expression is not None
    assert (by_id["Field_dt"].subtype, by_id["Field_dt"].label) == ("datetime", "Due")
    assert by_id["Field_gr"].path == "address" and by_id["Field_gr"].children[0].key == "street"
    assert by_id["Field_dl"].children[0].key == "amount"
    assert by_id["Field_text"].template is not None and by_id["Field_bt"].action == "submit"
    assert by_id["Field_tf"].layout_row == "Row_1" and by_id["Field_tf"].properties["hint"] == "x"
    assert [c.key for c in form.inputs()][-2:] == ["street", "amount"]


def test_the_full_example_passes_the_form_js_schema_too() -> None:
    errors = [e.message for e in form_js_validator().iter_errors(json.loads(form_text(ALL_TYPES)))]
    assert errors == []


def test_invalid_json_is_refused_with_line_and_column() -> None:
    (problem,) = refusal('{\n  "id": "sample",\n  "components": [,]\n}')
    assert "not valid JSON" in problem and "line 3, column 18" in problem


def test_a_form_without_id_is_refused() -> None:
    assert any("has no id" in p for p in refusal(form_text([], id="")))


def test_schema_versions_before_16_are_refused() -> None:
    assert any("schemaVersion 15 is too old" in p for p in refusal(form_text([], schemaVersion=15)))


def test_an_unknown_component_type_is_refused_naming_the_component_its_type_and_the_supported_types() -> None:
    (problem,) = refusal(form_text([{"type": "filepicker", "id": "Field_upload", "key": "file"}]))
    assert "Field_upload" in problem and "'filepicker' is not supported" in problem
    assert "textfield" in problem and "dynamiclist" in problem


def test_duplicate_keys_are_refused() -> None:
    problems = refusal(form_text([{"type": "textfield", "id": "Field_a", "key": "note"},
                                  {"type": "textarea", "id": "Field_b", "key": "note"}]))
    assert any("Field_b" in p and "'note' is also used by Field_a" in p for p in problems)


def test_a_key_inside_another_field_is_refused() -> None:
    problems = refusal(form_text([{"type": "textfield", "id": "Field_a", "key": "address"},
                                  {"type": "group", "id": "Field_g", "path": "address",
                                   "components": [{"type": "textfield", "id": "Field_b", "key": "city"}]}]))
    assert any("'address.city' lies inside the field 'address'" in p for p in problems)


def test_the_same_key_in_a_dynamic_list_row_and_at_the_top_is_allowed() -> None:
    parse_form(form_text([{"type": "number", "id": "Field_a", "key": "amount"},
                          {"type": "dynamiclist", "id": "Field_l", "path": "items",
                           "components": [{"type": "number", "id": "Field_b", "key": "amount"}]}]), "sample.form")


def test_duplicate_component_ids_are_refused() -> None:
    problems = refusal(form_text([{"type": "textfield", "id": "Field_a", "key": "a"},
                                  {"type": "textfield", "id": "Field_a", "key": "b"}]))
    assert any("Field_a" in p and "used more than once" in p for p in problems)


@pytest.mark.parametrize("kind", ["select", "radio", "checklist", "taglist"])
def test_a_choice_without_values_or_values_key_is_refused(kind: str) -> None:
    (problem,) = refusal(form_text([{"type": kind, "id": "Field_c", "key": "choice"}]))
    assert "Field_c" in problem and "has no options" in problem


def test_a_default_that_is_not_an_option_is_refused() -> None:
    (problem,) = refusal(form_text([{"type": "select", "id": "Field_c", "key": "c", "defaultValue": "z",
                                     "values": [{"label": "A", "value": "a"}]}]))
    assert "defaultValue 'z' is not one of the options" in problem


def test_a_malformed_pattern_is_refused() -> None:
    (problem,) = refusal(form_text([{"type": "textfield", "id": "Field_t", "key": "code",
                                     "validate": {"pattern": "^(INV-"}}]))
    assert "Field_t" in problem and "not a valid regular expression" in problem


def test_a_hide_condition_outside_the_feel_subset_is_refused_with_its_position() -> None:
    (problem,) = refusal(form_text([{"type": "textfield", "id": "Field_t", "key": "code",
                                     "conditional": {"hide": "=some x in tags satisfies x = 1"}}]))
    assert "conditional.hide" in problem and "'some' quantifiers are not supported at column 2" in problem


def test_an_input_without_key_is_refused() -> None:
    (problem,) = refusal(form_text([{"type": "number", "id": "Field_n"}]))
    assert "Field_n" in problem and "needs a key" in problem


def test_a_dynamic_list_without_path_is_refused() -> None:
    (problem,) = refusal(form_text([{"type": "dynamiclist", "id": "Field_l", "components": []}]))
    assert "needs a path" in problem


def test_number_settings_that_make_no_sense_are_refused() -> None:
    problems = refusal(form_text([{"type": "number", "id": "Field_n", "key": "n", "decimalDigits": -1,
                                   "increment": "0", "validate": {"min": "lots"}}]))
    assert len(problems) == 3


def test_template_blocks_in_text_are_refused() -> None:
    (problem,) = refusal(form_text([{"type": "text", "id": "Field_x", "text": "{{#loop items}}x{{/loop}}"}]))
    assert "Field_x" in problem and "template blocks" in problem


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    problems = refusal(form_text([{"type": "html", "id": "Field_h"},
                                  {"type": "select", "id": "Field_s", "key": "s"},
                                  {"type": "textfield", "id": "Field_t", "key": "t",
                                   "validate": {"pattern": "("}}], schemaVersion=12))
    assert len(problems) == 4


def test_form_errors_carry_each_problem_as_a_located_field_error() -> None:
    with pytest.raises(FormError) as raised:
        parse_form(form_text([{"type": "html", "id": "Field_h"}]), "sample.form")
    assert list(raised.value.field_errors) == ["sample.form#Field_h"]
