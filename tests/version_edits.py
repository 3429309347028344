"""Edit a copy of processes/ and forms/ the way an analyst would in the modeler, then deploy it.

The copy keeps the folder names `processes` and `forms`, so its files have the same names as the
originals in a deployment and only what an edit touched counts as changed.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

from lxml import etree
from support import ROOT

from bpmn_requests.usecases.context import Services
from bpmn_requests.usecases.deploy import Deployed, collect_files, deploy

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

Edit = Callable[[etree._ElementTree], None]


class Sources:
    """A copy of processes/ and forms/ under `base`, edited in place between deployments."""

    def __init__(self, base: Path):
        self.processes, self.forms = base / "processes", base / "forms"
        shutil.copytree(ROOT / "processes", self.processes)
        shutil.copytree(ROOT / "forms", self.forms)

    def edit(self, file: str, *edits: Edit) -> None:
        path = self.processes / file
        tree = etree.parse(str(path))
        for change in edits:
            change(tree)
        tree.write(str(path), xml_declaration=True, encoding="UTF-8")

    def copy_form(self, form_id: str, new_id: str, label: str = "Decision (new version)") -> None:
        """A new form file `new_id`, the same as `form_id` with its first label changed."""
        self.forms.joinpath(f"{new_id}.form").write_text(self._relabelled(form_id, new_id, label), encoding="utf-8")

    def change_form(self, form_id: str, label: str) -> None:
        self.forms.joinpath(f"{form_id}.form").write_text(self._relabelled(form_id, form_id, label),
                                                           encoding="utf-8")

    def remove_form(self, form_id: str) -> None:
        self.forms.joinpath(f"{form_id}.form").unlink()

    def _relabelled(self, form_id: str, new_id: str, label: str) -> str:
        definition = json.loads(self.forms.joinpath(f"{form_id}.form").read_text(encoding="utf-8"))
        definition["id"] = new_id
        labelled = next(c for c in definition["components"] if c.get("label"))
        labelled["label"] = label
        return json.dumps(definition, indent=2)

    def deploy(self, services: Services, by: str = "admin") -> Deployed:
        return deploy(collect_files(self.processes, self.forms), by, services)

    def sha256(self, file: str) -> str:
        return hashlib.sha256((self.processes / file).read_bytes()).hexdigest()


def _node(tree: etree._ElementTree, element_id: str) -> etree._Element:
    [found] = tree.xpath(f"//*[@id='{element_id}']")
    return found


def _di(tree: etree._ElementTree, element_id: str) -> list[etree._Element]:
    return list(tree.xpath(f"//*[@bpmnElement='{element_id}']"))


def rename(element_id: str, name: str) -> Edit:
    def change(tree: etree._ElementTree) -> None:
        _node(tree, element_id).set("name", name)
    return change


def change_id(element_id: str, new_id: str) -> Edit:
    """A new id for an element, with every reference to it (flows, drawing) following."""

    def change(tree: etree._ElementTree) -> None:
        _node(tree, element_id).set("id", new_id)
        for attribute in ("sourceRef", "targetRef", "bpmnElement"):
            for node in tree.xpath(f"//*[@{attribute}='{element_id}']"):
                node.set(attribute, new_id)
    return change


def version_tag(process_id: str, tag: str) -> Edit:
    def change(tree: etree._ElementTree) -> None:
        _node(tree, process_id).set(f"{{{CAMUNDA}}}versionTag", tag)
    return change


def condition(flow_id: str, expression: str) -> Edit:
    def change(tree: etree._ElementTree) -> None:
        flow = _node(tree, flow_id)
        found = flow.find(f"{{{BPMN}}}conditionExpression")
        if found is None:
            found = etree.SubElement(flow, f"{{{BPMN}}}conditionExpression",
                                     {f"{{{XSI}}}type": "bpmn:tFormalExpression"})
        found.text = expression
    return change


def form(element_id: str, form_id: str) -> Edit:
    def change(tree: etree._ElementTree) -> None:
        _node(tree, element_id).set(f"{{{CAMUNDA}}}formRef", form_id)
    return change


def insert_after(element_id: str, new_id: str, name: str) -> Edit:
    """A script task right after `element_id` (on its one outgoing flow) that sets `passed_<new_id>`."""

    def change(tree: etree._ElementTree) -> None:
        node = _node(tree, element_id)
        process = node.getparent()
        [outgoing] = node.findall(f"{{{BPMN}}}outgoing")
        flow = _node(tree, outgoing.text or "")
        new_flow = f"Flow_{element_id}To{new_id}"
        task = etree.SubElement(process, f"{{{BPMN}}}scriptTask", id=new_id, name=name, scriptFormat="python")
        etree.SubElement(task, f"{{{BPMN}}}incoming").text = new_flow
        etree.SubElement(task, f"{{{BPMN}}}outgoing").text = flow.get("id")
        etree.SubElement(task, f"{{{BPMN}}}script").text = f"passed_{new_id} = True"
        etree.SubElement(process, f"{{{BPMN}}}sequenceFlow", id=new_flow, sourceRef=element_id, targetRef=new_id)
        outgoing.text = new_flow
        flow.set("sourceRef", new_id)
        shapes = [s for s in _di(tree, element_id) if s.find(f"{{{DC}}}Bounds") is not None]
        if shapes:  # drawn below the element it follows
            bounds = shapes[0].find(f"{{{DC}}}Bounds")
            x, y = float(bounds.get("x", "0")), float(bounds.get("y", "0")) + 130
            shape = etree.SubElement(shapes[0].getparent(), f"{{{BPMNDI}}}BPMNShape", id=f"{new_id}_di",
                                     bpmnElement=new_id)
            etree.SubElement(shape, f"{{{DC}}}Bounds", x=str(x), y=str(y), width="100", height="80")

    return change


def remove(element_id: str) -> Edit:
    """Take out an element with one incoming and one outgoing flow; the incoming flow goes on to its target."""

    def change(tree: etree._ElementTree) -> None:
        node = _node(tree, element_id)
        [incoming] = node.findall(f"{{{BPMN}}}incoming")
        [outgoing] = node.findall(f"{{{BPMN}}}outgoing")
        flow_in, flow_out = _node(tree, incoming.text or ""), _node(tree, outgoing.text or "")
        target = _node(tree, flow_out.get("targetRef", ""))
        flow_in.set("targetRef", target.get("id", ""))
        for ref in target.findall(f"{{{BPMN}}}incoming"):
            if ref.text == flow_out.get("id"):
                ref.text = flow_in.get("id")
        for gone in (node, flow_out, *_di(tree, element_id), *_di(tree, flow_out.get("id", ""))):
            gone.getparent().remove(gone)
        for edge in _di(tree, flow_in.get("id", "")):
            for waypoint in edge.findall(f"{{{DI}}}waypoint")[1:-1]:
                edge.remove(waypoint)

    return change


def without_boundary_events(element_id: str) -> Edit:
    """Take out the boundary events on `element_id` and what only they lead to, as the modeler does when an
    analyst deletes the element (say, its answer-period timer with the closing script and end event after it)."""

    def change(tree: etree._ElementTree) -> None:
        gone: set[str] = set()
        waiting = [str(b.get("id")) for b in tree.xpath(f"//*[@attachedToRef='{element_id}']")]
        while waiting:
            node_id = waiting.pop()
            gone.add(node_id)
            for flow_id in tree.xpath(f"//*[@id='{node_id}']/*[local-name()='outgoing']/text()"):
                gone.add(str(flow_id))
                [flow] = tree.xpath(f"//*[@id='{flow_id}']")
                target = str(flow.get("targetRef"))
                if all(ref in gone for ref in tree.xpath(f"//*[@id='{target}']/*[local-name()='incoming']/text()")):
                    waiting.append(target)
        for item in gone:
            for node in tree.xpath(f"//*[@id='{item}' or @bpmnElement='{item}']"):
                node.getparent().remove(node)
        for ref in tree.iter(f"{{{BPMN}}}incoming", f"{{{BPMN}}}outgoing"):
            if ref.text in gone:
                ref.getparent().remove(ref)

    return change
