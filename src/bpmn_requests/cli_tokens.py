"""`bpmn-requests tokens`: API tokens from the command line (create shows the token once)."""

from __future__ import annotations

from typing import Any

import click

from .cli_common import Context, command
from .cli_output import console, emit_json, table


def _token_json(token: Any) -> dict[str, Any]:
    return {"id": token.id, "username": token.username, "name": token.name, "created_at": token.created_at,
            "last_used_at": token.last_used_at, "revoked_at": token.revoked_at}


@click.group("tokens")
def tokens_group() -> None:
    """Create, list and revoke API tokens."""


@tokens_group.command("create")
@click.option("--user", "username", required=True, help="the staff user the token acts as")
@click.option("--name", required=True, help="what the token is for, e.g. 'ERP integration'")
@click.option("--as", "actor", default="admin", show_default=True, help="who creates it (for the audit trail)")
@command
def create(ctx: Context, username: str, name: str, actor: str) -> None:
    """Create a token; it is printed this once and only its sha256 is kept."""
    from .usecases.tokens import create_token
    created = create_token(username, name, actor, ctx.services)
    if ctx.json:
        emit_json({"token": created.token, **_token_json(created.info)})
        return
    console.print(f"token {created.info.id} for {username} ({created.info.name}); copy it now, it is not shown again:")
    click.echo(created.token)


@tokens_group.command("list")
@click.option("--user", "username", default=None, help="only this user's tokens")
@command
def list_(ctx: Context, username: str | None) -> None:
    """List tokens (never the tokens themselves)."""
    from .usecases.tokens import list_tokens
    found = list_tokens(ctx.services, username)
    if ctx.json:
        emit_json([_token_json(t) for t in found])
        return

    def when(value: Any) -> str:
        return value.strftime("%Y-%m-%d %H:%M") if value else ""

    table("API tokens", ["id", "user", "name", "created", "last used", "revoked"],
          [[t.id, t.username, t.name, when(t.created_at), when(t.last_used_at), when(t.revoked_at)] for t in found])


@tokens_group.command("revoke")
@click.argument("token_id", type=int)
@click.option("--as", "actor", default="admin", show_default=True, help="who revokes it (for the audit trail)")
@command
def revoke(ctx: Context, token_id: int, actor: str) -> None:
    """Revoke a token for good."""
    from .usecases.tokens import revoke_token
    token = revoke_token(token_id, actor, ctx.services)
    if ctx.json:
        emit_json(_token_json(token))
        return
    console.print(f"token {token.id} of {token.username} ({token.name}) is revoked")
