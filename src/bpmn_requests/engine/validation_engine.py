"""The last check: the engine itself reads the set, every process and every decision, as a deployment would.

`load_bundle` parses process specs lazily and stops at the first error; here each executable process
(and each embedded subprocess it creates) is parsed on its own, so every broken process is reported,
and SpiffWorkflow's message is located at the element, line and file it concerns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

from .bundle import RequestsParser
from .validation_base import Document, Problem


def _message(exc: Exception) -> str:
    text = str(exc.args[0]) if exc.args else type(exc).__name__
    if not isinstance(exc, ValidationException):
        text = f"{type(exc).__name__}: {text}"
    text = re.sub(r"<Element \{[^}]*\}(\w+) at 0x[0-9a-f]+>", r"\1", text)
    return " ".join(text.split()).rstrip(".")


def _locate(exc: Exception, documents: dict[str, Document], fallback: Document, process_id: str = "") -> Problem:
    doc = documents.get(getattr(exc, "file_name", "") or "", fallback)
    element_id = getattr(exc, "id", "") or ""
    node = doc.by_id.get(element_id)
    if node is None:
        node = doc.by_id.get(process_id)
    message = f"the engine cannot read this: {_message(exc)}; correct the element in the modeler"
    if node is None:
        return doc.whole(message, "engine")
    return doc.at(node, message, "engine")


def engine_problems(documents: Iterable[Document]) -> list[Problem]:
    """What SpiffWorkflow itself refuses when it reads the files and parses every executable process."""
    docs = {doc.name: doc for doc in documents}
    parser = RequestsParser()
    problems: list[Problem] = []
    source: dict[str, Document] = {}
    for doc in docs.values():
        known = set(parser.process_parsers)
        try:
            if doc.kind == "dmn":
                parser.add_dmn_xml(doc.root, filename=doc.name)
            else:
                parser.add_bpmn_xml(doc.root, filename=doc.name)
        except Exception as exc:  # noqa: BLE001 - any failure of the parser is a problem of this file
            problems.append(_locate(exc, docs, doc))
            continue
        source.update({pid: doc for pid in set(parser.process_parsers) - known})
    done: set[str] = set()
    while pending := [pid for pid in parser.get_process_ids() if pid not in done]:
        for process_id in pending:
            done.add(process_id)
            doc = source.get(process_id) or _owner(process_id, docs)
            try:
                parser.get_spec(process_id)
            except Exception as exc:  # noqa: BLE001
                problems.append(_locate(exc, docs, doc, process_id))
    for decision_id, dmn_parser in parser.dmn_parsers.items():
        doc = docs.get(dmn_parser.filename or "") or next(iter(docs.values()))
        try:
            dmn_parser.parse()
        except Exception as exc:  # noqa: BLE001
            problems.append(_locate(exc, docs, doc, decision_id))
    return problems


def _owner(element_id: str, docs: dict[str, Document]) -> Document:
    """The document that holds an element (an embedded subprocess the parser created while parsing)."""
    for doc in docs.values():
        if element_id in doc.by_id:
            return doc
    return next(iter(docs.values()))
