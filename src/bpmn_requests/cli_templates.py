"""`bpmn-requests element-templates`: the Camunda Modeler element templates of every registered service task."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .cli_common import Context, command
from .cli_output import console


@click.command("element-templates")
@click.option("--output", "output", type=click.Path(dir_okay=False, path_type=Path),
              help="write the templates to this file (put it in Camunda Modeler's resources/element-templates)")
@command
def element_templates(ctx: Context, output: Path | None) -> None:
    """Print (or write) a Camunda Modeler element-templates file with one template per service task."""
    from .service_tasks import build_registry
    from .service_tasks.templates import build_templates
    templates = build_templates(build_registry())
    text = json.dumps(templates, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    if ctx.json:
        click.echo(json.dumps({"file": str(output), "templates": [t["id"] for t in templates]}))
    else:
        console.print(f"{len(templates)} element templates written to {output}", markup=False)
