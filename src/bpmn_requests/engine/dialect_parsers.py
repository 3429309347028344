"""Parsers (and the task specs they create) for what SpiffWorkflow's CamundaParser reads only in Camunda 7 terms.

Conditions: the `language` attribute if set, else the form (`${...}` JUEL, `=...` FEEL, otherwise Python),
checked against the supported subsets when the diagram is read. Business rule tasks: `camunda:decisionRef`,
Camunda 8 `zeebe:calledDecision` (the result goes to its resultVariable, then through the output mappings)
or SpiffArena's `spiffworkflow:calledDecisionId`. Call activities: `calledElement` or Camunda 8
`zeebe:calledElement`. Script tasks: Python, or a Camunda 8 `zeebe:script` FEEL expression whose value is
stored in its resultVariable (or mapped by the output mappings).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.task_parsers import ConditionalGatewayParser
from SpiffWorkflow.bpmn.parser.util import first
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_task_spec import _BpmnCondition
from SpiffWorkflow.bpmn.specs.defaults import CallActivity, ExclusiveGateway, InclusiveGateway, ScriptTask
from SpiffWorkflow.camunda.parser.task_spec import (
    BusinessRuleTaskParser,
    CallActivityParser,
    ScriptTaskParser,
)
from SpiffWorkflow.camunda.specs.business_rule_task import BusinessRuleTask
from SpiffWorkflow.dmn.specs.business_rule_task_mixin import BusinessRuleTaskMixin
from SpiffWorkflow.dmn.specs.model import HitPolicy

from ..domain.errors import DomainError, ProcessError
from .dialects import element_facts
from .expressions import (
    FEEL,
    ExpressionRefused,
    check_expression,
    condition_holds,
    evaluate,
    is_camunda_expression,
    normalized,
)


def _mapped(outputs: tuple[tuple[str, str], ...], scope: Mapping[str, Any]) -> dict[str, Any]:
    """Camunda 8 output mappings over `scope`: a FEEL `=source` is evaluated, any other source is a literal."""
    return {target: evaluate(source, scope) if is_camunda_expression(source) else source
            for target, source in outputs}


def _store(task: Any, name: str, value: Any, outputs: tuple[tuple[str, str], ...]) -> None:
    """Zeebe: the result variable alone, or, with output mappings, only what they map (they see the result)."""
    if not outputs:
        task.data[name] = value
        return
    try:
        task.data.update(_mapped(outputs, {**task.data, name: value}))
    except DomainError as exc:
        raise ProcessError(f"element {task.task_spec.bpmn_id}: {exc.message}",
                           details={"element_id": task.task_spec.bpmn_id}) from None


class CamundaCondition(_BpmnCondition):  # type: ignore[misc]
    """A sequence-flow condition that holds with its language's meaning (FEEL: only when true)."""

    def _matches(self, task: Any) -> Any:
        value = super()._matches(task)
        if not is_camunda_expression(self.args[0]):
            return value
        try:
            return condition_holds(self.args[0], value)
        except DomainError as exc:
            raise ProcessError(f"element {task.task_spec.bpmn_id}: {exc.message}",
                               details={"element_id": task.task_spec.bpmn_id}) from None


class ConditionGatewayParser(ConditionalGatewayParser):  # type: ignore[misc]
    def parse_condition(self, sequence_flow: Any) -> str | None:
        node = first(self._xpath(sequence_flow, ".//bpmn:conditionExpression"))
        if node is None or node.text is None:
            return None
        try:
            source = normalized(node.text, node.get("language"))
            check_expression(source)
        except ExpressionRefused as exc:
            raise ValidationException(f"condition of {sequence_flow.get('id')}: {exc.message}",
                                      node=sequence_flow, file_name=self.filename) from None
        return source if is_camunda_expression(source) else str(node.text)

    def connect_outgoing(self, outgoing_task: Any, sequence_flow_node: Any, is_default: bool) -> None:
        condition = None if is_default else self.parse_condition(sequence_flow_node)
        if condition is None:
            super().connect_outgoing(outgoing_task, sequence_flow_node, is_default)
        else:
            self.task.connect_if(CamundaCondition(condition), outgoing_task)


class DecisionResultTask(BusinessRuleTask):  # type: ignore[misc]
    """Camunda 8: the decision's result (one output: its value; several: a context) goes to a variable."""

    def __init__(self, wf_spec: Any, bpmn_id: str, result_variable: str, outputs: tuple[tuple[str, str], ...],
                 **kwargs: Any):
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.result_variable, self.output_mappings = result_variable, outputs

    def _run_hook(self, my_task: Any) -> bool:
        rows = [dict(rule.output_as_dict(my_task)) for rule in self.dmnEngine.decide(my_task)]
        values = [next(iter(row.values())) if len(row) == 1 else row for row in rows]
        collect = self.dmnEngine.decision_table.hit_policy == HitPolicy.COLLECT.value
        _store(my_task, self.result_variable, values if collect else (values[0] if values else None),
               self.output_mappings)
        return bool(super(BusinessRuleTaskMixin, self)._run_hook(my_task))


class DialectBusinessRuleTaskParser(BusinessRuleTaskParser):  # type: ignore[misc]
    @staticmethod
    def get_decision_ref(node: Any) -> str | None:
        return element_facts(node).decision_id

    def create_task(self) -> Any:
        facts = element_facts(self.node)
        if not facts.decision_id:
            self.raise_validation_exception("the business rule task names no decision (camunda:decisionRef, "
                                            "zeebe:calledDecision or spiffworkflow:calledDecisionId)")
        engine = self.process_parser.parser.get_engine(facts.decision_id, self.node)
        if facts.dialect != "zeebe":
            return BusinessRuleTask(self.spec, self.bpmn_id, dmnEngine=engine, **self.bpmn_attributes)
        if not facts.result_variable:
            self.raise_validation_exception("zeebe:calledDecision has no resultVariable")
        _check_mappings(self, facts.outputs)
        return DecisionResultTask(self.spec, self.bpmn_id, facts.result_variable, facts.outputs, dmnEngine=engine,
                                  **self.bpmn_attributes)


class DialectCallActivityParser(CallActivityParser):  # type: ignore[misc]
    def create_task(self) -> Any:
        called = element_facts(self.node).called_element
        if not called:
            self.raise_validation_exception('No "calledElement" attribute (or zeebe:calledElement) for Call Activity.')
        if called.startswith("="):
            self.raise_validation_exception(f"the called process id {called!r} is an expression; name the process")
        return self.spec_class(self.spec, self.bpmn_id, subworkflow_spec=called, **self.bpmn_attributes)


class FeelScriptTask(ScriptTask):  # type: ignore[misc]
    """A Camunda 8 script task: a FEEL expression whose value is stored in the result variable."""

    def __init__(self, wf_spec: Any, bpmn_id: str, script: str, result_variable: str,
                 outputs: tuple[tuple[str, str], ...], **kwargs: Any):
        super().__init__(wf_spec, bpmn_id, script=script, **kwargs)
        self.result_variable, self.output_mappings = result_variable, outputs

    def _execute(self, task: Any) -> bool:
        _store(task, self.result_variable, task.workflow.script_engine.evaluate(task, self.script),
               self.output_mappings)
        return True


class DialectScriptTaskParser(ScriptTaskParser):  # type: ignore[misc]
    def create_task(self) -> Any:
        facts = element_facts(self.node)
        if facts.script is None:
            return super().create_task()
        if not facts.result_variable:
            self.raise_validation_exception("zeebe:script has no resultVariable")
        script = _checked(self, normalized(facts.script, FEEL), "the script")
        _check_mappings(self, facts.outputs)
        return FeelScriptTask(self.spec, self.bpmn_id, script, facts.result_variable, facts.outputs,
                              **self.bpmn_attributes)


def _checked(parser: Any, source: str, what: str) -> str:
    try:
        check_expression(source)
    except ExpressionRefused as exc:
        parser.raise_validation_exception(f"{what}: {exc.message}")
    return source


def _check_mappings(parser: Any, outputs: tuple[tuple[str, str], ...]) -> None:
    for target, source in outputs:
        if not target.isidentifier():
            parser.raise_validation_exception(f"output mapping target {target!r} must be a variable name")
        if is_camunda_expression(source):
            _checked(parser, source, f"output mapping {target!r}")


DIALECT_PARSERS = {
    full_tag("exclusiveGateway"): (ConditionGatewayParser, ExclusiveGateway),
    full_tag("inclusiveGateway"): (ConditionGatewayParser, InclusiveGateway),
    full_tag("businessRuleTask"): (DialectBusinessRuleTaskParser, BusinessRuleTask),
    full_tag("callActivity"): (DialectCallActivityParser, CallActivity),
    full_tag("scriptTask"): (DialectScriptTaskParser, ScriptTask),
}
