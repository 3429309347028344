"""`bpmn-requests element-templates`: a Camunda Modeler templates file with one template per service task."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from testenv import SHARED

from bpmn_requests.cli import main
from bpmn_requests.service_tasks import build_registry
from bpmn_requests.service_tasks.templates import SCHEMA, build_templates, template_id

SCHEMA_FILE = Path(os.environ.get("BPMN_TESTS_TEMPLATES_SCHEMA",
                                  SHARED / "data" / "element-templates-schema" / "schema.json"))


@pytest.fixture
def written(tmp_path: Path) -> list[dict[str, Any]]:
    output = tmp_path / "bpmn-requests.json"
    result = CliRunner().invoke(main, ["element-templates", "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert "element templates written to" in result.output
    templates: list[dict[str, Any]] = json.loads(output.read_text(encoding="utf-8"))
    return templates


def test_the_file_validates_against_the_element_templates_schema(written: list[dict[str, Any]]) -> None:
    if not SCHEMA_FILE.is_file():
        pytest.skip(f"the element-templates JSON Schema is not at {SCHEMA_FILE} (set BPMN_TESTS_TEMPLATES_SCHEMA)")
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.validate(written, schema)
    with pytest.raises(jsonschema.ValidationError):  # the schema does check: a template needs appliesTo
        jsonschema.validate([{k: v for k, v in written[0].items() if k != "appliesTo"}], schema)


def test_every_registered_topic_has_its_template(written: list[dict[str, Any]]) -> None:
    registry = build_registry()
    topics = [next(p["value"] for p in t["properties"] if p["binding"] == {"type": "property", "name": "camunda:topic"})
              for t in written]
    assert topics == registry.topics()
    for template, definition in zip(written, registry.definitions(), strict=True):
        assert template["$schema"] == SCHEMA
        assert template["id"] == template_id(definition.topic)
        assert (template["name"], template["appliesTo"]) == (definition.title, ["bpmn:ServiceTask"])
        assert {"type": "Hidden", "value": "external", "binding": {"type": "property", "name": "camunda:type"}} \
            in template["properties"]


def test_inputs_are_typed_fields_and_outputs_are_mapped_to_variables() -> None:
    ledger = next(t for t in build_templates(build_registry()) if t["id"] == "bpmn-requests.ledger.post")
    inputs = {p["binding"]["name"]: p for p in ledger["properties"] if p["binding"]["type"] == "camunda:inputParameter"}
    assert inputs["action"]["constraints"] == {"notEmpty": True} and inputs["action"]["value"] == "${action}"
    assert "constraints" not in inputs["reason_code"] and "value" not in inputs["reason_code"]
    assert all(p["type"] == "String" and p["description"] for p in inputs.values())
    outputs = [p for p in ledger["properties"] if p["binding"]["type"] == "camunda:outputParameter"]
    assert [(p["value"], p["binding"]["source"]) for p in outputs] == [("posting_number", "${posting_number}")]
    assert "posting_number" in ledger["description"]


def test_template_ids_are_dotted_topics() -> None:
    assert template_id("kyc/validate") == "bpmn-requests.kyc.validate"
    assert template_id("notify/customer_resolution") == "bpmn-requests.notify.customer-resolution"


def test_without_output_the_templates_go_to_standard_output() -> None:
    result = CliRunner().invoke(main, ["element-templates"])
    assert result.exit_code == 0
    assert len(json.loads(result.output)) == len(build_registry().topics())


def test_an_input_field_left_blank_passes_the_process_variable_of_that_name() -> None:
    from bpmn_requests.engine.runner import Engine, ServiceCall
    text = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs" targetNamespace="x">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="Event_Start"/>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Event_Start" targetRef="Task_Post"/>
    <bpmn:serviceTask id="Task_Post" camunda:type="external" camunda:topic="ledger/post">
      <bpmn:extensionElements><camunda:inputOutput>
        <camunda:inputParameter name="action">credit_memo</camunda:inputParameter>
        <camunda:inputParameter name="reason_code" />
      </camunda:inputOutput></bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_Post" targetRef="Event_End"/>
    <bpmn:endEvent id="Event_End"/>
  </bpmn:process>
</bpmn:definitions>"""
    calls: list[ServiceCall] = []

    def bridge(call: ServiceCall) -> dict[str, Any]:
        calls.append(call)
        return {"posting_number": "CM-1"}

    engine = Engine()
    snapshot = engine.start(engine.bundle({"p.bpmn": text}), "p", {"reason_code": "goodwill"}, bridge, "k")
    assert snapshot.completed
    assert calls[0].inputs == {"action": "credit_memo"}
    assert calls[0].data["reason_code"] == "goodwill"
