"""What every validation rule works with: the problem it reports, the document it reads, the set it checks.

A rule is a function from a `Document` (and the `DiagramSet` around it) to problems. `Document.at` turns
any XML node into a located problem: its line, and the id and name of the nearest element that has an id.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from difflib import get_close_matches
from functools import cached_property

from lxml import etree

from .dialects import BPMN_NS, CAMUNDA_NS, NS

ERROR = "error"
WARNING = "warning"
# Parts of an element that carry ids of their own; a problem in them is reported at the element.
DETAILS = ("EventDefinition", "LoopCharacteristics", "Expression", "ioSpecification", "timeDate", "timeDuration",
           "timeCycle", "Condition", "condition", "loopCardinality")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where (file, line, element) and what to do about it."""

    file: str
    line: int
    element_id: str
    element_name: str
    message: str
    severity: str = ERROR  # error | warning
    rule: str = ""  # a stable name for the check, e.g. "service-topic"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        element = f" {self.element_id}" + (f" ({self.element_name})" if self.element_name else "")
        return f"{where}{element}: {self.severity}: {self.message}"


def local(node: etree._Element) -> str:
    """The tag without its namespace ('' for comments and processing instructions)."""
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def bpmn(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def camunda(name: str) -> str:
    return f"{{{CAMUNDA_NS}}}{name}"


def text_of(node: etree._Element | None) -> str:
    return (node.text or "").strip() if node is not None else ""


def suggest(value: str, known: Collection[str]) -> str:
    """' (did you mean x?)' when a known value is close, else ''."""
    close = get_close_matches(value, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def listing(values: Collection[str], limit: int = 12) -> str:
    shown = sorted(values)[:limit]
    more = f" and {len(values) - limit} more" if len(values) > limit else ""
    return (", ".join(shown) + more) if shown else "none"


@dataclass
class Document:
    """One parsed .bpmn or .dmn file of the set."""

    name: str
    root: etree._Element
    kind: str  # bpmn | dmn

    def at(self, node: etree._Element, message: str, rule: str, severity: str = ERROR) -> Problem:
        """A problem located at `node`: its own line, the nearest element with an id."""
        owner: etree._Element | None = node
        while owner is not None and (not owner.get("id") or local(owner).endswith(DETAILS)):
            owner = owner.getparent()
        element_id = owner.get("id", "") if owner is not None else ""
        name = (owner.get("name") or owner.get("label") or "") if owner is not None else ""
        return Problem(self.name, node.sourceline or 0, element_id, " ".join(name.split()), message, severity, rule)

    def whole(self, message: str, rule: str, severity: str = ERROR) -> Problem:
        """A problem with the file itself (no element to point at)."""
        return Problem(self.name, 0, "", "", message, severity, rule)

    def xpath(self, path: str, node: etree._Element | None = None) -> list[etree._Element]:
        found = (self.root if node is None else node).xpath(path, namespaces=NS)
        return [item for item in found if isinstance(item, etree._Element)]

    @cached_property
    def by_id(self) -> dict[str, etree._Element]:
        """Every element with an id (the first one, when an id is used twice)."""
        found: dict[str, etree._Element] = {}
        for node in self.root.iter():
            if isinstance(node.tag, str) and node.get("id"):
                found.setdefault(node.get("id", ""), node)
        return found

    def processes(self) -> list[etree._Element]:
        return self.xpath("//bpmn:process")

    def executable_processes(self) -> list[etree._Element]:
        return [p for p in self.processes() if p.get("isExecutable", "true") == "true"]

    def in_executable(self, tags: Collection[str]) -> Iterator[etree._Element]:
        """Every element with one of the BPMN `tags` inside an executable process, in document order."""
        wanted = {bpmn(tag) for tag in tags}
        for process in self.executable_processes():
            yield from process.iter(*wanted)


def extension(node: etree._Element, path: str) -> list[etree._Element]:
    """Children under `bpmn:extensionElements` (path like 'camunda:inputOutput/camunda:inputParameter')."""
    found = node.xpath(f"./bpmn:extensionElements/{path}", namespaces=NS)
    return [item for item in found if isinstance(item, etree._Element)]


@dataclass
class DiagramSet:
    """What rules need to know about the whole set and the system it will run in."""

    documents: list[Document]
    topic_known: Callable[[str], bool]
    form_known: Callable[[str], bool]
    topics: Collection[str] = ()
    forms: Collection[str] = ()
    form_problems: Mapping[str, str] = field(default_factory=dict)

    @cached_property
    def process_ids(self) -> dict[str, bool]:
        """Process id -> executable, over every .bpmn file."""
        found: dict[str, bool] = {}
        for doc in self.documents:
            if doc.kind == "bpmn":
                for process in doc.processes():
                    found.setdefault(process.get("id", ""), process.get("isExecutable", "true") == "true")
        return found

    @cached_property
    def decision_ids(self) -> set[str]:
        return {node.get("id", "") for doc in self.documents if doc.kind == "dmn"
                for node in doc.root if local(node) == "decision"}

