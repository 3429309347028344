"""A deployed set of diagrams and decision tables, parsed once per process and cached by content hash."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent,
    EventBasedGateway,
    IntermediateCatchEvent,
    ReceiveTask,
    ServiceTask,
    StartEvent,
)
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser

from ..domain.errors import ValidationFailed
from .dialect_parsers import DIALECT_PARSERS
from .dialects import NS, ElementFacts, process_version_tag, read_facts
from .events import (
    BoundaryEventParser,
    GatewayEventParser,
    IntermediateCatchEventParser,
    ReceiveTaskEventParser,
    StartEventParser,
)
from .specs import TopicServiceTaskParser
from .xml import parse_xml


class RequestsParser(CamundaParser):  # type: ignore[misc]
    OVERRIDE_PARSER_CLASSES = dict(CamundaParser.OVERRIDE_PARSER_CLASSES)
    OVERRIDE_PARSER_CLASSES[full_tag("serviceTask")] = (TopicServiceTaskParser, ServiceTask)
    OVERRIDE_PARSER_CLASSES.update(DIALECT_PARSERS)  # zeebe: and spiffworkflow: decisions, calls, scripts
    OVERRIDE_PARSER_CLASSES.update({  # timers on our clock, messages we correlate
        full_tag("startEvent"): (StartEventParser, StartEvent),
        full_tag("intermediateCatchEvent"): (IntermediateCatchEventParser, IntermediateCatchEvent),
        full_tag("boundaryEvent"): (BoundaryEventParser, BoundaryEvent),
        full_tag("receiveTask"): (ReceiveTaskEventParser, ReceiveTask),
        full_tag("eventBasedGateway"): (GatewayEventParser, EventBasedGateway),
    })


def bundle_key(files: Mapping[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode())
        digest.update(hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


@dataclass
class ProcessBundle:
    key: str
    parser: Any
    facts: dict[tuple[str, str], ElementFacts]  # (process id, element id) -> facts
    process_ids: list[str]
    version_tags: dict[str, str | None]
    sources: dict[str, str] = field(default_factory=dict)  # process id -> file name
    message_keys: dict[str, str] = field(default_factory=dict)  # message name -> Camunda 8 correlationKey
    _specs: dict[str, tuple[Any, dict[str, Any]]] = field(default_factory=dict)
    # SpiffWorkflow's parser fills its dictionaries while it builds a spec: one thread at a time (a web
    # process serves requests on several threads, and the first requests of a version all build it).
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def specs(self, process_id: str) -> tuple[Any, dict[str, Any]]:
        """The process spec and the specs of everything it calls."""
        found = self._specs.get(process_id)
        if found is not None:
            return found
        if process_id not in self.process_ids:
            raise ValidationFailed(f"no process with id {process_id!r} in this version", field="process_id")
        with self._lock:
            if process_id not in self._specs:
                spec = self.parser.get_spec(process_id)
                subs = self.parser.get_subprocess_specs(process_id)
                self._specs[process_id] = (spec, subs)
            return self._specs[process_id]

    def element(self, process_id: str, element_id: str) -> ElementFacts | None:
        return self.facts.get((process_id, element_id))

    def correlation_key(self, process_id: str, element_id: str, message: str) -> str:
        """The variable or expression a receiver of `message` at this element is correlated by."""
        facts = self.element(process_id, element_id)
        if facts is not None and facts.properties.get("correlationKey"):
            return facts.properties["correlationKey"]
        return self.message_keys.get(message) or "reference"


def _located(exc: ValidationException, default_file: str) -> str:
    file_name = getattr(exc, "file_name", None) or default_file
    line = getattr(exc, "line_number", None) or getattr(exc, "sourceline", None) or "?"
    element = getattr(exc, "id", None) or ""
    where = f"{file_name}, line {line}" + (f", element {element}" if element else "")
    return f"{where}: {exc.args[0] if exc.args else exc}"


def load_bundle(files: Mapping[str, bytes]) -> ProcessBundle:
    """Parse every .bpmn and .dmn file; refuse with file, line and element on the first problem."""
    parser = RequestsParser()
    facts: dict[tuple[str, str], ElementFacts] = {}
    process_ids: list[str] = []
    version_tags: dict[str, str | None] = {}
    sources: dict[str, str] = {}
    message_keys: dict[str, str] = {}
    for name in sorted(files):
        if not name.endswith((".bpmn", ".dmn")):
            continue
        root = parse_xml(files[name], name)
        try:
            if name.endswith(".dmn"):
                parser.add_dmn_xml(root, filename=name)
                continue
            parser.add_bpmn_xml(root, filename=name)
        except ValidationException as exc:
            raise ValidationFailed(_located(exc, name), field=name) from None
        for (element_id, fact) in read_facts(root).items():
            facts[(fact.process_id, element_id)] = fact
        for message in root.xpath("//bpmn:message[bpmn:extensionElements/zeebe:subscription]", namespaces=NS):
            key = message.xpath("string(bpmn:extensionElements/zeebe:subscription/@correlationKey)", namespaces=NS)
            if message.get("name") and key:
                message_keys[message.get("name")] = key
        for pid in parser.get_process_ids():
            if pid not in process_ids:
                process_ids.append(pid)
                version_tags[pid] = process_version_tag(root, pid)
                sources[pid] = name
    return ProcessBundle(bundle_key(files), parser, facts, process_ids, version_tags, sources, message_keys)


class BundleCache:
    """Parsed bundles by content hash: a version is parsed once per process, not once per request."""

    def __init__(self, size: int = 16):
        self._size = size
        self._items: dict[str, ProcessBundle] = {}
        self._lock = threading.Lock()

    def get(self, files: Mapping[str, bytes]) -> ProcessBundle:
        key = bundle_key(files)
        with self._lock:
            found = self._items.get(key)
        if found is not None:
            return found
        bundle = load_bundle(files)
        with self._lock:
            if len(self._items) >= self._size:
                self._items.pop(next(iter(self._items)))
            self._items[key] = bundle
        return bundle
