"""Real diagrams from other modelers (the BPMN MIWG test suite) through the same check `validate` runs.

Each file alone is either accepted or refused with element-level reasons; none may crash the validator.
The data set lives outside the repository; without it these tests skip with a message.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

import pytest
from testenv import ROOT, SHARED

from bpmn_requests.engine.validation import Problem, check_diagrams
from bpmn_requests.forms import FormCatalog
from bpmn_requests.service_tasks import build_registry

MIWG = Path(os.environ.get("BPMN_TESTS_MIWG", SHARED / "data" / "bpmn-miwg"))
FILES = sorted(MIWG.rglob("*.bpmn")) if MIWG.is_dir() else []

pytestmark = pytest.mark.skipif(not FILES, reason=f"the BPMN MIWG diagrams are not at {MIWG} "
                                                  f"(set BPMN_TESTS_MIWG to their folder)")


def _validate_each() -> dict[Path, tuple[list[Problem] | BaseException, float]]:
    registry = build_registry()
    forms = set(FormCatalog.from_directory(ROOT / "forms").ids())
    answers: dict[Path, tuple[list[Problem] | BaseException, float]] = {}
    for path in FILES:
        started = time.perf_counter()
        try:
            answer: list[Problem] | BaseException = check_diagrams(
                {path.name: path.read_bytes()}, lambda topic: topic in registry, lambda form: form in forms,
                topics=registry.topics(), forms=sorted(forms))
        except Exception as exc:  # noqa: BLE001 - a crash is what this test looks for
            answer = exc
        answers[path] = (answer, time.perf_counter() - started)
    return answers


@pytest.fixture(scope="module")
def answers() -> dict[Path, tuple[list[Problem] | BaseException, float]]:
    return _validate_each()


def _name(path: Path) -> str:
    return str(path.relative_to(MIWG))


def test_every_diagram_is_answered_without_crashing(answers: dict[Path, tuple[object, float]]) -> None:
    crashed = {_name(p): f"{type(a).__name__}: {a}" for p, (a, _) in answers.items() if isinstance(a, BaseException)}
    assert not crashed, crashed
    assert len(answers) == len(FILES)
    for answer, _ in answers.values():
        assert isinstance(answer, list) and all(isinstance(p, Problem) for p in answer)
        assert all(p.severity in ("error", "warning") and p.message for p in answer)


def test_every_refusal_names_an_element_or_a_line(answers: dict[Path, tuple[object, float]]) -> None:
    unlocated = []
    for path, (answer, _) in answers.items():
        found = [p for p in answer if isinstance(p, Problem) and p.severity == "error"] if isinstance(answer, list) else []
        if found and not any(p.element_id or p.line for p in found):
            unlocated.append(_name(path))
    assert not unlocated, unlocated


def test_report_accepted_refused_reasons_and_the_slowest(answers: dict[Path, tuple[object, float]],
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    refused = Counter[str]()
    accepted = 0
    for answer, _ in answers.values():
        errors = [p for p in answer if p.severity == "error"] if isinstance(answer, list) else []
        accepted += not errors
        refused.update({p.rule for p in errors})
    slowest = sorted(answers.items(), key=lambda item: item[1][1], reverse=True)[:5]
    with capsys.disabled():
        print(f"\nMIWG: {len(answers)} diagrams, {accepted} accepted, {len(answers) - accepted} refused")
        print("refusal reasons (diagrams with at least one): "
              + ", ".join(f"{rule} {count}" for rule, count in refused.most_common()))
        print("slowest: " + ", ".join(f"{_name(path)} {seconds * 1000:.0f} ms" for path, (_, seconds) in slowest))
    assert accepted + sum(1 for a, _ in answers.values() if isinstance(a, list) and
                          any(p.severity == "error" for p in a)) == len(answers)
