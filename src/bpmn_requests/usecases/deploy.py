"""Validate and deploy `processes/` and `forms/` as a new version when they changed."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..domain.errors import ValidationFailed
from ..engine.bundle import bundle_key
from ..engine.validation import Problem, check_diagrams, screen_file
from ..forms import FormCatalog
from .context import Services
from .ports import Deployment
from .versions import record_versions


def collect_files(processes_dir: Path, forms_dir: Path) -> dict[str, bytes]:
    """{'processes/x.bpmn': bytes, 'forms/y.form': bytes}: what one deployment records."""
    files: dict[str, bytes] = {}
    for folder, patterns in ((processes_dir, ("*.bpmn", "*.dmn")), (forms_dir, ("*.form",))):
        if not folder.is_dir():
            raise ValidationFailed(f"{folder} is not a folder", field=str(folder))
        for pattern in patterns:
            for path in sorted(folder.glob(pattern)):
                files[f"{folder.name}/{path.name}"] = path.read_bytes()
    return files


def _readable_forms(files: dict[str, bytes]) -> tuple[dict[str, str], list[Problem]]:
    """{form id: text} of the .form files that are text; a problem for each that is not."""
    texts: dict[str, str] = {}
    problems: list[Problem] = []
    for name, content in sorted(files.items()):
        if not name.endswith(".form"):
            continue
        refused = screen_file(name, content, expect_xml=False)
        try:
            text = content.decode("utf-8") if refused is None else ""
        except UnicodeDecodeError:
            refused = Problem(name, 0, "", "", "not UTF-8 text: save the form again from the modeler", rule="form")
        if refused is not None:
            problems.append(refused)
        else:
            texts[name.rsplit("/", 1)[-1].removesuffix(".form")] = text
    return texts, problems


def _line_of(text: str, component_id: str | None) -> int:
    at = text.find(f'"{component_id}"') if component_id else -1
    return text.count("\n", 0, at) + 1 if at >= 0 else 0


# The answer depends only on the files and the registered topics; tests and `init` deploy the same set often.
_CHECKED: dict[tuple[str, tuple[str, ...]], list[Problem]] = {}
_LOCK = threading.Lock()


def check_files(files: dict[str, bytes], services: Services) -> list[Problem]:
    """Every problem in a set of diagrams and forms (what `validate` prints and `deploy` refuses)."""
    key = (bundle_key(files), tuple(services.registry.topics()))
    with _LOCK:
        found = _CHECKED.get(key)
    if found is None:
        found = _check(files, services)
        with _LOCK:
            if len(_CHECKED) >= 8:
                _CHECKED.pop(next(iter(_CHECKED)))
            _CHECKED[key] = found
    return list(found)


def _check(files: dict[str, bytes], services: Services) -> list[Problem]:
    texts, problems = _readable_forms(files)
    catalog = FormCatalog(texts)
    broken: dict[str, str] = {}
    for p in catalog.problems():
        form_id = p.source.removesuffix(".form")
        broken.setdefault(form_id, p.message)
        problems.append(Problem(f"forms/{form_id}.form", _line_of(texts.get(form_id, ""), p.component_id),
                                p.component_id or "", p.key or "", p.message, rule="form"))
    valid_forms = sorted(set(catalog.ids()) - set(broken))
    problems += check_diagrams(files, lambda topic: topic in services.registry,
                               lambda form_id: form_id in valid_forms, topics=services.registry.topics(),
                               forms=valid_forms, form_problems=broken)
    return problems


@dataclass(frozen=True)
class Deployed:
    deployment_id: int
    changed: bool
    files: tuple[str, ...]
    warnings: tuple[Problem, ...] = ()
    versions: dict[str, int] = field(default_factory=dict)  # process id -> its new version number


def deploy(files: dict[str, bytes], deployed_by: str, services: Services) -> Deployed:
    """Record the files as the active version, or say nothing changed. Refuses any file with an error."""
    problems = check_files(files, services)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ValidationFailed(f"{len(errors)} problem(s), nothing deployed:\n" + "\n".join(map(str, errors)),
                               field_errors={f"{p.file}:{p.line}": p.message for p in errors})
    if not any(name.endswith(".bpmn") for name in files):
        raise ValidationFailed("no .bpmn file to deploy", field="processes")
    with services.uow() as uow:
        active = uow.deployments.active()
        if active is not None and active.files == files:
            return Deployed(active.id, False, tuple(sorted(files)))
        deployment = uow.deployments.add(files, deployed_by)
        changed = sorted(n for n in files if active is None or active.hashes.get(n) != deployment.hashes[n])
        versions = record_versions(uow, deployment, services)
        uow.audit.record(deployed_by, "deployment.created", f"deployment:{deployment.id}", None,
                         {"changed": changed, "hashes": deployment.hashes, "versions": versions})
        uow.commit()
    return Deployed(deployment.id, True, tuple(changed), tuple(p for p in problems if p.severity == "warning"),
                    versions)


@dataclass(frozen=True)
class ProcessVersion:
    deployment: Deployment
    active: bool  # new requests start on the active version; running ones keep theirs


def process_versions(services: Services) -> list[ProcessVersion]:
    """Every deployed version, newest first."""
    with services.uow() as uow:
        active = uow.deployments.active()
        return [ProcessVersion(d, active is not None and d.id == active.id)
                for d in reversed(uow.deployments.list())]
