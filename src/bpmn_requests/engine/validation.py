"""Checks a set of diagrams before anyone runs them: what `validate` prints and `deploy` refuses.

Every problem names the file, the line, the element id and name, and what to do; errors refuse the set,
warnings do not. The checks run in stages: each file passes the input gate (size, real file type, safe
XML, the BPMN/DMN XSD); then the rules read each document (`validation_rules`, `_tasks`, `_code`,
`_events`, `_dmn`, `_graph`); finally the engine itself parses every process and decision (`validation_engine`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from .validation_base import ERROR, DiagramSet, Document, Problem
from .validation_code import condition_problems, mapping_problems, script_problems, timer_problems
from .validation_dmn import dmn_problems
from .validation_engine import engine_problems
from .validation_events import event_problems
from .validation_graph import loop_problems
from .validation_input import check_schema, parse
from .validation_input import screen as screen_file
from .validation_rules import (
    flow_problems,
    id_problems,
    process_problems,
    reference_problems,
    unsupported_problems,
)
from .validation_tasks import task_problems

__all__ = ["Problem", "check_diagrams", "screen_file"]


def _bpmn_problems(doc: Document, diagrams: DiagramSet) -> list[Problem]:
    problems = process_problems(doc, diagrams)
    problems += unsupported_problems(doc)
    problems += flow_problems(doc)
    problems += reference_problems(doc)
    problems += task_problems(doc, diagrams)
    problems += condition_problems(doc)
    problems += script_problems(doc)
    problems += mapping_problems(doc)
    problems += timer_problems(doc)
    problems += event_problems(doc, diagrams)
    problems += loop_problems(doc)
    return problems


def _scope_ids(documents: list[Document]) -> list[Problem]:
    """Process and embedded-subprocess ids name specs in the engine: unique across the whole set."""
    seen: dict[str, Document] = {}
    problems = []
    for doc in documents:
        if doc.kind != "bpmn":
            continue
        for node in doc.xpath("//bpmn:process | //bpmn:subProcess | //bpmn:transaction"):
            scope_id = node.get("id", "")
            first = seen.setdefault(scope_id, doc)
            if first is not doc:
                problems.append(doc.at(node, f"id {scope_id!r} is also a process or subprocess id in {first.name}: "
                                             f"process and subprocess ids must be unique across the set",
                                       "duplicate-process"))
    return problems


def _news(found: list[Problem], problems: list[Problem], documents: list[Document]) -> list[Problem]:
    """The engine's problems the rules have not reported already (they located them better)."""
    flagged = {(p.file, p.element_id) for p in problems if p.severity == ERROR}
    refused = {p.file for p in problems if p.severity == ERROR}
    by_name = {doc.name: doc for doc in documents}
    news = []
    for problem in found:
        node = by_name[problem.file].by_id.get(problem.element_id) if problem.file in by_name else None
        related = {problem.element_id, node.get("sourceRef", "") if node is not None else ""}
        if any((problem.file, element) in flagged for element in related if element):
            continue
        if problem.element_id or problem.file not in refused:
            news.append(problem)
    return news


def check_diagrams(files: Mapping[str, bytes], topic_known: Callable[[str], bool],
                   form_known: Callable[[str], bool], *, topics: Collection[str] = (),
                   forms: Collection[str] = (), form_problems: Mapping[str, str] | None = None) -> list[Problem]:
    """Every problem of every .bpmn and .dmn file; no error means the set can be deployed.

    `topics` and `forms` (the known ones) only improve the messages; `form_problems` maps a form id
    whose file is broken to why, so a user task linking it is refused with the reason.
    """
    problems: list[Problem] = []
    documents: list[Document] = []
    for name in sorted(files):
        if not name.endswith((".bpmn", ".dmn")):
            continue
        doc, refused = parse(name, files[name])
        problems += refused
        if doc is None:
            continue
        found, duplicates = id_problems(doc)
        problems += found
        schema = check_schema(doc, duplicates)
        problems += schema
        if not schema:
            documents.append(doc)
    diagrams = DiagramSet(documents, topic_known, form_known, topics, forms, dict(form_problems or {}))
    problems += _scope_ids(documents)
    for doc in documents:
        problems += _bpmn_problems(doc, diagrams) if doc.kind == "bpmn" else list(dmn_problems(doc, diagrams))
    if documents:
        problems += _news(engine_problems(documents), problems, documents)
    return sorted(problems, key=lambda p: (p.file, p.line, p.severity != ERROR))
