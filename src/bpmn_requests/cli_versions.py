"""`bpmn-requests versions` and `bpmn-requests migrate`: process versions, rollback, moving running instances."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from .cli_common import Context, command
from .cli_output import console, emit_json, table
from .domain.errors import ValidationFailed


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    from .drawing.highlights import format_duration
    return format_duration(seconds)


@click.group("versions")
def versions_group() -> None:
    """Process versions: list, show with a heatmap, compare; make a deployment active again."""


@versions_group.command("list")
@click.option("--process", "process_id", default=None, help="only this process")
@command
def list_(ctx: Context, process_id: str | None) -> None:
    """Every version of every process, with its tag, who deployed it and its instances."""
    from .usecases.versions import list_versions
    found = list_versions(ctx.services, process_id)
    if ctx.json:
        emit_json([asdict(v) for v in found])
        return
    table("Process versions", ["process", "version", "tag", "deployment", "deployed by", "deployed at",
                               "active", "running", "completed"],
          [[v.process_id, v.version, v.version_tag or "", v.deployment_id, v.deployed_by, _when(v.created_at),
            "yes" if v.active else "", v.running, v.completed] for v in found])


@versions_group.command("show")
@click.argument("process_id")
@click.argument("version", type=int, required=False)
@click.option("--svg", "svg_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write the diagram with its heatmap to this SVG file")
@command
def show(ctx: Context, process_id: str, version: int | None, svg_file: Path | None) -> None:
    """One version (the newest without VERSION): files, and where its instances wait and for how long."""
    from .usecases.versions import heatmap_svg, show_version
    detail = show_version(process_id, version, ctx.services)
    if svg_file is not None:
        svg = heatmap_svg(detail)
        if svg is None:
            raise ValidationFailed(f"{detail.summary.file_name} has no drawing (BPMNDI) to write", field="svg")
        svg_file.write_text(svg, encoding="utf-8")
    if ctx.json:
        emit_json({k: v for k, v in asdict(detail).items() if k != "diagram"})
        return
    v = detail.summary
    console.print(f"[bold]{v.process_id} version {v.version}[/bold]{' (' + v.version_tag + ')' if v.version_tag else ''}"
                  f" - deployment {v.deployment_id} by {v.deployed_by} at {_when(v.created_at)}"
                  f"{' - active' if v.active else ''}; {v.running} running, {v.completed} completed")
    console.print(f"carried by deployment(s) {', '.join(map(str, detail.deployments))}")
    table("Files", ["file", "sha256"], sorted(detail.files.items()))
    heated = sorted(set(detail.waiting) | set(detail.durations))
    table("Heatmap", ["element", "name", "waiting now", "average time", "completed tasks"],
          [[e, detail.elements[e].name if e in detail.elements else "", detail.waiting.get(e, 0),
            _duration(detail.durations.get(e)), detail.samples.get(e, 0)] for e in heated])
    if svg_file is not None:
        console.print(f"diagram written to {svg_file}")


def _value(value: Any) -> str:
    if isinstance(value, tuple | list):
        return ", ".join(map(str, value))
    return "" if value is None else str(value)


@versions_group.command("diff")
@click.argument("process_id")
@click.argument("a", type=int)
@click.argument("b", type=int)
@command
def diff(ctx: Context, process_id: str, a: int, b: int) -> None:
    """What changed in PROCESS from version A to version B: elements, forms, other files."""
    from .usecases.versions import diff_versions
    found = diff_versions(process_id, a, b, ctx.services)
    if ctx.json:
        emit_json(asdict(found))
        return
    console.print(f"[bold]{process_id}[/bold] version {a} (deployment {found.a.deployment_id}) -> "
                  f"version {b} (deployment {found.b.deployment_id})")
    rows = [["added", e.element_id, e.kind, e.name, ""] for e in found.added]
    rows += [["removed", e.element_id, e.kind, e.name, ""] for e in found.removed]
    rows += [["changed", c.element_id, c.kind, c.name,
              "; ".join(f"{k}: {_value(old)} -> {_value(new)}" for k, (old, new) in c.changes.items())]
             for c in found.changed]
    table("Elements", ["change", "element", "type", "name", "what"], rows)
    table("Forms and other files", ["change", "file", "sha256 before", "sha256 after"],
          [[f.change, f.name, f.before or "", f.after or ""] for f in (*found.forms, *found.files)])


@versions_group.command("activate")
@click.argument("deployment_id", type=int)
@click.option("--as", "actor", default="admin", show_default=True, help="who activates it (for the audit trail)")
@command
def activate(ctx: Context, deployment_id: int, actor: str) -> None:
    """Make a deployment the one new requests start on (rollback); running requests keep theirs."""
    from .usecases.versions import activate_deployment
    result = activate_deployment(deployment_id, actor, ctx.services)
    if ctx.json:
        emit_json(asdict(result))
    elif result.changed:
        console.print(f"deployment {result.deployment_id} is active (was {result.previous}); new requests start on it")
    else:
        console.print(f"deployment {result.deployment_id} is active already")


@click.group("migrate")
def migrate_group() -> None:
    """Move running requests from one deployment to another."""


@migrate_group.command("check")
@click.option("--from", "from_id", type=int, required=True, help="the deployment the requests run on")
@click.option("--to", "to_id", type=int, required=True, help="the deployment to move them to")
@command
def check(ctx: Context, from_id: int, to_id: int) -> None:
    """Whether each running request of --from can move to --to, and why not."""
    from .usecases.migration import check_migration
    plan = check_migration(from_id, to_id, ctx.services)
    if ctx.json:
        emit_json({**asdict(plan), "safe": len(plan.safe), "unsafe": len(plan.unsafe)})
        return
    table(f"Deployment {from_id} -> {to_id}", ["request", "instance", "waiting at", "safe", "why not"],
          [[i.reference, i.instance_id, ", ".join(i.waiting_at), "yes" if i.safe else "no", "; ".join(i.reasons)]
           for i in plan.instances])
    console.print(f"{len(plan.safe)} can move, {len(plan.unsafe)} cannot")


@migrate_group.command("run")
@click.option("--from", "from_id", type=int, required=True, help="the deployment the requests run on")
@click.option("--to", "to_id", type=int, required=True, help="the deployment to move them to")
@click.option("--instance", "instance_id", default=None, help="move this instance only")
@click.option("--all-safe", is_flag=True, help="move every instance the check finds safe")
@click.option("--as", "actor", default="admin", show_default=True, help="who moves them (for the audit trail)")
@command
def run(ctx: Context, from_id: int, to_id: int, instance_id: str | None, all_safe: bool, actor: str) -> None:
    """Move one instance (--instance) or every safe one (--all-safe), each in its own transaction."""
    from .usecases.migration import migrate_all_safe, migrate_instance
    if (instance_id is None) == (not all_safe):
        raise ValidationFailed("name one instance with --instance, or move every safe one with --all-safe",
                               field="instance")
    if instance_id is not None:
        results = [migrate_instance(instance_id, to_id, actor, ctx.services, from_id=from_id)]
    else:
        results = migrate_all_safe(from_id, to_id, actor, ctx.services)
    if ctx.json:
        emit_json([asdict(r) for r in results])
        return
    table(f"Deployment {from_id} -> {to_id}", ["request", "instance", "moved", "open tasks now", "why not"],
          [[r.reference, r.instance_id, "yes" if r.moved else "no", ", ".join(r.tasks), r.reason or ""]
           for r in results])
    console.print(f"{sum(r.moved for r in results)} moved, {sum(not r.moved for r in results)} left where they are")
