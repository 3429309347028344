"""The form catalog: forms of a deployed version looked up by id, with every file's problems reported."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from bpmn_requests.domain.errors import NotFound
from bpmn_requests.forms import FormCatalog, FormError, FormNotFound

FORMS = Path(__file__).resolve().parents[2] / "forms"


def form_text(form_id: str, *components: Mapping[str, object]) -> str:
    return json.dumps({"components": [dict(c) for c in components], "type": "default", "id": form_id, "schemaVersion": 16})


GOOD = {"type": "textfield", "id": "Field_note", "key": "note"}


def test_the_shipped_folder_loads_without_problems() -> None:
    catalog = FormCatalog.from_directory(FORMS)
    assert catalog.problems() == []
    assert "approval" in catalog.ids() and catalog.get("approval").id == "approval"


def test_a_catalog_is_built_from_a_deployed_versions_files() -> None:
    catalog = FormCatalog({"review": form_text("review", GOOD), "approval.form": form_text("approval", GOOD)})
    assert catalog.ids() == ["approval", "review"]
    assert catalog.get("review").components[0].key == "note"
    assert "review" in catalog and "other" not in catalog


def test_an_unknown_form_id_is_not_found_and_named() -> None:
    catalog = FormCatalog({"review": form_text("review", GOOD)})
    with pytest.raises(FormNotFound) as raised:
        catalog.get("reveiw")
    assert "'reveiw'" in str(raised.value) and "review" in str(raised.value)
    assert isinstance(raised.value, NotFound)


def test_problems_list_every_problem_of_every_file() -> None:
    catalog = FormCatalog({
        "good": form_text("good", GOOD),
        "broken": "{ not json",
        "bad": form_text("bad", {"type": "html", "id": "Field_h"}, {"type": "select", "id": "Field_s", "key": "s"}),
    })
    problems = catalog.problems()
    assert [(p.source, p.component_id) for p in problems] == [
        ("bad.form", "Field_h"), ("bad.form", "Field_s"), ("broken.form", None)]
    assert catalog.ids() == ["bad", "broken", "good"]


def test_getting_a_broken_form_raises_its_problems() -> None:
    catalog = FormCatalog({"bad": form_text("bad", {"type": "html", "id": "Field_h"})})
    with pytest.raises(FormError) as raised:
        catalog.get("bad")
    assert raised.value.problems[0].component_id == "Field_h"


def test_a_form_id_must_equal_its_file_name() -> None:
    catalog = FormCatalog({"review": form_text("Form_0x1y2z", GOOD)})
    (problem,) = catalog.problems()
    assert problem.source == "review.form" and "'Form_0x1y2z' must equal the file name 'review'" in problem.message


def test_from_directory_reads_form_files_only_and_reports_unreadable_ones(tmp_path: Path) -> None:
    (tmp_path / "review.form").write_text(form_text("review", GOOD), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a form", encoding="utf-8")
    (tmp_path / "latin.form").write_bytes(b'{"id": "latin", "text": "\xe9"}')
    catalog = FormCatalog.from_directory(tmp_path)
    assert catalog.ids() == ["latin", "review"]
    (problem,) = catalog.problems()
    assert problem.source == "latin.form" and "cannot be read" in problem.message


def test_a_missing_directory_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        FormCatalog.from_directory(tmp_path / "missing")
