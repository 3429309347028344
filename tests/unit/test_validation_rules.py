"""The validator: one small broken diagram per rule, each refused with its message, line and element.

Also the inputs nobody should be able to deploy (external entities, entity expansion, huge files,
archives and binaries renamed .bpmn, broken forms, duplicate ids, calls to missing processes): each is
refused with a clear reason, and `deploy` of such a set leaves the active version as it was.
"""

from __future__ import annotations

import io
import zipfile
from textwrap import dedent

import pytest
from support import ROOT, memory_state

from bpmn_requests.domain.errors import ValidationFailed
from bpmn_requests.engine.validation import Problem, check_diagrams
from bpmn_requests.usecases.context import Services
from bpmn_requests.usecases.deploy import check_files, collect_files, deploy

TOPICS = {"invoice/lookup", "kyc/validate", "notify/customer"}
FORMS = {"investigation", "approval"}
NAMESPACES = ('xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
              'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
              'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" '
              'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
              'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"')


def diagram(body: str, *, process_id: str = "p", executable: str = "true", extra: str = "") -> str:
    """A definitions document with one process holding `body` (and `extra` after the process)."""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {NAMESPACES} id="Defs" '
            f'targetNamespace="http://bpmn.io/schema/bpmn">\n'
            f'  <bpmn:process id="{process_id}" isExecutable="{executable}">\n'
            f'{dedent(body).strip()}\n  </bpmn:process>\n{extra}</bpmn:definitions>\n')


def straight(task: str, task_id: str = "Task_A") -> str:
    """start -> `task` (with id `task_id`) -> end."""
    return f"""
    <bpmn:startEvent id="Event_Start"/>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Event_Start" targetRef="{task_id}"/>
    {task}
    <bpmn:sequenceFlow id="Flow_2" sourceRef="{task_id}" targetRef="Event_End"/>
    <bpmn:endEvent id="Event_End"/>
    """


def service(topic: str = "invoice/lookup", task_id: str = "Task_A") -> str:
    return f'<bpmn:serviceTask id="{task_id}" name="Look up" camunda:type="external" camunda:topic="{topic}"/>'


def line_of(text: str, needle: str) -> int:
    assert needle in text, needle
    return text[:text.index(needle)].count("\n") + 1


def check(files: dict[str, str | bytes], **kwargs: object) -> list[Problem]:
    encoded = {name: content.encode() if isinstance(content, str) else content for name, content in files.items()}
    return check_diagrams(encoded, lambda topic: topic in TOPICS, lambda form: form in FORMS,
                          topics=sorted(TOPICS), forms=sorted(FORMS), **kwargs)  # type: ignore[arg-type]


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def the(problems: list[Problem], rule: str) -> Problem:
    """The one problem of `rule`, failing with all problems shown otherwise."""
    found = [p for p in problems if p.rule == rule]
    assert len(found) == 1, f"expected one {rule!r} problem, got: {[str(p) for p in problems]}"
    return found[0]


def assert_at(problem: Problem, text: str, element_id: str, needle: str | None = None, fragment: str = "") -> None:
    assert problem.element_id == element_id, str(problem)
    assert problem.line == line_of(text, needle or f'id="{element_id}"'), str(problem)
    assert fragment in problem.message, str(problem)


# --- a valid diagram passes ------------------------------------------------------------------------


def test_a_small_valid_diagram_has_no_problem() -> None:
    assert check({"ok.bpmn": diagram(straight(service()))}) == []


def test_the_shipped_processes_have_no_errors() -> None:
    files = {f"processes/{p.name}": p.read_bytes() for p in sorted((ROOT / "processes").iterdir())
             if p.suffix in (".bpmn", ".dmn")}
    found = check_diagrams(files, lambda t: True, lambda f: True)
    assert errors(found) == [], [str(p) for p in found]
    assert {p.rule for p in found} <= {"loop"}


# --- XML and schema ---------------------------------------------------------------------------------


def test_malformed_xml_is_refused_with_its_line() -> None:
    text = diagram(straight(service())).replace('<bpmn:endEvent id="Event_End"/>', '<bpmn:endEvent id="Event_End">')
    problem = the(check({"broken.bpmn": text}), "not-well-formed")
    assert problem.line == line_of(text, "</bpmn:process>")
    assert "not well-formed XML" in problem.message and "save it again" in problem.message


def test_bpmn_xsd_violation_names_the_element_and_line() -> None:
    text = diagram(straight(service()).replace('<bpmn:sequenceFlow id="Flow_2" sourceRef="Task_A"',
                                               '<bpmn:sequenceFlow id="Flow_2"'))
    problem = the(check({"x.bpmn": text}), "xsd")
    assert_at(problem, text, "Flow_2", fragment="'sourceRef' is required")
    assert problem.message.startswith("not valid BPMN 2.0 (XSD)")


def test_dmn_xsd_violation_is_refused() -> None:
    text = DMN.replace('<output id="Output_Level"', '<outputs id="Output_Level"')
    problem = the(check({"d.dmn": text, "p.bpmn": diagram(straight(service()))}), "xsd")
    assert problem.file == "d.dmn" and "not valid DMN (XSD)" in problem.message
    assert problem.line == line_of(text, "<outputs")


def test_a_dmn_file_named_bpmn_is_named_for_what_it_is() -> None:
    problem = the(check({"table.bpmn": DMN}), "not-bpmn")
    assert "a DMN decision table: name it .dmn" in problem.message


# --- ids ----------------------------------------------------------------------------------------------


def test_duplicate_ids_name_both_lines() -> None:
    text = diagram(straight(service() + "\n" + service(task_id="Task_A").replace("Look up", "Again")))
    problem = the(check({"dup.bpmn": text}), "duplicate-id")
    first, second = line_of(text, 'name="Look up"'), line_of(text, 'name="Again"')
    assert (problem.element_id, problem.line) == ("Task_A", second)
    assert f"lines {first} and {second}" in problem.message


@pytest.mark.parametrize("reserved", ["Start", "End", "p.EndJoin", "StartEventSplit"])
def test_ids_the_engine_uses_for_its_own_tasks_are_refused(reserved: str) -> None:
    text = diagram(straight(service(task_id=reserved), task_id=reserved))
    problem = the(check({"r.bpmn": text}), "reserved-id")
    assert_at(problem, text, reserved, fragment="reserved by the engine")


# --- what the engine can run ----------------------------------------------------------------------------


def test_the_engine_parse_error_is_located_at_its_element() -> None:
    task = ('<bpmn:userTask id="Task_A" name="Review" camunda:formRef="approval" camunda:candidateGroups="b">'
            '<bpmn:multiInstanceLoopCharacteristics/></bpmn:userTask>')
    text = diagram(straight(task))
    problem = the(check({"mi.bpmn": text}), "engine")
    assert_at(problem, text, "Task_A", fragment="cardinality or a collection")


def test_a_complex_gateway_is_refused() -> None:
    text = diagram(straight('<bpmn:complexGateway id="Gateway_C"/>', "Gateway_C"))
    assert_at(the(check({"c.bpmn": text}), "unsupported-element"), text, "Gateway_C", fragment="complex gateway")


@pytest.mark.parametrize(("event", "definition", "fragment"), [
    ("endEvent", "signalEventDefinition", "a signal end event cannot run here"),
    ("intermediateThrowEvent", "linkEventDefinition", "a link intermediate throw event"),
    ("intermediateThrowEvent", "compensateEventDefinition", "a compensate intermediate throw event"),
])
def test_event_types_the_engine_drops_are_refused(event: str, definition: str, fragment: str) -> None:
    body = f"""
    <bpmn:startEvent id="Event_Start"/>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Event_Start" targetRef="Event_X"/>
    <bpmn:{event} id="Event_X"><bpmn:{definition} id="Def_X"{' name="L"' if 'link' in definition else ''}/></bpmn:{event}>
    """
    if event != "endEvent":
        body += ('<bpmn:sequenceFlow id="Flow_2" sourceRef="Event_X" targetRef="Event_End"/>'
                 '<bpmn:endEvent id="Event_End"/>')
    text = diagram(body)
    assert_at(the(check({"e.bpmn": text}), "unsupported-event"), text, "Event_X", fragment=fragment)


def test_a_task_with_two_outgoing_flows_needs_a_gateway() -> None:
    text = diagram(straight(service()) + '<bpmn:sequenceFlow id="Flow_3" sourceRef="Task_A" targetRef="Event_End"/>')
    assert_at(the(check({"s.bpmn": text}), "implicit-split"), text, "Task_A", fragment="add a parallel gateway")


def test_a_file_without_an_executable_process_is_refused_at_the_process() -> None:
    text = diagram(straight(service()), executable="false")
    assert_at(the(check({"n.bpmn": text}), "not-executable"), text, "p", fragment="tick 'Executable'")


# --- tasks ------------------------------------------------------------------------------------------------


def test_an_unregistered_topic_is_refused_with_a_suggestion() -> None:
    text = diagram(straight(service("invoice/lookups")))
    assert_at(the(check({"t.bpmn": text}), "service-topic"), text, "Task_A",
              fragment="topic 'invoice/lookups' is not a registered service task (did you mean 'invoice/lookup'?)")


def test_a_java_class_service_task_is_refused() -> None:
    text = diagram(straight('<bpmn:serviceTask id="Task_A" camunda:class="com.acme.Lookup"/>'))
    assert_at(the(check({"j.bpmn": text}), "service-task"), text, "Task_A", fragment="a Java class")


@pytest.mark.parametrize("task", [
    '<bpmn:serviceTask id="Task_A"><bpmn:extensionElements><zeebe:taskDefinition type="kyc/validate"/>'
    '</bpmn:extensionElements></bpmn:serviceTask>',
    '<bpmn:serviceTask id="Task_A"><bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="kyc/validate"/>'
    '</bpmn:extensionElements></bpmn:serviceTask>',
])
def test_camunda_8_and_spiffarena_service_tasks_run(task: str) -> None:
    assert check({"d.bpmn": diagram(straight(task))}) == []


def test_a_service_task_without_a_topic_is_refused() -> None:
    text = diagram(straight('<bpmn:serviceTask id="Task_A" name="Do it"/>'))
    assert_at(the(check({"t.bpmn": text}), "service-topic"), text, "Task_A", fragment="names no topic")


def user(form: str = "approval") -> str:
    return (f'<bpmn:userTask id="Task_A" name="Review" camunda:formRef="{form}" '
            f'camunda:candidateGroups="billing"/>')


def test_a_user_task_must_link_a_known_form() -> None:
    text = diagram(straight(user("aproval")))
    assert_at(the(check({"u.bpmn": text}), "user-form"), text, "Task_A",
              fragment="form 'aproval' is not in forms/ (did you mean 'approval'?)")


def test_a_user_task_linking_a_broken_form_gets_the_reason() -> None:
    text = diagram(straight(user("approval")))
    problem = the(check({"u.bpmn": text}, form_problems={"approval": "type 'signature' is not supported"}),
                  "user-form")
    assert_at(problem, text, "Task_A", fragment="form 'approval' cannot be used: type 'signature' is not supported")


def test_an_embedded_form_is_refused() -> None:
    text = diagram(straight('<bpmn:userTask id="Task_A" camunda:formKey="embedded:app:forms/review.html"/>'))
    assert_at(the(check({"u.bpmn": text}), "user-form"), text, "Task_A", fragment="embedded or external form")


def test_a_business_rule_task_needs_a_decision_of_the_set() -> None:
    text = diagram(straight('<bpmn:businessRuleTask id="Task_A" camunda:decisionRef="approval_levels"/>'))
    problem = the(check({"b.bpmn": text, "d.dmn": DMN}), "decision")
    assert_at(problem, text, "Task_A", fragment="decision 'approval_levels' is in no .dmn file of this set")
    assert "'approval_level'" in problem.message


def test_a_camunda_8_decision_of_the_set_runs_and_needs_its_result_variable() -> None:
    task = ('<bpmn:businessRuleTask id="Task_A"><bpmn:extensionElements><zeebe:calledDecision '
            'decisionId="approval_level" {}/></bpmn:extensionElements></bpmn:businessRuleTask>')
    assert check({"b.bpmn": diagram(straight(task.format('resultVariable="level"'))), "d.dmn": DMN}) == []
    text = diagram(straight(task.format("")))
    assert_at(the(check({"b.bpmn": text, "d.dmn": DMN}), "decision"), text, "Task_A", fragment="result variable")


def test_a_camunda_8_call_activity_of_the_set_runs() -> None:
    caller = diagram(straight('<bpmn:callActivity id="Activity_A"><bpmn:extensionElements><zeebe:calledElement '
                              'processId="q"/></bpmn:extensionElements></bpmn:callActivity>', "Activity_A"))
    assert errors(check({"c.bpmn": caller, "q.bpmn": diagram(straight(service()), process_id="q")})) == []


def test_a_call_activity_naming_a_missing_process_is_refused() -> None:
    text = diagram(straight('<bpmn:callActivity id="Activity_A" calledElement="billing_dispute"/>', "Activity_A"))
    problem = the(check({"c.bpmn": text}), "call-activity")
    assert_at(problem, text, "Activity_A", fragment="calls process 'billing_dispute', which is in no .bpmn file")


def test_a_call_activity_of_another_file_of_the_set_is_fine() -> None:
    caller = diagram(straight('<bpmn:callActivity id="Activity_A" calledElement="q"/>', "Activity_A"))
    called = diagram(straight(service()), process_id="q")
    assert errors(check({"c.bpmn": caller, "q.bpmn": called})) == []


# --- code ---------------------------------------------------------------------------------------------------


def gateway(condition: str, *, default: bool = True) -> str:
    return f"""
    <bpmn:startEvent id="Event_Start"/>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Event_Start" targetRef="Gateway_G"/>
    <bpmn:exclusiveGateway id="Gateway_G" {'default="Flow_No"' if default else ''}/>
    <bpmn:sequenceFlow id="Flow_Yes" sourceRef="Gateway_G" targetRef="Event_End">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_No" sourceRef="Gateway_G" targetRef="Event_End"/>
    <bpmn:endEvent id="Event_End"/>
    """


@pytest.mark.parametrize("condition", ["approved == True", "${!approved}", "= approved", "${amount &gt; 250}"])
def test_python_juel_and_feel_conditions_run(condition: str) -> None:
    assert check({"g.bpmn": diagram(gateway(condition))}) == []


def test_a_juel_condition_outside_the_supported_subset_is_refused_with_its_position() -> None:
    text = diagram(gateway('${execution.getVariable("approved")}'))
    problem = the(check({"g.bpmn": text}), "condition")
    assert_at(problem, text, "Flow_Yes", needle="${execution", fragment="method calls are not supported at column")


def test_a_condition_in_an_unsupported_language_is_refused() -> None:
    text = diagram(gateway("approved").replace('xsi:type="bpmn:tFormalExpression"',
                                               'xsi:type="bpmn:tFormalExpression" language="javascript"'))
    problem = the(check({"g.bpmn": text}), "condition")
    assert_at(problem, text, "Flow_Yes", needle="language=", fragment="'javascript' are not supported")


def test_a_condition_the_sandbox_refuses_is_refused() -> None:
    text = diagram(gateway("__import__('os').system('x')"))
    problem = the(check({"g.bpmn": text}), "condition")
    assert_at(problem, text, "Flow_Yes", needle="__import__", fragment="does not compile in the sandbox")


def test_a_gateway_without_default_needs_conditions_on_all_flows() -> None:
    text = diagram(gateway("approved", default=False))
    assert_at(the(check({"g.bpmn": text}), "gateway-default"), text, "Gateway_G", fragment="Flow_No")


def test_a_script_the_sandbox_refuses_is_refused() -> None:
    text = diagram(straight('<bpmn:scriptTask id="Task_A" scriptFormat="python"><bpmn:script>x = 1\n'
                            'y = x.__class__</bpmn:script></bpmn:scriptTask>'))
    problem = the(check({"s.bpmn": text}), "script")
    assert_at(problem, text, "Task_A", needle="<bpmn:script>", fragment="does not compile in the sandbox")


def test_a_script_with_an_import_is_refused() -> None:
    text = diagram(straight('<bpmn:scriptTask id="Task_A" scriptFormat="python"><bpmn:script>import os\n'
                            'x = 1</bpmn:script></bpmn:scriptTask>'))
    problem = the(check({"s.bpmn": text}), "script")
    assert_at(problem, text, "Task_A", needle="<bpmn:script>", fragment="imports a module")


def test_an_input_mapping_expression_must_compile() -> None:
    task = ('<bpmn:serviceTask id="Task_A" camunda:type="external" camunda:topic="notify/customer">'
            '<bpmn:extensionElements><camunda:inputOutput>\n'
            '<camunda:inputParameter name="template">${template ==}</camunda:inputParameter>'
            '</camunda:inputOutput></bpmn:extensionElements></bpmn:serviceTask>')
    text = diagram(straight(task))
    problem = the(check({"m.bpmn": text}), "mapping")
    assert_at(problem, text, "Task_A", needle='<camunda:inputParameter name="template"',
              fragment="mapping 'template' cannot run: unexpected end of expression")


def timer(kind: str, value: str) -> str:
    return f"""
    <bpmn:startEvent id="Event_Start"/>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Event_Start" targetRef="Event_Wait"/>
    <bpmn:intermediateCatchEvent id="Event_Wait" name="Wait">
      <bpmn:timerEventDefinition id="Timer_1">
        <bpmn:{kind} xsi:type="bpmn:tFormalExpression">{value}</bpmn:{kind}>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Event_Wait" targetRef="Event_End"/>
    <bpmn:endEvent id="Event_End"/>
    """


@pytest.mark.parametrize(("kind", "value", "fragment"), [
    ("timeDuration", "PT5X", "duration 'PT5X' does not parse"),
    ("timeDate", "2026-13-01T10:00:00", "date-time '2026-13-01T10:00:00' does not parse"),
    ("timeDuration", "'PT5X'", "duration 'PT5X' does not parse"),
    ("timeDate", "'2026-13-01T10:00:00'", "date-time '2026-13-01T10:00:00' does not parse"),
    ("timeCycle", "'0 0 9 * * ?'", "cron expressions are not supported"),
    ("timeDuration", "${wait +}", "unexpected end of expression"),
])
def test_timers_must_parse(kind: str, value: str, fragment: str) -> None:
    text = diagram(timer(kind, value))
    problem = the(check({"t.bpmn": text}), "timer")
    assert_at(problem, text, "Event_Wait", needle=f"<bpmn:{kind}", fragment=fragment)


@pytest.mark.parametrize(("kind", "value"), [("timeDuration", "'PT48H'"), ("timeDate", "'2026-12-31T17:00:00Z'"),
                                             ("timeCycle", "'R3/PT1H'"), ("timeDuration", "wait_for"),
                                             ("timeDuration", "${wait_for}"), ("timeDuration", "PT48H"),
                                             ("timeDuration", "P14D"), ("timeDate", "2026-12-31T17:00:00Z"),
                                             ("timeCycle", "R3/PT1H"), ("timeDate", "${sla_due_at}"),
                                             ("timeDate", "=sla_due_at")])
def test_valid_timers_pass(kind: str, value: str) -> None:
    assert check({"t.bpmn": diagram(timer(kind, value))}) == []


def sla_step(topic: str, task_input: str) -> str:
    """A user task with a non-interrupting timer leading to `topic` whose `task` input is `task_input`."""
    return f"""
    <bpmn:startEvent id="Event_Start"/>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Event_Start" targetRef="Task_Work"/>
    <bpmn:userTask id="Task_Work" name="Work" camunda:formRef="investigation" camunda:candidateGroups="billing"/>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_Work" targetRef="Event_End"/>
    <bpmn:endEvent id="Event_End"/>
    <bpmn:boundaryEvent id="Event_Late" cancelActivity="false" attachedToRef="Task_Work">
      <bpmn:timerEventDefinition><bpmn:timeDate>${{sla_due_at}}</bpmn:timeDate></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Event_Late" targetRef="Task_Escalate"/>
    <bpmn:serviceTask id="Task_Escalate" name="Escalate" camunda:type="external" camunda:topic="{topic}">
      <bpmn:extensionElements><camunda:inputOutput>
        <camunda:inputParameter name="task">{task_input}</camunda:inputParameter>
        <camunda:inputParameter name="group">ar_supervisors</camunda:inputParameter>
      </camunda:inputOutput></bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="Flow_4" sourceRef="Task_Escalate" targetRef="Event_Escalated"/>
    <bpmn:endEvent id="Event_Escalated"/>
    """


def check_sla(text: str) -> list[Problem]:
    return check_diagrams({"s.bpmn": text.encode()}, lambda topic: topic in TOPICS | {"task/escalate"},
                          lambda form: form in FORMS)


def test_an_sla_step_must_name_a_user_task_of_its_process() -> None:
    assert check_sla(diagram(sla_step("task/escalate", "Task_Work"))) == []
    text = diagram(sla_step("task/escalate", "Task_Wrok"))
    problem = the(check_sla(text), "sla-task")
    assert_at(problem, text, "Task_Escalate", fragment="input 'task' names 'Task_Wrok', which is not a user task "
                                                       "of this process (did you mean 'Task_Work'?)")
    problem = the(check_sla(diagram(sla_step("task/escalate", "Task_Escalate"))), "sla-task")
    assert "name one of Task_Work" in problem.message


def receiver(form: str | None = None, message: str = '<bpmn:message id="Message_Answer" name="customer_answer"/>',
             ref: str = "Message_Answer") -> tuple[str, str]:
    props = (f'<bpmn:extensionElements><camunda:properties><camunda:property name="form" value="{form}"/>'
             f'</camunda:properties></bpmn:extensionElements>') if form is not None else ""
    task = f'<bpmn:receiveTask id="Task_A" name="Wait" messageRef="{ref}">{props}</bpmn:receiveTask>'
    return straight(task), f"  {message}\n"


def test_a_receiver_checks_messages_with_a_deployed_form() -> None:
    body, extra = receiver("investigation")
    assert check({"r.bpmn": diagram(body, extra=extra)}) == []
    body, extra = receiver("investigaton")
    text = diagram(body, extra=extra)
    problem = the(check({"r.bpmn": text}), "message-form")
    assert_at(problem, text, "Task_A", fragment="form 'investigaton' (the form property) is not in forms/ "
                                                "(did you mean 'investigation'?)")


def test_a_receiver_waits_for_a_named_message() -> None:
    body, extra = receiver(message='<bpmn:message id="Message_Answer"/>')
    text = diagram(body, extra=extra)
    problem = the(check({"r.bpmn": text}), "message-name")
    assert_at(problem, text, "Task_A", fragment="message 'Message_Answer' has no name")
    catch = """
    <bpmn:startEvent id="Event_Start"/>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Event_Start" targetRef="Event_Paid"/>
    <bpmn:intermediateCatchEvent id="Event_Paid" name="Paid">
      <bpmn:messageEventDefinition id="Def_Paid"/>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Event_Paid" targetRef="Event_End"/>
    <bpmn:endEvent id="Event_End"/>
    """
    text = diagram(catch)
    problem = the(check({"c.bpmn": text}), "message-name")
    assert_at(problem, text, "Event_Paid", needle='<bpmn:messageEventDefinition', fragment="names none")


def error_boundary(error: str, ref: str = 'errorRef="Error_Missing"') -> str:
    return diagram(f"""
    <bpmn:startEvent id="Event_Start"/>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Event_Start" targetRef="Task_A"/>
    {service()}
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_A" targetRef="Event_End"/>
    <bpmn:endEvent id="Event_End"/>
    <bpmn:boundaryEvent id="Event_Missing" attachedToRef="Task_A">
      <bpmn:errorEventDefinition id="Def_Missing" {ref}/>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Event_Missing" targetRef="Event_Failed"/>
    <bpmn:endEvent id="Event_Failed"/>
    """, extra=f"  {error}\n")


def test_an_error_boundary_event_catches_an_error_with_a_code() -> None:
    assert check({"e.bpmn": error_boundary('<bpmn:error id="Error_Missing" errorCode="invoice_not_found"/>')}) == []
    text = error_boundary('<bpmn:error id="Error_Missing" name="Missing"/>')
    problem = the(check({"e.bpmn": text}), "error-code")
    assert_at(problem, text, "Event_Missing", needle="<bpmn:errorEventDefinition",
              fragment="error 'Error_Missing' has no error code")
    catch_all = the(check({"e.bpmn": error_boundary("", ref="")}), "error-code")
    assert catch_all.severity == "warning" and "catches every business error" in catch_all.message


def test_a_gateway_loop_is_a_warning_at_the_element_it_returns_to() -> None:
    body = f"""
    <bpmn:startEvent id="Event_Start"/>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Event_Start" targetRef="Gateway_Again"/>
    <bpmn:exclusiveGateway id="Gateway_Again"/>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Gateway_Again" targetRef="Task_A"/>
    {service()}
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_A" targetRef="Gateway_Done"/>
    <bpmn:exclusiveGateway id="Gateway_Done" default="Flow_Back"/>
    <bpmn:sequenceFlow id="Flow_Back" sourceRef="Gateway_Done" targetRef="Gateway_Again"/>
    <bpmn:sequenceFlow id="Flow_Out" sourceRef="Gateway_Done" targetRef="Event_End">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">done</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:endEvent id="Event_End"/>
    """
    text = diagram(body)
    problems = check({"l.bpmn": text})
    problem = the(problems, "loop")
    assert problem.severity == "warning" and errors(problems) == []
    assert_at(problem, text, "Gateway_Again", fragment="task iteration stops at depth 1000")
    assert "Flow_Back" in problem.message


# --- DMN ------------------------------------------------------------------------------------------------------

DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="Defs_Approval" name="Approval"
             namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="approval_level" name="Approval level">
    <decisionTable id="Table_Approval" hitPolicy="FIRST">
      <input id="Input_Action" label="Action">
        <inputExpression id="Expr_Action" typeRef="string"><text>action</text></inputExpression>
      </input>
      <input id="Input_Amount" label="Amount">
        <inputExpression id="Expr_Amount" typeRef="double"><text>action_amount</text></inputExpression>
      </input>
      <output id="Output_Level" label="Level" name="approval_level" typeRef="integer" />
      <rule id="Rule_Small">
        <inputEntry id="Cell_SmallAction"><text>? in ("credit_memo", "write_off")</text></inputEntry>
        <inputEntry id="Cell_SmallAmount"><text>&lt;= 250</text></inputEntry>
        <outputEntry id="Out_Small"><text>0</text></outputEntry>
      </rule>
      <rule id="Rule_Other">
        <inputEntry id="Cell_OtherAction"><text>"credit_memo"</text></inputEntry>
        <inputEntry id="Cell_OtherAmount"><text></text></inputEntry>
        <outputEntry id="Out_Other"><text>1</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""


def test_the_sample_decision_table_is_valid() -> None:
    assert check({"d.dmn": DMN}) == []


@pytest.mark.parametrize(("cell", "fragment"), [
    ('in ("credit_memo", "write_off")', "joins the input expression into 'actionin"),
    ("[1..10]", "neither a Python value nor a comparison"),
    ("= \"credit_memo\"", "is FEEL"),
])
def test_dmn_cells_are_checked_as_the_engine_builds_them(cell: str, fragment: str) -> None:
    text = DMN.replace('<text>? in ("credit_memo", "write_off")</text>', f"<text>{cell}</text>")
    problem = the(check({"d.dmn": text}), "dmn-cell")
    assert_at(problem, text, "Cell_SmallAction", fragment=fragment)
    assert problem.message.startswith("rule 1, input 1:")


def test_a_dmn_output_must_compile() -> None:
    text = DMN.replace("<text>1</text>", "<text>import os</text>")
    assert_at(the(check({"d.dmn": text}), "dmn-cell"), text, "Out_Other", fragment="rule 2, output 1")


def test_an_unsupported_hit_policy_is_refused() -> None:
    text = DMN.replace('hitPolicy="FIRST"', 'hitPolicy="PRIORITY"')
    assert_at(the(check({"d.dmn": text}), "dmn-hit-policy"), text, "Table_Approval", fragment="PRIORITY")


# --- inputs nobody may deploy ---------------------------------------------------------------------------------

EXTERNAL_ENTITY = (b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
                   b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&secret;'
                   b'</bpmn:definitions>')
BILLION_LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + b"".join(b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10 if i > 1 else b"&lol;" * 10)
                             for i in range(1, 10))
                  + b']>\n<lolz>&lol9;</lolz>')


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("diagram.bpmn", diagram(straight(service())))
    return buffer.getvalue()


BAD_FILES = {
    "external entity": (EXTERNAL_ENTITY, "doctype", "declares a DOCTYPE or entities"),
    "billion laughs": (BILLION_LAUGHS, "doctype", "entity expansion are refused"),
    "50 MB file": (b"<" + b"x" * (50 * 1024 * 1024), "too-large", "larger than the limit of 5.0 MB"),
    "zip renamed .bpmn": (_zip(), "not-xml", "not XML: looks like a zip archive"),
    "binary file": (bytes(range(256)) * 8, "not-xml", "not XML: looks like a binary file"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_unsafe_or_foreign_files_are_refused_before_parsing(case: str) -> None:
    content, rule, fragment = BAD_FILES[case]
    [problem] = check({"processes/bad.bpmn": content})
    assert (problem.rule, problem.file, problem.severity) == (rule, "processes/bad.bpmn", "error")
    assert fragment in problem.message


BROKEN_FORM = (b'{"id": "approval", "type": "default", "schemaVersion": 16, "components": [\n'
               b'  {"id": "Field_sig", "key": "signature", "type": "signaturepad"}\n]}')
DUPLICATE_IDS = diagram(straight(service() + "\n" + service(task_id="Task_A")))
MISSING_CALL = diagram(straight('<bpmn:callActivity id="Activity_A" calledElement="nowhere"/>', "Activity_A"),
                       process_id="customer_request")


def _shipped() -> dict[str, bytes]:
    return collect_files(ROOT / "processes", ROOT / "forms")


DEPLOY_CASES = {
    **{case: ("processes/billing_dispute.bpmn", content, fragment)
       for case, (content, _, fragment) in BAD_FILES.items()},
    "form with an unknown component type": ("forms/approval.form", BROKEN_FORM, "type 'signaturepad' is not supported"),
    "binary file renamed .form": ("forms/approval.form", bytes(range(256)) * 8, "not a text file: looks like a binary"),
    "duplicate ids": ("processes/billing_dispute.bpmn", DUPLICATE_IDS.encode(), "is used twice"),
    "call activity naming a missing process": ("processes/extra.bpmn",
                                               MISSING_CALL.replace('id="customer_request"', 'id="extra"').encode(),
                                               "calls process 'nowhere'"),
}


def test_a_form_with_an_unknown_component_type_is_refused_with_its_line(services: Services) -> None:
    files = {**_shipped(), "forms/approval.form": BROKEN_FORM}
    found = [p for p in check_files(files, services) if p.file == "forms/approval.form"]
    assert [(p.element_id, p.line) for p in found] == [("Field_sig", 2)]
    assert "type 'signaturepad' is not supported" in found[0].message
    users = [p for p in check_files(files, services) if p.rule == "user-form"]
    assert users and all("form 'approval' cannot be used" in p.message for p in users)


@pytest.mark.parametrize("case", sorted(DEPLOY_CASES))
def test_deploy_of_a_refused_set_deploys_nothing(case: str, services: Services) -> None:
    name, content, fragment = DEPLOY_CASES[case]
    state = memory_state(services)
    before = list(state.deployments)
    with pytest.raises(ValidationFailed) as refused:
        deploy({**_shipped(), name: content}, "admin", services)
    assert "nothing deployed" in refused.value.message and fragment in refused.value.message
    assert state.deployments == before
    with services.uow() as uow:
        active = uow.deployments.active()
    assert active is not None and active.id == before[-1].id
