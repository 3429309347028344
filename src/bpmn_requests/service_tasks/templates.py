"""Camunda Modeler element templates (Camunda 7) for every registered service task.

An analyst applies a template to a service task and gets the external-task topic set for them, one
input field per input the service task takes and one output field per variable it returns, each with
its description. The file follows `@camunda/element-templates-json-schema`.
"""

from __future__ import annotations

import re
from typing import Any

from .registry import Param, Registry, ServiceTaskDefinition

SCHEMA = "https://unpkg.com/@camunda/element-templates-json-schema/resources/schema.json"
TEMPLATE_VERSION = 1
GROUPS = [{"id": "inputs", "label": "Inputs"}, {"id": "outputs", "label": "Outputs (process variables)"}]


def template_id(topic: str) -> str:
    """`bpmn-requests.kyc.validate` for `kyc/validate`, `bpmn-requests.notify.customer-x` for `notify/customer_x`."""
    return "bpmn-requests." + re.sub(r"[^A-Za-z0-9.-]", "-", topic.replace("/", ".").replace("_", "-"))


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:] + ("" if text.endswith((".", "?", "!")) else ".")) if text else ""


def _input(param: Param) -> dict[str, Any]:
    if param.required:
        hint = f"Required. Default ${{{param.name}}}: the process variable of the same name."
    else:
        hint = f"Optional. Leave empty to pass the process variable {param.name} when it is set."
    prop: dict[str, Any] = {
        "label": f"{param.name} ({param.type})",
        "description": (f"{_sentence(param.description)} {hint} A literal text, or an expression such as "
                        f"${{{param.name}}}."),
        "type": "String",
        "group": "inputs",
        "binding": {"type": "camunda:inputParameter", "name": param.name},
    }
    if param.required:
        prop["value"] = f"${{{param.name}}}"
        prop["constraints"] = {"notEmpty": True}
    return prop


def _output(param: Param) -> dict[str, Any]:
    return {
        "label": f"{param.name} ({param.type})",
        "description": f"{_sentence(param.description)} The process variable that receives it (default "
                       f"{param.name}).",
        "type": "String",
        "value": param.name,
        "group": "outputs",
        "binding": {"type": "camunda:outputParameter", "source": f"${{{param.name}}}"},
    }


def _description(definition: ServiceTaskDefinition) -> str:
    outputs = ", ".join(p.name for p in definition.outputs) or "nothing"
    return f"{_sentence(definition.description)} Topic {definition.topic}. Sets: {outputs}."


def build_template(definition: ServiceTaskDefinition) -> dict[str, Any]:
    """One element template: a service task calling `definition.topic` as an external task."""
    properties: list[dict[str, Any]] = [
        {"type": "Hidden", "value": "external", "binding": {"type": "property", "name": "camunda:type"}},
        {"type": "Hidden", "value": definition.topic, "binding": {"type": "property", "name": "camunda:topic"}},
    ]
    properties += [_input(param) for param in definition.inputs]
    properties += [_output(param) for param in definition.outputs]
    return {
        "$schema": SCHEMA,
        "name": definition.title,
        "id": template_id(definition.topic),
        "description": _description(definition),
        "version": TEMPLATE_VERSION,
        "appliesTo": ["bpmn:ServiceTask"],
        "groups": GROUPS,
        "properties": properties,
    }


def build_templates(registry: Registry) -> list[dict[str, Any]]:
    """The element-templates file: one template per registered service task, sorted by topic."""
    return [build_template(definition) for definition in registry.definitions()]
