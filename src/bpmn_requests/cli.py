"""The `bpmn-requests` command: the same use cases as the web and the API, from a terminal."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .cli_common import Context, command
from .cli_ops import incidents_group, messages_group
from .cli_outbox import outbox
from .cli_output import console, emit_json
from .cli_requests import audit, demo, requests_group, tasks_group
from .cli_scenarios import test_scenarios
from .cli_serve import serve
from .cli_templates import element_templates
from .cli_tokens import tokens_group
from .cli_versions import migrate_group, versions_group
from .cli_workers import scheduler, worker


@click.group()
@click.option("--json", "json_output", is_flag=True, help="machine-readable output for every command")
@click.pass_context
def main(click_ctx: click.Context, json_output: bool) -> None:
    """bpmn-requests: customer requests run as BPMN processes, with their financial effect booked."""
    click_ctx.obj = Context(json_output)


@main.command()
@click.option("--demo", is_flag=True, help="load demo users, customers, invoices and payments")
@command
def init(ctx: Context, demo: bool) -> None:
    """Create or upgrade the schema and deploy processes/ and forms/."""
    from .bootstrap import initialize
    report = initialize(ctx.system, demo=demo)
    if ctx.json:
        emit_json(report)
        return
    console.print(f"database {report['database']}: schema up to date")
    if demo:
        console.print(f"demo data {report['demo']} (staff users alice, bob, carol, dave, erin, frank, grace, "
                      f"admin; password 'demo')")
    console.print(f"deployment {report['deployment']}: {report['deployed']}")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@command
def validate(ctx: Context, paths: tuple[Path, ...]) -> None:
    """Check diagrams, decision tables and forms; report problems by file, line and element."""
    from .validate_paths import validate_paths
    problems = validate_paths(list(paths), ctx.services)
    errors = [p for p in problems if p.severity == "error"]
    if ctx.json:
        emit_json({"ok": not errors, "problems": [p.__dict__ for p in problems]})
    else:
        for problem in problems:
            console.print(str(problem), markup=False)
        console.print(f"{len(errors)} error(s), {len(problems) - len(errors)} warning(s)")
    if errors:
        sys.exit(1)


@main.command()
@click.option("--as", "actor", default="admin", show_default=True, help="who deploys")
@command
def deploy(ctx: Context, actor: str) -> None:
    """Record processes/ and forms/ as a new version when they changed."""
    from .usecases.deploy import collect_files
    from .usecases.deploy import deploy as deploy_files
    settings = ctx.system.settings
    result = deploy_files(collect_files(settings.processes_dir, settings.forms_dir), actor, ctx.services)
    if ctx.json:
        emit_json({"deployment": result.deployment_id, "changed": result.changed, "files": list(result.files)})
    elif result.changed:
        console.print(f"deployment {result.deployment_id}: {', '.join(result.files)}")
    else:
        console.print(f"nothing changed; deployment {result.deployment_id} stays active")


main.add_command(requests_group)
main.add_command(tasks_group)
main.add_command(audit)
main.add_command(demo)
main.add_command(serve)
main.add_command(element_templates)
main.add_command(test_scenarios)
main.add_command(outbox)
main.add_command(tokens_group)
main.add_command(versions_group)
main.add_command(migrate_group)
main.add_command(worker)
main.add_command(scheduler)
main.add_command(messages_group)
main.add_command(incidents_group)
