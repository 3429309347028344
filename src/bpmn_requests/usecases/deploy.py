"""Validate and deploy `processes/` and `forms/` as a new version when they changed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..domain.errors import ValidationFailed
from ..engine.validation import Problem, check_diagrams
from ..forms import FormCatalog
from .context import Services, form_files


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


def check_files(files: dict[str, bytes], services: Services) -> list[Problem]:
    """Every problem in a set of diagrams and forms (what `validate` prints and `deploy` refuses)."""
    catalog = FormCatalog(form_files(files))
    problems = [Problem(f"forms/{p.source}.form" if not p.source.endswith(".form") else p.source, 0,
                        p.component_id or "", p.key or "", p.message) for p in catalog.problems()]
    valid_forms = set(catalog.ids())
    problems += check_diagrams(files, lambda topic: topic in services.registry,
                               lambda form_id: form_id in valid_forms)
    return problems


@dataclass(frozen=True)
class Deployed:
    deployment_id: int
    changed: bool
    files: tuple[str, ...]
    warnings: tuple[Problem, ...] = ()


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
        uow.audit.record(deployed_by, "deployment.created", f"deployment:{deployment.id}", None,
                         {"changed": changed, "hashes": deployment.hashes})
        uow.commit()
    return Deployed(deployment.id, True, tuple(changed), tuple(p for p in problems if p.severity == "warning"))
