"""Rules for the code inside diagrams: conditions, scripts, input and output mappings, loop expressions, timers.

Each piece is checked the way the engine will evaluate it: Python under the RestrictedPython sandbox
(`compile_expression` / `compile_script`), JUEL (`${...}`) and FEEL (`=...`) against the subsets the
engine's own evaluator implements (`expressions.check_expression`), a `language` attribute respected.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from ..domain.errors import DomainError
from .events import BARE_TIMER
from .expressions import PYTHON, ExpressionRefused, check_expression, is_camunda_expression, language_of
from .scripting import compile_expression, compile_script
from .validation_base import WARNING, Document, Problem, camunda, extension, local, text_of

ISO_DURATION = re.compile(r"^-?P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+([.,]\d+)?S)?)?$",
                          re.IGNORECASE)
TIMER_EXAMPLES = {"timeDate": "'2026-12-31T17:00:00Z'", "timeDuration": "'PT48H'", "timeCycle": "'R3/PT1H'"}


def expression_problem(text: str, what: str = "the expression", language: str | None = None) -> str | None:
    """Why `text` cannot run as an expression (Python, JUEL or FEEL, by `language` or its form); None if it can."""
    source = text.strip()
    if not source:
        return f"{what} is empty: write an expression such as kyc_result == 'clear'"
    try:
        if language_of(source, language) != PYTHON:
            check_expression(source, language)
            return None
    except ExpressionRefused as exc:
        return f"{what} cannot run: {exc.message}; write it within the supported JUEL/FEEL subset, or in Python"
    try:
        compile_expression(source)
    except DomainError as exc:
        return f"{what} does not compile in the sandbox: {exc}; write a Python expression"
    return None


def condition_problems(doc: Document) -> Iterator[Problem]:
    """Sequence-flow conditions, conditional events, loop and multi-instance expressions."""
    for node in doc.in_executable({"conditionExpression", "condition", "loopCondition", "completionCondition",
                                   "loopCardinality"}):
        what = {"conditionExpression": "the condition", "loopCardinality": "the loop cardinality"}.get(
            local(node), f"the {local(node)}")
        if node.get(camunda("resource")):
            yield doc.at(node, f"{what} is an external resource: write the expression inline", "condition")
            continue
        problem = expression_problem(node.text or "", what, node.get("language"))
        if problem:
            yield doc.at(node, problem, "condition")
    for node in doc.in_executable({"multiInstanceLoopCharacteristics"}):
        collection = node.get(camunda("collection")) or ""
        if collection and not collection.isidentifier():
            yield doc.at(node, f"the multi-instance collection {collection!r} must name a process variable (a "
                               f"list), not an expression", "condition")


def script_problems(doc: Document) -> Iterator[Problem]:
    for node in doc.in_executable({"scriptTask"}):
        zeebe = extension(node, "zeebe:script")
        if zeebe:
            yield from _feel_script(doc, node, zeebe[0])
            continue
        script_format = (node.get("scriptFormat") or "python").lower()
        scripts = doc.xpath("./bpmn:script", node)
        if script_format not in ("python", "py", "python3"):
            yield doc.at(node, f"the script is {script_format!r}; scripts here are Python: set the format to "
                               f"python and rewrite it", "script")
        elif node.get(camunda("resource")):
            yield doc.at(node, "the script is an external resource: write the Python script in the task's Script "
                               "field", "script")
        elif not scripts or not (scripts[0].text or "").strip():
            yield doc.at(node, "the script task has no script: write the Python it runs", "script")
        else:
            problem = _script_problem(scripts[0].text or "")
            if problem:
                yield doc.at(scripts[0], problem, "script")
        if node.get(camunda("resultVariable")):
            yield doc.at(node, "camunda:resultVariable is ignored: the script's variables become process "
                               "variables of their own names", "script", WARNING)


def _feel_script(doc: Document, node: etree._Element, script: etree._Element) -> Iterator[Problem]:
    """Camunda 8: a FEEL expression whose value goes to the result variable."""
    if not script.get("resultVariable"):
        yield doc.at(script, "a Camunda 8 script needs a result variable: set it in the script's properties",
                     "script")
    problem = expression_problem(script.get("expression") or "", "the script", "feel")
    if problem:
        yield doc.at(script, problem, "script")


def _script_problem(source: str) -> str | None:
    try:
        compile_script(source)
    except DomainError as exc:
        return f"the script does not compile in the sandbox: {exc}; no files or names starting with '_'"
    # RestrictedPython compiles imports and fails them only when they run; refuse them now.
    if any(isinstance(node, ast.Import | ast.ImportFrom) for node in ast.walk(ast.parse(source))):
        return "the script imports a module, which the sandbox refuses: use the helpers it offers (Decimal, date, ...)"
    return None


def mapping_problems(doc: Document) -> Iterator[Problem]:
    """Input and output mappings: text values only; `${...}` (JUEL) and `=...` (FEEL) must be in the subsets;
    SpiffArena parameters are Python expressions."""
    tags = {"serviceTask", "sendTask", "userTask", "businessRuleTask", "callActivity", "scriptTask"}
    for node in doc.in_executable(tags):
        for param in extension(node, "camunda:inputOutput/*"):
            name = param.get("name", "")
            if len(param):
                yield doc.at(param, f"mapping {name!r} is a {local(param[0])}: the engine passes only text; write "
                                    f"a literal or an expression", "mapping")
            elif is_camunda_expression(text_of(param)):
                problem = expression_problem(text_of(param), f"mapping {name!r}")
                if problem:
                    yield doc.at(param, problem, "mapping")
        for param in extension(node, "zeebe:ioMapping/*"):
            source = param.get("source") or ""
            if is_camunda_expression(source):
                problem = expression_problem(source, f"mapping {param.get('target')!r}")
                if problem:
                    yield doc.at(param, problem, "mapping")
        for param in extension(node, "spiffworkflow:serviceTaskOperator/spiffworkflow:parameters/*"):
            problem = expression_problem(param.get("value") or "", f"parameter {param.get('id')!r} (an expression)")
            if problem:
                yield doc.at(param, problem, "mapping")


def timer_problems(doc: Document) -> Iterator[Problem]:
    for node in doc.in_executable({"timerEventDefinition"}):
        specs = [child for child in node if local(child) in TIMER_EXAMPLES]
        if len(specs) != 1:
            yield doc.at(node, "a timer needs exactly one of a date (timeDate), a duration (timeDuration) or a "
                               "cycle (timeCycle)", "timer")
            continue
        problem = _timer_value(local(specs[0]), text_of(specs[0]))
        if problem:
            yield doc.at(specs[0], problem, "timer")


def _timer_value(kind: str, text: str) -> str | None:
    example = TIMER_EXAMPLES[kind]
    if not text:
        return f"the timer has no value: write a quoted ISO 8601 value such as {example}"
    if is_camunda_expression(text):
        return expression_problem(text, "the timer")
    if BARE_TIMER.match(text):
        # A literal as Camunda Modeler writes it (`PT48H`): the engine reads it as it is.
        return _iso_problem(kind, text, example)
    problem = expression_problem(text, "the timer")
    if problem:
        return problem
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None  # an expression over process variables: checked when it runs
    if not isinstance(value, str):
        return f"the timer evaluates to {value!r}, not an ISO 8601 text such as {example}"
    return _iso_problem(kind, value.strip(), example)


def _iso_problem(kind: str, value: str, example: str) -> str | None:
    try:
        if kind == "timeDate":
            TimerEventDefinition.get_datetime(value)
        elif kind == "timeDuration":
            if not ISO_DURATION.match(value):
                raise ValueError("not an ISO 8601 duration")
            TimerEventDefinition.parse_iso_duration(value)
        else:
            if not value.upper().startswith("R") or "/" not in value:
                raise ValueError("not an ISO 8601 repeating interval (cron expressions are not supported)")
            TimerEventDefinition.parse_iso_recurring_interval(value)
    except Exception as exc:  # noqa: BLE001 - SpiffWorkflow raises bare Exception for bad values
        what = {"timeDate": "date-time", "timeDuration": "duration", "timeCycle": "cycle"}[kind]
        return f"the timer {what} {value!r} does not parse ({exc}): write an ISO 8601 {what} such as {example}"
    return None

