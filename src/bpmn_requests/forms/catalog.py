"""The forms of one deployed version (or of the `forms/` folder), parsed once and looked up by form id.

A catalog keeps every file's problems instead of stopping at the first broken file, so `validate` and
`deploy` can report all of them in one go.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..domain.errors import NotFound
from .components import FormDefinition, FormError, FormProblem
from .definition import parse_form

FORM_SUFFIX = ".form"


class FormNotFound(NotFound):
    """No form with that id in this catalog."""

    def __init__(self, form_id: str, known: list[str]):
        listed = ", ".join(known) or "none"
        super().__init__(f"no form with id {form_id!r} (forms available: {listed})", field="form_id")
        self.form_id = form_id


class FormCatalog:
    """Parsed forms by id; a broken file is kept as its problems."""

    def __init__(self, sources: Mapping[str, str]):
        """`sources` maps each form id (or file name ending in `.form`) to the file's text."""
        self._forms: dict[str, FormDefinition] = {}
        self._problems: dict[str, tuple[FormProblem, ...]] = {}
        for name, text in sorted(sources.items()):
            form_id = name.removesuffix(FORM_SUFFIX)
            self._add(form_id, f"{form_id}{FORM_SUFFIX}", text)

    @classmethod
    def from_directory(cls, directory: str | Path) -> FormCatalog:
        """Every `*.form` file of `directory`, read as UTF-8."""
        folder = Path(directory)
        if not folder.is_dir():
            raise NotFound(f"form folder {str(folder)!r} does not exist")
        sources: dict[str, str] = {}
        unreadable: list[FormProblem] = []
        for path in sorted(folder.glob(f"*{FORM_SUFFIX}")):
            try:
                sources[path.stem] = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                unreadable.append(FormProblem(path.name, None, None, f"cannot be read: {error}"))
        catalog = cls(sources)
        for problem in unreadable:
            catalog._problems[problem.source.removesuffix(FORM_SUFFIX)] = (problem,)
        return catalog

    def _add(self, form_id: str, source: str, text: str) -> None:
        try:
            form = parse_form(text, source)
        except FormError as error:
            self._problems[form_id] = error.problems
            return
        if form.id != form_id:
            # The id is how BPMN user tasks reference the form; a mismatch would load the wrong one.
            self._problems[form_id] = (FormProblem(source, None, None, f"the form id {form.id!r} must equal "
                                                                       f"the file name {form_id!r}"),)
            return
        self._forms[form_id] = form

    def ids(self) -> list[str]:
        """Every form id of the catalog, broken forms included, sorted."""
        return sorted(set(self._forms) | set(self._problems))

    def get(self, form_id: str) -> FormDefinition:
        """The form with this id; FormNotFound if there is none, FormError if its file is broken."""
        if form_id in self._forms:
            return self._forms[form_id]
        if form_id in self._problems:
            raise FormError(self._problems[form_id])
        raise FormNotFound(form_id, self.ids())

    def __contains__(self, form_id: object) -> bool:
        return form_id in self._forms or form_id in self._problems

    def problems(self) -> list[FormProblem]:
        """Every problem of every file, in file order; empty when all forms are usable."""
        return [problem for form_id in sorted(self._problems) for problem in self._problems[form_id]]
