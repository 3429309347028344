"""`bpmn-requests test-scenarios`: run each diagram's scenario file and report results and coverage."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from .cli_common import Context, command
from .cli_output import console, emit_json, table


def _preparer(forms_dir: Path | None) -> Any:
    """User-task data goes through the task's form, as in the inbox: typed, checked, hidden fields dropped."""
    if forms_dir is None or not forms_dir.is_dir():
        return None
    from .forms import FormCatalog, validate_submission
    catalog = FormCatalog.from_directory(forms_dir)

    def prepare(form_id: str | None, data: dict[str, Any], task_data: dict[str, Any]) -> dict[str, Any]:
        if form_id is None:
            return data
        return dict(validate_submission(catalog.get(form_id), data, context=task_data))

    return prepare


@click.command("test-scenarios")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--forms", "forms_dir", type=click.Path(file_okay=False, path_type=Path),
              help="check user-task data against these Camunda Forms (default: the configured forms/)")
@click.option("--require-coverage", is_flag=True, help="also fail when an element of a diagram is not reached")
@command
def test_scenarios(ctx: Context, paths: tuple[Path, ...], forms_dir: Path | None, require_coverage: bool) -> None:
    """Run the <diagram>.scenarios.json files of diagrams (default: the configured processes/)."""
    from .config import Settings
    from .engine.scenarios import run_diagrams
    settings = Settings.from_env()
    report = run_diagrams(list(paths) or [settings.processes_dir], _preparer(forms_dir or settings.forms_dir))
    if ctx.json:
        emit_json({
            "ok": not report.failed and (report.fully_covered or not require_coverage),
            "scenarios": [{"diagram": r.diagram, "name": r.name, "passed": r.passed, "difference": r.difference,
                           "end_event": r.end_event, "visited": list(r.visited)} for r in report.results],
            "coverage": [{"diagram": c.diagram, "elements": len(c.elements), "reached": len(c.reached),
                          "percent": round(c.percent, 1), "note": c.note,
                          "missing": [{"id": m, "tag": c.elements[m][0], "name": c.elements[m][1]}
                                      for m in c.missing]} for c in report.coverage],
        })
    else:
        for result in report.results:
            verdict = "PASS" if result.passed else "FAIL"
            line = f"{verdict} {result.diagram}: {result.name}"
            console.print(line + (f"\n     {result.difference}" if result.difference else ""), markup=False)
        table("Coverage", ["diagram", "reached", "not reached by any scenario"],
              [(c.diagram, f"{len(c.reached)}/{len(c.elements)} ({c.percent:.0f}%)",
                c.note or ", ".join(f"{m} ({c.elements[m][1] or c.elements[m][0]})" for m in c.missing) or "-")
               for c in report.coverage])
        console.print(f"{len(report.results) - len(report.failed)} passed, {len(report.failed)} failed",
                      markup=False)
    if report.failed or (require_coverage and not report.fully_covered):
        sys.exit(1)
