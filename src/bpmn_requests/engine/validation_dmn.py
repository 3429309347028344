"""Rules for decision tables: what SpiffWorkflow's DMN engine can run, and every cell compiled as it runs.

SpiffWorkflow reads one decision table per file and evaluates cells as Python, not FEEL. An input cell
becomes a Python expression in one of three ways (see `DMNEngine.evaluate`): with `?` it stands for the
input value (`0 < ? <= 250`); a value is compared with `==` (`"credit_memo"`); anything that parses only
after a value is prefixed (`<= 250`, ` in ("a", "b")`) is appended to the input expression as written.
Each cell is checked in the form the engine will evaluate.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from lxml import etree

from ..domain.errors import DomainError
from .scripting import HELPERS, compile_expression
from .validation_base import DiagramSet, Document, Problem, local, text_of
from .validation_code import expression_problem

SUPPORTED_HIT_POLICIES = {"UNIQUE", "FIRST", "ANY", "COLLECT"}
# The engine's own pattern: a '?' outside quotes stands for the input value.
_PLACEHOLDER = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")


def _children(node: etree._Element, tag: str) -> list[etree._Element]:
    return [child for child in node if local(child) == tag]


def dmn_problems(doc: Document, diagrams: DiagramSet) -> Iterator[Problem]:
    decisions = _children(doc.root, "decision")
    if not decisions:
        yield doc.at(doc.root, "the file holds no decision: add a decision table", "dmn-decision")
        return
    if len(decisions) > 1:
        yield doc.at(decisions[1], f"the engine reads only the first decision of a file "
                                   f"({decisions[0].get('id')!r}): put each decision in its own .dmn file",
                     "dmn-decision")
    for other in diagrams.documents:
        if other is doc or other.kind != "dmn":
            continue
        if other.name < doc.name and any(d.get("id") == decisions[0].get("id")
                                         for d in _children(other.root, "decision")):
            yield doc.at(decisions[0], f"decision id {decisions[0].get('id')!r} is also used in {other.name}: "
                                           f"decision ids must be unique", "dmn-decision")
    tables = _children(decisions[0], "decisionTable")
    if not tables:
        yield doc.at(decisions[0], "the decision is not a decision table (literal expressions and requirement "
                                   "graphs cannot run here): model it as a decision table", "dmn-decision")
        return
    yield from _table(doc, tables[0])


def _table(doc: Document, table: etree._Element) -> Iterator[Problem]:
    policy = (table.get("hitPolicy") or "UNIQUE").upper()
    if policy not in SUPPORTED_HIT_POLICIES:
        yield doc.at(table, f"hit policy {policy} cannot run here (the engine takes the first matching rule, or "
                            f"all with COLLECT): use FIRST, UNIQUE, ANY or COLLECT", "dmn-hit-policy")
    if table.get("aggregation"):
        yield doc.at(table, f"COLLECT with {table.get('aggregation')} cannot run here (the engine returns the "
                            f"list of values): remove the aggregation", "dmn-hit-policy")
    inputs = []
    for column in _children(table, "input"):
        expression = text_of(next(iter(column.xpath("./*[local-name()='inputExpression']/*[local-name()='text']")),
                                  None))
        problem = expression_problem(expression, "the input expression") if expression else (
            "the input has no expression: write the Python expression it reads, e.g. action_amount")
        if problem:
            yield doc.at(column, problem, "dmn-input")
            expression = ""
        inputs.append(expression)
    outputs = _children(table, "output")
    for output in outputs:
        if not (output.get("name") or output.get("label")):
            yield doc.at(output, "the output has no name: set the output name (the process variable it sets)",
                         "dmn-output")
    for row, rule in enumerate(_children(table, "rule"), start=1):
        for index, entry in enumerate(_children(rule, "inputEntry")):
            if index < len(inputs) and inputs[index]:
                problem = cell_problem(inputs[index], _cell_text(entry))
                if problem:
                    yield doc.at(entry, f"rule {row}, input {index + 1}: {problem}", "dmn-cell")
        for index, entry in enumerate(_children(rule, "outputEntry")):
            text = _cell_text(entry)
            problem = expression_problem(text, "the output") if text else None
            if problem:
                yield doc.at(entry, f"rule {row}, output {index + 1}: {problem}", "dmn-cell")


def _cell_text(entry: etree._Element) -> str:
    found = [child for child in entry if local(child) == "text"]
    return (found[0].text or "").strip() if found else ""


def _names(source: str) -> set[str]:
    return {node.id for node in ast.walk(ast.parse(source, mode="eval")) if isinstance(node, ast.Name)}


def cell_problem(input_expression: str, cell: str) -> str | None:
    """Why an input cell fails in the engine, judged on the expression the engine will build; or None."""
    if not cell or cell == "-":
        return None
    if cell.startswith("="):
        return f"cell {cell!r} is FEEL; cells here are Python (a value, a comparison like '<= 250', or '? in (...)')"
    replaced = _PLACEHOLDER.sub("dmninputexpr", cell)
    if "dmninputexpr" in replaced:
        final, own = replaced, replaced
    else:
        try:
            ast.parse(cell, mode="eval")
            final, own = f"({input_expression}) == ({cell})", cell
        except SyntaxError:
            try:
                ast.parse(f"v {cell}", mode="eval")
            except SyntaxError:
                return (f"cell {cell!r} is neither a Python value nor a comparison (FEEL ranges like [1..10] "
                        f"and 'not(...)' are not Python): write e.g. '1 <= ? <= 10'")
            final, own = input_expression + cell, f"v {cell}"
    try:
        compile_expression(final)
        extra = _names(final) - _names(input_expression) - _names(own) - set(HELPERS)
    except (DomainError, SyntaxError) as exc:
        return f"cell {cell!r} becomes {final!r}, which does not compile: {exc}"
    if extra:
        return (f"cell {cell!r} joins the input expression into {final!r} (a name {sorted(extra)[0]!r} that does "
                f"not exist): start the cell with a space or write it with '?', e.g. '? {cell.strip()}'")
    return None
