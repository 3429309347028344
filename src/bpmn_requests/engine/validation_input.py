"""The gate every uploaded file passes first: size, what kind of file it really is, safe XML, the XSDs.

Nothing here trusts the file name: a zip archive or an image renamed `.bpmn` is named for what it is,
a file over the size limit is refused before anything parses it, DOCTYPE and entity declarations are
refused (no external entities, no entity expansion), and BPMN and DMN documents are checked against
the OMG schemas that ship with SpiffWorkflow.
"""

from __future__ import annotations

import copy
import re
import threading
from functools import lru_cache
from pathlib import Path

import SpiffWorkflow
from lxml import etree

from .dialects import BPMN_NS, NS
from .validation_base import Document, Problem, local
from .xml import MAX_XML_BYTES, safe_parser

SCHEMA_DIR = Path(SpiffWorkflow.__file__).parent
BPMN_XSD = SCHEMA_DIR / "bpmn" / "parser" / "schema" / "BPMN20.xsd"
DMN_XSDS = {
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd": SCHEMA_DIR / "dmn" / "parser" / "schema" / "DMN.xsd",
    "http://www.omg.org/spec/DMN/20180521/MODEL/": SCHEMA_DIR / "dmn" / "parser" / "schema" / "DMN12.xsd",
    "https://www.omg.org/spec/DMN/20191111/MODEL/": SCHEMA_DIR / "dmn" / "parser" / "schema" / "DMN13.xsd",
}
MAX_XSD_PROBLEMS = 10

# Magic numbers of the files people most often upload by mistake.
SIGNATURES = (
    (b"PK\x03\x04", "a zip archive (a .zip, .docx or .xlsx renamed?)"),
    (b"PK\x05\x06", "an empty zip archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\xd0\xcf\x11\xe0", "an old Microsoft Office document"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a Windows program"),
)
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_lock = threading.Lock()  # an XMLSchema's error_log belongs to its last validate() call


def _kilobytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


def screen(name: str, content: bytes, *, expect_xml: bool = True) -> Problem | None:
    """Refuse a file by its bytes alone: too large, empty, binary, or not XML (for diagrams)."""
    if len(content) > MAX_XML_BYTES:
        return Problem(name, 0, "", "", f"the file is larger than the limit of {_kilobytes(MAX_XML_BYTES)} "
                                        f"({_kilobytes(len(content))} or more): it was not read; split it "
                                        f"into smaller diagrams or remove embedded data", rule="too-large")
    if not content.strip():
        return Problem(name, 0, "", "", "the file is empty: save the diagram again from the modeler",
                       rule="not-xml")
    kind = "XML" if expect_xml else "a text file"
    for magic, what in SIGNATURES:
        if content.startswith(magic):
            return Problem(name, 0, "", "", f"not {kind}: looks like {what}; upload the file the modeler "
                                            f"saved, not an archive or an export", rule="not-xml")
    head = content[:8192]
    if not head.startswith(UTF16_BOMS) and b"\x00" in head and not re.match(rb"^(\x00<|<\x00)", head):
        return Problem(name, 0, "", "", f"not {kind}: looks like a binary file; upload the file the modeler "
                                        f"saved", rule="not-xml")
    if expect_xml and not head.startswith(UTF16_BOMS):
        first = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
        if first in (b"{", b"["):
            return Problem(name, 0, "", "", "not XML: looks like JSON (a form or an element template?); "
                                            "diagrams are .bpmn or .dmn XML files", rule="not-xml")
        if first != b"<":
            return Problem(name, 0, "", "", "not XML: the file does not start with '<'; upload the .bpmn or "
                                            ".dmn file the modeler saved", rule="not-xml")
    return None


def _doctype(name: str, content: bytes) -> Problem | None:
    if b"<!DOCTYPE" in content or b"<!ENTITY" in content:
        return Problem(name, _line_of(content, b"<!"), "", "",
                       "declares a DOCTYPE or entities, which diagrams may not (external entities and entity "
                       "expansion are refused): remove the declaration or save the diagram again from the "
                       "modeler", rule="doctype")
    return None


def _line_of(content: bytes, needle: bytes) -> int:
    index = content.find(needle)
    return content.count(b"\n", 0, index) + 1 if index >= 0 else 0


def parse(name: str, content: bytes) -> tuple[Document | None, list[Problem]]:
    """The document, or the problems that stop anyone from reading it (then no other rule runs)."""
    refused = screen(name, content) or _doctype(name, content)
    if refused is not None:
        return None, [refused]
    try:
        root = etree.fromstring(content, safe_parser())
    except etree.XMLSyntaxError as exc:
        return None, [Problem(name, exc.lineno or 0, "", "", f"not well-formed XML: {exc.msg}; the file is "
                                                             f"damaged: restore it or save it again from the "
                                                             f"modeler", rule="not-well-formed")]
    except (etree.LxmlError, ValueError) as exc:
        return None, [Problem(name, 0, "", "", f"cannot be read as XML: {exc}", rule="not-well-formed")]
    if root.getroottree().docinfo.doctype:
        return None, [Problem(name, 1, "", "", "declares a DOCTYPE, which diagrams may not: remove it",
                              rule="doctype")]
    return _kind(name, root)


def _kind(name: str, root: etree._Element) -> tuple[Document | None, list[Problem]]:
    namespace = etree.QName(root).namespace or ""
    is_bpmn = namespace == BPMN_NS and local(root) == "definitions"
    is_dmn = local(root) == "definitions" and "/DMN/" in namespace
    if name.endswith(".dmn"):
        if is_dmn:
            return Document(name, root, "dmn"), []
        what = "a BPMN diagram: name it .bpmn" if is_bpmn else f"<{local(root)}> in namespace {namespace or 'none'}"
        return None, [Problem(name, root.sourceline or 0, "", "", f"not a DMN document: the root element is "
                                                                  f"{what}", rule="not-bpmn")]
    if is_bpmn:
        return Document(name, root, "bpmn"), []
    what = "a DMN decision table: name it .dmn" if is_dmn else f"<{local(root)}> in namespace {namespace or 'none'}"
    return None, [Problem(name, root.sourceline or 0, "", "", f"not a BPMN 2.0 diagram: the root element is "
                                                              f"{what}", rule="not-bpmn")]


@lru_cache(maxsize=8)
def _schema(path: Path) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(path), safe_parser()))


def _short(message: str) -> str:
    message = re.sub(r"\{[^}]*BPMN/20100524/MODEL\}", "bpmn:", message)
    message = re.sub(r"\{[^}]*/DMN/[^}]*\}", "dmn:", message)
    message = re.sub(r"\{([^}]*)\}", lambda m: f"{{{m.group(1).rsplit('/', 1)[-1] or m.group(1)}}}", message)
    expected = re.search(r"Expected is (one of )?\( (.*) \)", message)
    if expected:
        names = [n.strip() for n in expected.group(2).split(",")]
        shown = ", ".join(names[:5]) + (f", ... ({len(names)} in all)" if len(names) > 5 else "")
        message = message[:expected.start()] + f"Expected: {shown}."
    return message.rstrip(".")


def check_schema(doc: Document, duplicate_ids: set[str]) -> list[Problem]:
    """Problems against the BPMN 2.0 or DMN XSD, located by line; duplicate ids are reported elsewhere."""
    if doc.kind == "bpmn":
        path, label = BPMN_XSD, "BPMN 2.0"
        root = _tolerate_bpmn_io(doc.root)
    else:
        namespace = etree.QName(doc.root).namespace or ""
        if namespace not in DMN_XSDS:
            return [doc.at(doc.root, f"DMN namespace {namespace} is not supported: save the table as DMN 1.3 "
                                     f"(Camunda Modeler 5 or later)", "xsd")]
        path, label = DMN_XSDS[namespace], "DMN"
        root = doc.root
    schema = _schema(path)
    with _lock:
        schema.validate(root)
        entries = [(e.line, e.message) for e in schema.error_log]
    problems = []
    for line, message in entries:
        if "xs:ID" in message and any(f"'{dup}'" in message for dup in duplicate_ids):
            continue
        node = _node_at_line(doc.root, line)
        problem = doc.at(node, f"not valid {label} (XSD): {_short(message)}: correct or remove this element "
                               f"in the modeler", "xsd")
        problems.append(Problem(problem.file, line, problem.element_id, problem.element_name,
                                problem.message, problem.severity, problem.rule))
    if len(problems) > MAX_XSD_PROBLEMS:
        rest = len(problems) - MAX_XSD_PROBLEMS
        problems = problems[:MAX_XSD_PROBLEMS] + [doc.whole(f"... and {rest} more XSD problems", "xsd")]
    return problems


def _tolerate_bpmn_io(root: etree._Element) -> etree._Element:
    """bpmn.io writes correlation retrieval expressions as formalExpression; SpiffWorkflow accepts that too."""
    path = ".//bpmn:correlationPropertyRetrievalExpression/bpmn:formalExpression"
    if not root.xpath(path, namespaces=NS):
        return root
    copied = copy.deepcopy(root)
    for node in copied.xpath(path, namespaces=NS):
        node.tag = f"{{{BPMN_NS}}}messagePath"
    return copied


def _node_at_line(root: etree._Element, line: int) -> etree._Element:
    for node in root.iter():
        if isinstance(node.tag, str) and node.sourceline == line:
            return node
    return root
