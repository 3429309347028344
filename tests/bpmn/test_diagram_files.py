"""The diagram and decision files in processes/: well-formed, valid, laid out, runnable as drawn.

Checks every .bpmn/.dmn file against the conventions in processes/README.md (external service tasks with
known topics, user tasks with a form and candidate groups, Python conditions and scripts, a default or
all-conditional flows on every exclusive gateway, full BPMNDI), evaluates the DMN tables with
SpiffWorkflow's own DMN engine, and runs the main paths of `customer_request` with faked service tasks.
"""

from __future__ import annotations

import ast
import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from RestrictedPython import compile_restricted_exec
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS
from SpiffWorkflow.util.task import TaskState

from bpmn_requests.domain.requests import CUSTOMER_STATUS
from bpmn_requests.engine.runner import Engine, RunContext, ServiceCall, Snapshot

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ROOT / "processes"
FORMS = ROOT / "forms"
BPMN_FILES = sorted(PROCESSES.glob("*.bpmn"))
DMN_FILES = sorted(PROCESSES.glob("*.dmn"))

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {
    "bpmn": BPMN,
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "camunda": "http://camunda.org/schema/1.0/bpmn",
    "modeler": "http://camunda.org/schema/modeler/1.0",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
DMN_NS = {"dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/",
          "dmndi": "https://www.omg.org/spec/DMN/20191111/DMNDI/"}
CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"
MODELER = "{http://camunda.org/schema/modeler/1.0}"

TOPICS = {"request/register", "request/route", "request/close", "approval/auto", "notify/customer",
          "kyc/validate", "invoice/lookup", "payment/match", "credit/score", "ledger/post", "task/remind",
          "task/escalate", "payment/receive"}
FORM_IDS = {"kyc_review", "investigation", "adjustment_review", "payment_match", "credit_review",
            "restructure_plan", "approval", "customer_resolution", "customer_information"}
FLOW_NODES = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
              "task", "userTask", "serviceTask", "scriptTask", "businessRuleTask", "manualTask", "sendTask",
              "receiveTask", "callActivity", "subProcess", "exclusiveGateway", "parallelGateway",
              "inclusiveGateway", "eventBasedGateway"}
GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway"}
SUBPROCESSES = {"billing_dispute", "payment_issue", "credit_onboarding", "credit_adjustment",
                "debt_restructuring"}

# The public contract: element ids other code, forms and running instances rely on (README).
CONTRACT: dict[str, dict[str, dict[str, Any]]] = {
    "customer_request": {
        "serviceTask": {
            "Task_RegisterRequest": "request/register", "Task_KycValidate": "kyc/validate",
            "Task_CloseBlocked": "request/close", "Task_NotifyDeclined": "notify/customer",
            "Task_Route": "request/route", "Task_NotifyReceived": "notify/customer",
            "Task_CloseUnknownType": "request/close", "Task_NotifyRejected": "notify/customer",
            "Task_CloseRejected": "request/close", "Task_AutoApprove": "approval/auto",
            "Task_Post": "ledger/post", "Task_NotifyProposal": "notify/customer",
            "Task_CloseResolved": "request/close", "Task_NotifyClosed": "notify/customer",
            "Task_NotifyNoResponse": "notify/customer", "Task_CloseNoResponse": "request/close",
            "Task_ApproveRemind": "task/remind", "Task_ApproveEscalate": "task/escalate",
        },
        "userTask": {
            "Task_KycReview": ("kyc_review", "compliance"),
            "Task_Approve": ("approval", "ar_supervisors,finance_managers,cfo"),
        },
        "receiveTask": {"Task_CustomerResolution": ("customer_decision", "customer_resolution")},
        "businessRuleTask": {"Task_Classify": "classification", "Task_ApprovalAuthority": "approval_authority"},
        "callActivity": {"Activity_BillingDispute": "billing_dispute", "Activity_PaymentIssue": "payment_issue",
                         "Activity_CreditOnboarding": "credit_onboarding",
                         "Activity_CreditAdjustment": "credit_adjustment",
                         "Activity_DebtRestructuring": "debt_restructuring"},
        "exclusiveGateway": dict.fromkeys(
            ["Gateway_KycResult", "Gateway_KycDecision", "Gateway_Processing", "Gateway_RequestType",
             "Gateway_Outcome", "Gateway_NeedsApproval", "Gateway_ApprovalDecision",
             "Gateway_NeedsAcceptance", "Gateway_CustomerAnswer"]),
        "startEvent": {"Event_RequestSubmitted": None},
        "endEvent": dict.fromkeys(["Event_Blocked", "Event_UnknownType", "Event_Rejected", "Event_Resolved",
                                   "Event_ClosedNoResponse"]),
    },
    "billing_dispute": {
        "serviceTask": {"Task_LookupDisputedInvoice": "invoice/lookup",
                        "Task_RequestDisputeInformation": "notify/customer"},
        "userTask": {"Task_Investigate": ("investigation", "billing")},
        "receiveTask": {"Task_ProvideInformation": ("customer_answer", "customer_information")},
        "boundaryEvent": dict.fromkeys(["Event_DisputeInformationOverdue", "Event_InvestigateReminder",
                                        "Event_InvestigateBreached"]),
        "exclusiveGateway": dict.fromkeys(["Gateway_DisputeInvestigationRound", "Gateway_InvestigationDecision"]),
        "endEvent": dict.fromkeys(["Event_DisputeInvestigated", "Event_DisputeRejected"]),
    },
    "payment_issue": {
        "serviceTask": {"Task_FindPaymentMatch": "payment/match", "Task_ReceivePayment": "payment/receive"},
        "boundaryEvent": dict.fromkeys(["Event_PaymentNotFound"]),
        "intermediateCatchEvent": dict.fromkeys(["Event_PaymentReceived", "Event_BankWaitOver"]),
        "userTask": {"Task_MatchPayment": ("payment_match", "billing")},
        "endEvent": dict.fromkeys(["Event_PaymentApplicationProposed", "Event_PaymentIssueRejected"]),
    },
    "credit_onboarding": {
        "serviceTask": {"Task_ScoreApplicant": "credit/score"},
        "userTask": {"Task_CreditReview": ("credit_review", "credit")},
        "endEvent": dict.fromkeys(["Event_CreditLimitProposed", "Event_OnboardingRejected"]),
    },
    "credit_adjustment": {
        "serviceTask": {"Task_LookupAdjustedInvoice": "invoice/lookup",
                        "Task_RequestAdjustmentInformation": "notify/customer"},
        "userTask": {"Task_ReviewAdjustment": ("adjustment_review", "billing")},
        "receiveTask": {"Task_ProvideAdjustmentInformation": ("customer_answer", "customer_information")},
        "exclusiveGateway": dict.fromkeys(["Gateway_Tolerance", "Gateway_AdjustmentReviewRound",
                                           "Gateway_AdjustmentDecision"]),
        "endEvent": dict.fromkeys(["Event_AdjustmentProposed", "Event_AdjustmentRejected"]),
    },
    "debt_restructuring": {
        "serviceTask": {"Task_LookupOpenInvoices": "invoice/lookup", "Task_ScoreDebtor": "credit/score"},
        "userTask": {"Task_RestructurePlan": ("restructure_plan", "credit")},
        "endEvent": dict.fromkeys(["Event_PlanProposed", "Event_RestructuringRejected"]),
    },
}


def _parse(path: Path) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.parse(str(path), parser).getroot()


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _flow_nodes(root: etree._Element) -> list[etree._Element]:
    return [el for el in root.iter(f"{{{BPMN}}}*") if _local(el) in FLOW_NODES]


def _flows(root: etree._Element) -> list[etree._Element]:
    return root.findall(".//bpmn:sequenceFlow", NS)


def _properties(el: etree._Element) -> dict[str, str]:
    return {p.get("name"): p.get("value")
            for p in el.findall("./bpmn:extensionElements/camunda:properties/camunda:property", NS)}


def _ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


def test_the_expected_files_are_there() -> None:
    assert {p.stem for p in BPMN_FILES} == {"customer_request"} | SUBPROCESSES
    assert {p.stem for p in DMN_FILES} == {"classification", "approval_authority"}


# --- BPMN files --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", BPMN_FILES, ids=_ids(BPMN_FILES))
def test_bpmn_is_camunda_modeler_xml_and_valid_against_the_xsd(path: Path) -> None:
    root = _parse(path)
    assert root.tag == f"{{{BPMN}}}definitions"
    assert root.get("exporter") == "Camunda Modeler"
    assert root.get(f"{MODELER}executionPlatform") == "Camunda Platform"
    assert root.get(f"{MODELER}executionPlatformVersion", "").startswith("7.")
    processes = root.findall("bpmn:process", NS)
    assert [p.get("id") for p in processes] == [path.stem], "one process per file, id = file name"
    assert all(p.get("isExecutable") == "true" and p.get("name") for p in processes)
    BpmnValidator().validate(root, str(path))  # raises ValidationException with the line


TIMER_VALUES = {"timeDate", "timeDuration", "timeCycle"}


@pytest.mark.parametrize("path", BPMN_FILES, ids=_ids(BPMN_FILES))
def test_no_juel_or_feel_outside_timers(path: Path) -> None:
    """Conditions and scripts are Python; a timer names a system value or process variable the way Camunda
    Modeler writes it (`${sla_due_at}`), or an ISO 8601 literal (`P5D`)."""
    root = _parse(path)
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        texts = [el.text or "", *el.attrib.values()]
        if _local(el) in TIMER_VALUES:
            value = (el.text or "").strip()
            assert value.startswith("${") and value[2:-1].isidentifier() or value[:1] in ("P", "R"), value
            continue
        assert not any("${" in t or "#{" in t for t in texts), f"{path.name}:{el.sourceline}"


@pytest.mark.parametrize("path", BPMN_FILES, ids=_ids(BPMN_FILES))
def test_every_element_is_named_and_ids_are_readable(path: Path) -> None:
    root = _parse(path)
    for node in _flow_nodes(root):
        assert (node.get("name") or "").strip(), f"{path.name}: {node.get('id')} has no name"
        tag = _local(node)
        prefix = ("Event_" if tag.endswith("Event") else "Gateway_" if tag.endswith("Gateway") else
                  "Activity_" if tag == "callActivity" else "Task_")
        assert node.get("id", "").startswith(prefix), f"{path.name}: id {node.get('id')} should start {prefix}"
    for flow in _flows(root):
        assert flow.get("id", "").startswith("Flow_")


def _on_outline(point: tuple[float, float], kind: str, bounds: tuple[float, float, float, float],
                tol: float = 2.0) -> bool:
    """Whether a waypoint touches the drawn outline of a shape: rectangle, circle or diamond."""
    x, y, w, h = bounds
    px, py = point
    cx, cy = x + w / 2, y + h / 2
    if kind.endswith("Event"):
        return abs(math.hypot(px - cx, py - cy) - w / 2) <= tol
    if kind.endswith("Gateway"):
        a, b = w / 2, h / 2
        return abs(abs(px - cx) * b + abs(py - cy) * a - a * b) / math.hypot(a, b) <= tol
    inside_outer = x - tol <= px <= x + w + tol and y - tol <= py <= y + h + tol
    inside_inner = x + tol < px < x + w - tol and y + tol < py < y + h - tol
    return inside_outer and not inside_inner


@pytest.mark.parametrize("path", BPMN_FILES, ids=_ids(BPMN_FILES))
def test_full_diagram_interchange_layout(path: Path) -> None:
    root = _parse(path)
    plane = root.find(".//bpmndi:BPMNPlane", NS)
    assert plane is not None and plane.get("bpmnElement") == path.stem
    shapes = {s.get("bpmnElement"): s for s in plane.findall("bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement"): e for e in plane.findall("bpmndi:BPMNEdge", NS)}
    nodes = {n.get("id"): n for n in _flow_nodes(root)}
    bounds: dict[str, tuple[float, float, float, float]] = {}
    for node_id, node in nodes.items():
        assert node_id in shapes, f"{path.name}: no BPMNShape for {node_id}"
        b = shapes[node_id].find("dc:Bounds", NS)
        bounds[node_id] = tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))  # type: ignore
        assert bounds[node_id][2] > 0 and bounds[node_id][3] > 0
        if _local(node) in {"startEvent", "endEvent", "exclusiveGateway", "boundaryEvent", "intermediateCatchEvent",
                            "eventBasedGateway"}:
            assert shapes[node_id].find("bpmndi:BPMNLabel/dc:Bounds", NS) is not None, f"no label for {node_id}"
    attached = {n.get("id"): n.get("attachedToRef") for n in nodes.values() if _local(n) == "boundaryEvent"}
    for event, task in attached.items():  # a boundary event sits on the border of its task
        x, y, w, h = bounds[event]
        assert _on_outline((x + w / 2, y + h / 2), _local(nodes[task]), bounds[task]), f"{event} is off {task}"
    ids = sorted(bounds)
    for i, a in enumerate(ids):  # no two shapes overlap, but for a boundary event and its task
        ax, ay, aw, ah = bounds[a]
        for b in ids[i + 1:]:
            if attached.get(a) == b or attached.get(b) == a:
                continue
            bx, by, bw, bh = bounds[b]
            assert not (ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah), f"{a} overlaps {b}"
    for flow in _flows(root):
        flow_id = flow.get("id")
        assert flow_id in edges, f"{path.name}: no BPMNEdge for {flow_id}"
        points = [(float(p.get("x")), float(p.get("y"))) for p in edges[flow_id].findall("di:waypoint", NS)]
        assert len(points) >= 2, f"{flow_id} needs at least two waypoints"
        src, tgt = flow.get("sourceRef"), flow.get("targetRef")
        assert _on_outline(points[0], _local(nodes[src]), bounds[src]), f"{flow_id} does not start on {src}"
        assert _on_outline(points[-1], _local(nodes[tgt]), bounds[tgt]), f"{flow_id} does not end on {tgt}"
        if flow.get("name"):
            assert edges[flow_id].find("bpmndi:BPMNLabel/dc:Bounds", NS) is not None, f"no label on {flow_id}"
    assert set(shapes) <= set(nodes) and set(edges) <= {f.get("id") for f in _flows(root)}


@pytest.mark.parametrize("path", BPMN_FILES, ids=_ids(BPMN_FILES))
def test_gateways_have_a_default_or_only_conditional_flows_and_named_branches(path: Path) -> None:
    root = _parse(path)
    flows = _flows(root)
    for gateway in root.findall(".//bpmn:exclusiveGateway", NS):
        gid = gateway.get("id")
        outgoing = [f for f in flows if f.get("sourceRef") == gid]
        incoming = [f for f in flows if f.get("targetRef") == gid]
        assert outgoing and incoming, f"{gid} is not connected"
        if len(outgoing) == 1:
            assert gateway.get("default") is None and outgoing[0].find("bpmn:conditionExpression", NS) is None
            continue
        default = gateway.get("default")
        for flow in outgoing:
            assert flow.get("name"), f"{path.name}: branch {flow.get('id')} of {gid} has no name"
            has_condition = flow.find("bpmn:conditionExpression", NS) is not None
            if flow.get("id") == default:
                assert not has_condition, f"default flow {default} must not have a condition"
            else:
                assert has_condition, f"{flow.get('id')} out of {gid}: neither default nor conditional"
        assert default is None or default in {f.get("id") for f in outgoing}
    for flow in flows:  # conditions only where a gateway decides
        if flow.find("bpmn:conditionExpression", NS) is not None:
            source = root.find(f".//*[@id='{flow.get('sourceRef')}']")
            assert _local(source) == "exclusiveGateway", f"{flow.get('id')}: condition outside a gateway"


@pytest.mark.parametrize("path", BPMN_FILES, ids=_ids(BPMN_FILES))
def test_conditions_and_scripts_are_python(path: Path) -> None:
    root = _parse(path)
    for expr in root.findall(".//bpmn:conditionExpression", NS):
        assert expr.get(f"{{{NS['xsi']}}}type") == "bpmn:tFormalExpression"
        assert expr.get("language", "python") == "python"
        text = (expr.text or "").strip()
        assert text and not text.startswith("="), "FEEL is not supported"
        compile(text, f"{path.name}:{expr.sourceline}", "eval")
        compile(text, f"{path.name}:{expr.sourceline}", "exec")
        assert not compile_restricted_exec(text).errors
    for task in root.findall(".//bpmn:scriptTask", NS):
        assert task.get("scriptFormat") == "python", task.get("id")
        script = task.findtext("bpmn:script", namespaces=NS) or ""
        assert script.strip(), f"{task.get('id')} has no script"
        compile(script, f"{path.name}:{task.get('id')}", "exec")
        result = compile_restricted_exec(script)
        assert not result.errors, f"{task.get('id')}: {result.errors}"
        tree = ast.parse(script)
        assert not any(isinstance(n, ast.Import | ast.ImportFrom) for n in ast.walk(tree)), "no imports"


@pytest.mark.parametrize("path", BPMN_FILES, ids=_ids(BPMN_FILES))
def test_tasks_follow_the_conventions(path: Path) -> None:
    root = _parse(path)
    for task in root.findall(".//bpmn:serviceTask", NS):
        assert task.get(f"{CAMUNDA}type") == "external", task.get("id")
        assert task.get(f"{CAMUNDA}topic") in TOPICS, f"{task.get('id')}: unknown topic"
        for param in task.findall(".//camunda:inputParameter", NS):
            assert param.get("name") and (param.text or "").strip()
            assert len(param) == 0, "literal text inputs only"
    for task in root.findall(".//bpmn:userTask", NS):
        tid = task.get("id")
        form = task.get(f"{CAMUNDA}formRef")
        assert form in FORM_IDS, f"{tid}: form {form!r}"
        assert (FORMS / f"{form}.form").is_file(), f"{tid}: forms/{form}.form is missing"
        assert task.get(f"{CAMUNDA}formRefBinding") == "deployment"
        groups = [g.strip() for g in (task.get(f"{CAMUNDA}candidateGroups") or "").split(",")]
        assert all(groups), f"{tid} has no candidate groups"
        props = _properties(task)
        assert "status" in props, f"{tid}: a user task changes the request's status"
        if path.stem in SUBPROCESSES and "customers" not in groups:
            assert props.get("proposal") == "true", f"{tid} proposes a financial change"
        if "customers" in groups:  # the customer answers; they never propose or approve
            assert "proposal" not in props and "approval" not in props, tid
    messages = {m.get("id"): m.get("name") for m in root.findall("bpmn:message", NS)}
    for task in root.findall(".//bpmn:receiveTask", NS):
        props = _properties(task)
        assert messages.get(task.get("messageRef")), f"{task.get('id')}: a receive task waits for a named message"
        assert props.get("status") == "awaiting_customer" and props.get("form") in FORM_IDS, task.get("id")
    for event in root.findall(".//bpmn:boundaryEvent", NS):
        attached = root.find(f".//*[@id='{event.get('attachedToRef')}']")
        timer = event.find("bpmn:timerEventDefinition", NS)
        if timer is not None and _local(attached) == "userTask":  # SLA timers leave the task open
            assert event.get("cancelActivity") == "false", event.get("id")
        error = event.find("bpmn:errorEventDefinition", NS)
        if error is not None:
            assert root.find(f"bpmn:error[@id='{error.get('errorRef')}']", NS).get("errorCode"), event.get("id")
    for el in root.iter(f"{{{BPMN}}}*"):
        status = _properties(el).get("status")
        if status is not None:
            assert status in CUSTOMER_STATUS, f"{el.get('id')}: unknown status {status!r}"


@pytest.mark.parametrize("process_id", sorted(CONTRACT))
def test_contract_element_ids(process_id: str) -> None:
    root = _parse(PROCESSES / f"{process_id}.bpmn")
    by_id = {el.get("id"): el for el in _flow_nodes(root)}
    for kind, elements in CONTRACT[process_id].items():
        for element_id, expected in elements.items():
            el = by_id.get(element_id)
            assert el is not None and _local(el) == kind, f"{process_id}: {kind} {element_id} is missing"
            if kind == "serviceTask":
                assert el.get(f"{CAMUNDA}topic") == expected
            elif kind == "userTask":
                assert (el.get(f"{CAMUNDA}formRef"), el.get(f"{CAMUNDA}candidateGroups")) == expected
            elif kind == "receiveTask":
                message = root.find(f"bpmn:message[@id='{el.get('messageRef')}']", NS)
                assert (message.get("name"), _properties(el).get("form")) == expected
            elif kind == "businessRuleTask":
                assert el.get(f"{CAMUNDA}decisionRef") == expected
            elif kind == "callActivity":
                assert el.get("calledElement") == expected
                assert _properties(el).get("status") == "investigation"
    if process_id == "customer_request":
        assert _properties(by_id["Task_Approve"]).get("approval") == "true"
        literal = {el.get("id"): {p.get("name"): p.text for p in el.findall(".//camunda:inputParameter", NS)}
                   for el in by_id.values()}
        assert literal["Task_CloseBlocked"] == {"outcome": "blocked"}
        assert literal["Task_CloseRejected"] == {"outcome": "rejected"}
        assert literal["Task_CloseResolved"] == {"outcome": "resolved"}
        assert literal["Task_NotifyDeclined"] == {"template": "request_declined"}
        assert literal["Task_NotifyRejected"] == {"template": "request_rejected"}
        assert literal["Task_NotifyNoResponse"] == {"template": "request_closed_no_response"}
        assert literal["Task_CloseNoResponse"] == {"outcome": "no_response"}
        assert literal["Task_ApproveEscalate"] == {"task": "Task_Approve", "group": "finance_managers"}
    for element_id in ("Task_RequestDisputeInformation", "Task_RequestAdjustmentInformation"):
        if element_id in by_id:
            inputs = {p.get("name"): p.text for p in by_id[element_id].findall(".//camunda:inputParameter", NS)}
            assert inputs == {"template": "information_requested"}


SLA_TASKS = {"billing_dispute": ("Task_Investigate", "ar_supervisors"),
             "credit_adjustment": ("Task_ReviewAdjustment", "ar_supervisors"),
             "payment_issue": ("Task_MatchPayment", "ar_supervisors"),
             "credit_onboarding": ("Task_CreditReview", "ar_supervisors"),
             "debt_restructuring": ("Task_RestructurePlan", "ar_supervisors"),
             "customer_request": ("Task_Approve", "finance_managers")}


def _follows(root: etree._Element, element_id: str) -> etree._Element:
    flow = root.find(f".//bpmn:sequenceFlow[@sourceRef='{element_id}']", NS)
    return root.find(f".//*[@id='{flow.get('targetRef')}']")


@pytest.mark.parametrize("process_id", sorted(SLA_TASKS))
def test_staff_work_has_a_reminder_before_the_sla_target_and_an_escalation_at_breach(process_id: str) -> None:
    root = _parse(PROCESSES / f"{process_id}.bpmn")
    task, group = SLA_TASKS[process_id]
    found = {}
    for event in root.findall(f".//bpmn:boundaryEvent[@attachedToRef='{task}']", NS):
        value = event.findtext("bpmn:timerEventDefinition/bpmn:timeDate", namespaces=NS)
        service = _follows(root, event.get("id"))
        inputs = {p.get("name"): p.text for p in service.findall(".//camunda:inputParameter", NS)}
        found[value] = (event.get("cancelActivity"), service.get(f"{CAMUNDA}topic"), inputs,
                        _local(_follows(root, service.get("id"))))
    assert found == {"${sla_reminder_at}": ("false", "task/remind", {"task": task}, "endEvent"),
                     "${sla_due_at}": ("false", "task/escalate", {"task": task, "group": group}, "endEvent")}


@pytest.mark.parametrize(("process_id", "task"), [("billing_dispute", "Task_ProvideInformation"),
                                                  ("credit_adjustment", "Task_ProvideAdjustmentInformation")])
def test_an_unanswered_request_for_information_ends_the_subprocess_after_the_answer_period(
        process_id: str, task: str) -> None:
    root = _parse(PROCESSES / f"{process_id}.bpmn")
    [event] = root.findall(f".//bpmn:boundaryEvent[@attachedToRef='{task}']", NS)
    assert event.get("cancelActivity") is None  # interrupting: the wait ends
    assert event.findtext("bpmn:timerEventDefinition/bpmn:timeDuration", namespaces=NS) == "${rfi_answer_period}"
    script = _follows(root, event.get("id"))
    assigned = {}
    exec(script.findtext("bpmn:script", namespaces=NS), {}, assigned)  # noqa: S102 - our own diagram
    assert assigned == {"outcome": "no_response", "action": None, "action_amount": None, "target_invoice": None,
                        "reason_code": None}
    assert _local(_follows(root, script.get("id"))) == "endEvent"


# --- DMN files --------------------------------------------------------------------------------------

DMN13_XSD = DMN_SCHEMAS[DMN_NS["dmn"]]


@pytest.mark.parametrize("path", DMN_FILES, ids=_ids(DMN_FILES))
def test_dmn_is_valid_dmn13_and_parses(path: Path) -> None:
    root = _parse(path)
    assert root.tag == f"{{{DMN_NS['dmn']}}}definitions"
    assert root.get("exporter") == "Camunda Modeler"
    BpmnValidator(str(DMN13_XSD)).validate(root, str(path))
    decisions = root.findall("dmn:decision", DMN_NS)
    assert [d.get("id") for d in decisions] == [path.stem], "one decision per file, id = file name"
    assert root.find(f".//dmndi:DMNShape[@dmnElementRef='{path.stem}']", DMN_NS) is not None
    parser = CamundaParser()
    parser.add_dmn_file(str(path))
    table = parser.get_engine(path.stem, None).decision_table
    assert table.hit_policy in {"UNIQUE", "FIRST"} and table.rules and table.outputs


def _cell_problem(input_expr: str, cell: str | None) -> str | None:
    """Mirror SpiffWorkflow 3.2.0's DMNEngine.evaluate and name the traps it falls into."""
    text = (cell or "").strip()
    if text in ("", "-"):
        return None
    if "?" in text:
        candidate = text.replace("?", "dmninputexpr")
    else:
        try:
            tree = ast.parse(text, mode="eval")
        except SyntaxError:
            if text.split()[0] in {"in", "not", "is", "and", "or"}:
                return f"{text!r}: a word operator needs '?', e.g. '? in (...)'"
            candidate = f"{input_expr}{text}"
        else:
            if isinstance(tree.body, ast.Tuple):
                return f"{text!r}: a comma list is compared as a tuple and never matches; use '? in (...)'"
            if isinstance(tree.body, ast.Constant) and isinstance(tree.body.value, float):
                return f"{text!r}: a float never equals a Decimal; use integer bounds or a range"
            candidate = f"({input_expr}) == ({text})"
    try:
        compile(candidate, "<dmn>", "eval")
    except SyntaxError as exc:
        return f"{text!r}: not Python ({exc.msg}); ranges are written '250 < ? <= 5000'"
    return None


@pytest.mark.parametrize("path", DMN_FILES, ids=_ids(DMN_FILES))
def test_dmn_cells_are_python_the_engine_evaluates(path: Path) -> None:
    root = _parse(path)
    table = root.find(".//dmn:decisionTable", DMN_NS)
    inputs = [i.findtext("dmn:inputExpression/dmn:text", namespaces=DMN_NS) for i in table.findall("dmn:input", DMN_NS)]
    assert all(inputs), "every input has a Python input expression"
    for expr in inputs:
        compile(expr, "<dmn input>", "eval")
    for rule in table.findall("dmn:rule", DMN_NS):
        entries = rule.findall("dmn:inputEntry", DMN_NS)
        assert len(entries) == len(inputs)
        for expr, entry in zip(inputs, entries, strict=True):
            problem = _cell_problem(expr, entry.findtext("dmn:text", namespaces=DMN_NS))
            assert problem is None, f"{path.name} rule {rule.get('id')}: {problem}"
        for out in rule.findall("dmn:outputEntry", DMN_NS):
            compile(out.findtext("dmn:text", namespaces=DMN_NS) or "", "<dmn output>", "eval")


def test_the_cell_checker_catches_the_traps() -> None:
    assert _cell_problem("action", '"credit_memo", "debit_memo"')
    assert _cell_problem("action", 'in ("credit_memo", "debit_memo")')
    assert _cell_problem("amount", "[250..5000]")
    assert _cell_problem("amount", "250.01")
    assert _cell_problem("amount", "250 < ? <= 5000") is None
    assert _cell_problem("amount", "<= 250") is None


RULE_TASK = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_Probe" targetNamespace="probe">
  <bpmn:process id="probe_{decision}" isExecutable="true">
    <bpmn:startEvent id="Event_Start" />
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Event_Start" targetRef="Task_Decide" />
    <bpmn:businessRuleTask id="Task_Decide" camunda:decisionRef="{decision}" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_Decide" targetRef="Event_End" />
    <bpmn:endEvent id="Event_End" />
  </bpmn:process>
</bpmn:definitions>"""


def _decide(decision: str, **data: Any) -> dict[str, Any]:
    """Run one decision the way a business rule task does: its outputs become process variables."""
    parser = CamundaParser()
    parser.add_dmn_files([str(p) for p in DMN_FILES])
    parser.add_bpmn_str(RULE_TASK.format(decision=decision).encode())
    workflow = BpmnWorkflow(parser.get_spec(f"probe_{decision}"))
    workflow.get_tasks(state=TaskState.READY)[0].data.update(data)
    workflow.do_engine_steps()
    assert workflow.is_completed()
    result = dict(workflow.last_task.data)
    for key in data:
        result.pop(key)
    return result


D = Decimal


@pytest.mark.parametrize(("action", "amount", "level"), [
    ("credit_memo", D("0.01"), 0), ("credit_memo", D("250.00"), 0), ("credit_memo", D("250.01"), 1),
    ("credit_memo", D("700.00"), 1), ("debit_memo", D("5000.00"), 1), ("debit_memo", D("5000.01"), 2),
    ("write_off", D("250.00"), 0), ("write_off", D("250.01"), 1), ("credit_memo", D("6000"), 2),
    ("write_off", D("25000.00"), 2), ("write_off", D("25000.01"), 3), ("credit_memo", D("1000000"), 3),
    ("credit_memo", D("0"), 3), ("credit_memo", D("-10.00"), 3),
    ("payment_application", D("99999.99"), 0), ("payment_application", None, 0),
    ("credit_limit_change", D("10000"), 1), ("credit_limit_change", D("10000.01"), 2),
    ("credit_limit_change", D("50000"), 2), ("credit_limit_change", D("100000.00"), 2),
    ("credit_limit_change", D("100000.01"), 3),
    ("installment_plan", D("5000.00"), 1), ("installment_plan", D("5000.01"), 2),
    ("installment_plan", D("30000"), 2), ("installment_plan", D("50000.00"), 2),
    ("installment_plan", D("50000.01"), 3),
    ("something_new", D("1.00"), 3),
])
def test_approval_authority(action: str, amount: Decimal | None, level: int) -> None:
    assert _decide("approval_authority", action=action, action_amount=amount) == {"approval_level": level}


@pytest.mark.parametrize(("request_type", "amount", "expected"), [
    ("billing_dispute", D("10000.01"), ("billing", "high", 24)),
    ("billing_dispute", D("10000.00"), ("billing", "normal", 40)),
    ("billing_dispute", D("120.00"), ("billing", "normal", 40)),
    ("billing_dispute", None, ("billing", "normal", 40)),
    ("payment_issue", D("500"), ("cash_application", "normal", 16)),
    ("credit_onboarding", D("50000"), ("credit", "normal", 40)),
    ("credit_adjustment", D("80"), ("billing", "low", 40)),
    ("debt_restructuring", D("30000"), ("collections", "high", 24)),
    ("something_new", D("1"), ("billing", "normal", 40)),
])
def test_classification(request_type: str, amount: Decimal | None, expected: tuple[str, str, int]) -> None:
    result = _decide("classification", request_type=request_type, amount=amount)
    assert result == dict(zip(("team", "routed_priority", "sla_hours"), expected, strict=True))


# --- the whole set, parsed and run -------------------------------------------------------------------


def _parser() -> CamundaParser:
    parser = CamundaParser(validator=BpmnValidator())
    parser.add_bpmn_files([str(p) for p in BPMN_FILES])
    parser.add_dmn_files([str(p) for p in DMN_FILES])
    return parser


def test_the_whole_set_parses_with_camunda_parser() -> None:
    parser = _parser()
    spec = parser.get_spec("customer_request")
    subprocesses = parser.get_subprocess_specs("customer_request")
    assert set(subprocesses) == SUBPROCESSES
    assert {"Task_Classify", "Task_Approve", "Event_Resolved"} <= set(spec.task_specs)
    assert parser.get_dmn_dependencies() == {"classification", "approval_authority"}


class Run:
    """Runs customer_request on the engine with faked service tasks, scripted user-task answers and customer
    messages (by receiving element), workers' jobs run as they come and timers far in the future."""

    def __init__(self, start: dict[str, Any], services: dict[str, dict[str, Any]],
                 answers: dict[str, list[dict[str, Any]]]) -> None:
        self.services = services
        self.answers = {k: list(v) for k, v in answers.items()}
        self.visited: list[str] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.seen: dict[str, list[dict[str, Any]]] = {}  # the data each user task was shown
        self.engine = Engine()
        self.bundle = self.engine.bundle({p.name: p.read_bytes() for p in BPMN_FILES + DMN_FILES})
        self.snapshot = self.engine.start(self.bundle, "customer_request", dict(start), self._call, "run",
                                          ctx=self._ctx())

    def _call(self, call: ServiceCall) -> dict[str, Any]:
        self.calls.append((call.topic, dict(call.inputs)))
        output = self.services.get(call.topic, {})
        return dict(output(call.data) if callable(output) else output)

    def _ctx(self, run_async: bool = False) -> RunContext:
        return RunContext(self._call, "run", now=T0, values=SLA_VALUES, run_async=run_async)

    def _step(self, snap: Snapshot) -> Snapshot | None:
        if snap.pending_async:
            return self.engine.advance(self.bundle, "customer_request", snap.state, self._call, "run",
                                       ctx=self._ctx(run_async=True))
        for sub in snap.subscriptions:
            if self.answers.get(sub.element_id):
                return self.engine.deliver(self.bundle, "customer_request", snap.state, sub.element_id, sub.message,
                                           self.answers[sub.element_id].pop(0), self._ctx())
        for task in snap.waiting:
            queue = self.answers.get(task.element_id)
            assert queue, f"unexpected user task {task.element_id} (visited {self.visited})"

            def prepare(data: dict[str, Any], queue: list[dict[str, Any]] = queue, task: Any = task) -> dict[str, Any]:
                self.seen.setdefault(task.element_id, []).append(dict(data))
                return queue.pop(0)

            return self.engine.complete(self.bundle, "customer_request", snap.state, task.id, prepare, self._call,
                                        "run", ctx=self._ctx())
        return None

    def go(self) -> Run:
        snap: Snapshot | None = self.snapshot
        for _ in range(200):
            assert snap is not None
            self.snapshot = snap
            self.visited += [step.element_id for step in snap.trail]
            if snap.completed:
                break
            snap = self._step(snap)
            assert snap is not None, f"stuck after {self.visited}: waits for {self.snapshot.subscriptions}"
        assert self.snapshot.completed, f"stuck after {self.visited}"
        assert not any(self.answers.values()), f"unused answers {self.answers}"
        return self

    @property
    def data(self) -> dict[str, Any]:
        return self.snapshot.data

    def topics(self, topic: str) -> list[dict[str, Any]]:
        return [inputs for t, inputs in self.calls if t == topic]


T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
# The SLA times the timers read: far enough that no reminder or escalation fires in these runs.
SLA_VALUES = {"sla_reminder_at": (T0 + timedelta(days=30)).isoformat(),
              "sla_due_at": (T0 + timedelta(days=40)).isoformat()}


SUBMITTED = {"customer_id": "C-1", "description": "x", "priority": "normal", "channel": "portal",
             "currency": "USD", "invoice_numbers": ["INV-1"], "payment_references": [],
             "disputed_amount": None, "requested_limit": None, "installments": None, "adjustment_kind": None}


def _services(kyc: str = "clear", amount: str = "1000.00", **extra: Any) -> dict[str, Any]:
    services: dict[str, Any] = {
        "request/register": {"reference": "REQ-1", "amount": D(amount), "customer_name": "Acme",
                             "customer_is_new": False, "write_off_tolerance": D("250.00"), "accept": None},
        "kyc/validate": {"kyc_result": kyc, "kyc_risk": "low", "kyc_hits": []},
        "request/route": {"routed_to": "billing"},
        "invoice/lookup": {"invoice_number": "INV-1", "invoice_amount": D("1000.00"),
                           "invoice_open_amount": D("1000.00"), "invoices": [], "invoice_open_total": D("1000.00")},
        "payment/match": {"payment_reference": "PAY-1", "payment_amount": D("400.00"), "matched_invoice": "INV-9",
                          "match_confidence": 0.97, "match_method": "reference", "auto_apply": True},
        "credit/score": {"credit_score": 700, "risk_class": "B", "recommended_limit": D("40000")},
        "ledger/post": {"posting_number": "JE-1"},
        "request/close": {"closed_at": "2026-01-01T00:00:00"},
    }
    services.update(extra)
    return services


def _templates(run: Run) -> list[str]:
    return [i["template"] for i in run.topics("notify/customer")]


def test_billing_dispute_credit_memo_approved_and_accepted() -> None:
    run = Run({**SUBMITTED, "request_type": "billing_dispute"}, _services(), {
        "Task_Investigate": [{"decision": "adjust", "corrected_amount": D("300.00"), "reason_code": "pricing_error"}],
        "Task_Approve": [{"decision": "approve"}],
        "Task_CustomerResolution": [{"accept": True}],
    }).go()
    assert run.data["action"] == "credit_memo" and run.data["action_amount"] == D("700.00")
    assert run.data["target_invoice"] == "INV-1" and run.data["reason_code"] == "pricing_error"
    assert run.data["approval_level"] == 1
    assert (run.data["team"], run.data["routed_priority"], run.data["sla_hours"]) == ("billing", "normal", 40)
    assert "difference" not in run.data
    assert "Event_Resolved" in run.visited and "Task_KycReview" not in run.visited
    assert _templates(run) == ["request_received", "resolution_proposed", "request_closed"]
    assert run.topics("request/close") == [{"outcome": "resolved"}]


def test_billing_dispute_underbilled_is_a_debit_memo_and_no_difference_is_rejected() -> None:
    run = Run({**SUBMITTED, "request_type": "billing_dispute"}, _services(), {
        "Task_Investigate": [{"decision": "adjust", "corrected_amount": D("1500.00"), "reason_code": "tax_error"},
                             {"decision": "adjust", "corrected_amount": D("1000.00"), "reason_code": "other"}],
        "Task_Approve": [{"decision": "return"}],
    }).go()
    shown = run.seen["Task_Approve"][0]
    assert (shown["action"], shown["action_amount"], shown["approval_level"]) == ("debit_memo", D("500.00"), 1)
    assert run.visited.count("Gateway_Processing") == 2
    assert run.data["outcome"] == "rejected" and run.data["action"] is None
    assert "Event_Rejected" in run.visited and "Task_Post" not in run.visited
    assert run.topics("request/close") == [{"outcome": "rejected"}]


def test_kyc_confirmed_match_blocks_the_request() -> None:
    run = Run({**SUBMITTED, "request_type": "payment_issue"}, _services(kyc="review"), {
        "Task_KycReview": [{"decision": "confirm_match", "rationale": "same person"}],
    }).go()
    assert "Event_Blocked" in run.visited and "Task_Classify" not in run.visited
    assert run.topics("request/close") == [{"outcome": "blocked"}]
    assert _templates(run) == ["request_declined"]


def test_kyc_false_positive_then_automatic_payment_application() -> None:
    run = Run({**SUBMITTED, "request_type": "payment_issue"}, _services(kyc="review"), {
        "Task_KycReview": [{"decision": "clear", "rationale": "different birth date"}],
    }).go()
    assert run.data["action"] == "payment_application" and run.data["target_invoice"] == "INV-9"
    assert run.data["approval_level"] == 0
    assert "Task_AutoApprove" in run.visited and "Task_Approve" not in run.visited
    assert "Task_CustomerResolution" not in run.visited and "Event_Resolved" in run.visited
    assert run.data["team"] == "cash_application"


def test_manual_payment_match() -> None:
    services = _services(**{"payment/match": {"payment_reference": "PAY-1", "payment_amount": D("400.00"),
                                              "matched_invoice": None, "match_confidence": 0.2,
                                              "match_method": "none", "auto_apply": False}})
    run = Run({**SUBMITTED, "request_type": "payment_issue"}, services, {
        "Task_MatchPayment": [{"decision": "apply", "invoice_number": "INV-7"}],
    }).go()
    assert run.data["target_invoice"] == "INV-7" and run.data["action_amount"] == D("400.00")
    assert "Event_Resolved" in run.visited


def test_small_write_off_is_automatic_and_a_customer_rejection_reopens_it_for_a_person() -> None:
    start = {**SUBMITTED, "request_type": "credit_adjustment", "adjustment_kind": "write_off",
             "disputed_amount": D("80.00")}
    review = {"decision": "adjust", "adjustment_amount": D("20.00"), "reason_code": "small_balance",
              "note": "Customer asked for the rest of the balance."}
    run = Run(start, _services(), {"Task_CustomerResolution": [{"accept": False}, {"accept": True}],
                                   "Task_ReviewAdjustment": [review]}).go()
    # The automatic write-off happens once; after the customer's rejection a person reviews, so the
    # same small balance is never written off twice without anyone looking.
    assert run.visited.count("Task_AutoWriteOff") == 1 and run.visited.count("Gateway_Processing") == 2
    assert run.visited.count("Task_ReviewAdjustment") == 1
    assert run.data["action"] == "write_off" and run.data["action_amount"] == D("20.00")
    assert run.data["approval_level"] == 0 and "Task_Approve" not in run.visited
    assert "Event_Resolved" in run.visited


def test_refund_credit_is_reviewed_and_rejected_by_the_approver() -> None:
    start = {**SUBMITTED, "request_type": "credit_adjustment", "adjustment_kind": "refund",
             "disputed_amount": D("80.00")}
    run = Run(start, _services(), {
        "Task_ReviewAdjustment": [{"decision": "adjust", "adjustment_amount": D("6000.00"),
                                   "reason_code": "goodwill"}],
        "Task_Approve": [{"decision": "reject"}],
    }).go()
    assert run.data["action"] == "credit_memo" and run.data["approval_level"] == 2
    assert "Event_Rejected" in run.visited and "Task_Post" not in run.visited
    assert _templates(run) == ["request_received", "request_rejected"]


def test_credit_onboarding_limit_and_rejection() -> None:
    start = {**SUBMITTED, "request_type": "credit_onboarding", "requested_limit": D("50000")}
    run = Run(start, _services(), {
        "Task_CreditReview": [{"decision": "approve_limit", "approved_limit": D("50000")}],
        "Task_Approve": [{"decision": "approve"}],
    }).go()
    assert run.data["action"] == "credit_limit_change" and run.data["approval_level"] == 2
    assert "Task_CustomerResolution" not in run.visited and "Event_Resolved" in run.visited
    rejected = Run(start, _services(), {"Task_CreditReview": [{"decision": "reject"}]}).go()
    assert "Event_Rejected" in rejected.visited and "Task_ApprovalAuthority" not in rejected.visited


def test_debt_restructuring_plan() -> None:
    run = Run({**SUBMITTED, "request_type": "debt_restructuring"}, _services(amount="30000"), {
        "Task_RestructurePlan": [{"decision": "approve_plan", "plan_installments": 6}],
        "Task_Approve": [{"decision": "approve"}],
        "Task_CustomerResolution": [{"accept": True}],
    }).go()
    assert run.data["action"] == "installment_plan" and run.data["action_amount"] == D("30000")
    assert run.data["approval_level"] == 2 and run.data["team"] == "collections"
    assert "Event_Resolved" in run.visited


def test_unknown_request_type_is_closed_as_rejected() -> None:
    run = Run({**SUBMITTED, "request_type": "something_new"}, _services(), {}).go()
    assert "Event_UnknownType" in run.visited
    assert run.topics("request/close") == [{"outcome": "rejected"}]

