"""Loops in the sequence-flow graph: each back edge is reported once, at the element the loop returns to.

SpiffWorkflow 3.2.0 adds every pass through a loop as a deeper level of its task tree, and its task
iteration stops at depth 1000: a gateway loop that repeats a few hundred times stops advancing (the runner
then fails loudly). Loops are fine for rework that happens a handful of times, so they are warnings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from lxml import etree

from .validation_base import WARNING, Document, Problem, bpmn, local
from .validation_rules import SCOPES

LOOP_LIMIT = ("the engine's task iteration stops at depth 1000: a loop that repeats more than ~450 times "
              "fails; keep rework loops short, or start a new request for open-ended repetition")


def _edges(scope: etree._Element) -> dict[str, list[tuple[str, str]]]:
    """Source id -> [(target id, flow id)] for the flows drawn directly in `scope`."""
    edges: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for flow in scope:
        if local(flow) == "sequenceFlow":
            edges[flow.get("sourceRef", "")].append((flow.get("targetRef", ""), flow.get("id", "")))
    for event in scope:
        if local(event) == "boundaryEvent" and event.get("attachedToRef"):
            edges[event.get("attachedToRef", "")].append((event.get("id", ""), ""))
    return edges


def _back_edges(edges: dict[str, list[tuple[str, str]]], order: list[str]) -> list[tuple[str, str, str]]:
    """(source, target, flow) of every edge that closes a cycle, by an iterative depth-first search."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    found = []
    for start in order:
        if start in state:
            continue
        stack = [(start, iter(edges.get(start, [])))]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            step = next(children, None)
            if step is None:
                state[node] = 2
                stack.pop()
                continue
            target, flow = step
            if state.get(target) == 1:
                found.append((node, target, flow))
            elif target not in state:
                state[target] = 1
                stack.append((target, iter(edges.get(target, []))))
    return found


def loop_problems(doc: Document) -> Iterator[Problem]:
    for process in doc.executable_processes():
        for scope in [process, *process.iter(*(bpmn(tag) for tag in SCOPES - {"process"}))]:
            edges = _edges(scope)
            starts = [n.get("id", "") for n in scope if local(n) == "startEvent"]
            order = starts + [n.get("id", "") for n in scope if n.get("id")]
            for source, target, flow in _back_edges(edges, order):
                node = doc.by_id.get(target)
                if node is None:
                    continue
                via = f"flow {flow} from {source}" if flow else f"{source}"
                yield doc.at(node, f"a loop comes back here ({via}): {LOOP_LIMIT}", "loop", WARNING)
