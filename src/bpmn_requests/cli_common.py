"""Shared pieces of the command line: the context, error mapping, JSON input."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from .cli_output import emit_json, error_payload, one_line
from .config import Settings, SettingsError
from .domain.errors import DomainError, NotFound, ValidationFailed
from .domain.users import User


class Context:
    def __init__(self, json_output: bool):
        self.json = json_output
        self._system: Any = None

    @property
    def system(self) -> Any:
        if self._system is None:
            from .bootstrap import build_system
            self._system = build_system(Settings.from_env())
        return self._system

    @property
    def services(self) -> Any:
        return self.system.services

    def user(self, username: str) -> User:
        with self.services.uow() as uow:
            user = uow.users.get(username)
        if user is None:
            raise NotFound(f"no user {username}")
        return user


def _database_problem(ctx: Context, exc: SQLAlchemyError) -> str:
    text = str(exc.orig if getattr(exc, "orig", None) is not None else exc).splitlines()[0]
    url = ctx.system.db.url.render_as_string(hide_password=True)
    if "no such table" in text or "does not exist" in text:
        return f"the database {url} has no schema yet: run `bpmn-requests init` ({text})"
    return f"database error on {url}: {text}"


def _fail(ctx: Context, exc: DomainError | SettingsError) -> None:
    if isinstance(exc, SettingsError):
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    if ctx.json:
        emit_json(error_payload(exc))
    click.echo(f"error: {one_line(exc.message)}", err=True)
    sys.exit(1)


def command(func: Callable[..., Any]) -> Callable[..., Any]:
    """Map domain errors to a one-line reason and a non-zero exit, in one place."""

    @wraps(func)
    @click.pass_obj
    def wrapper(ctx: Context, *args: Any, **kwargs: Any) -> Any:
        if kwargs.pop("json_output", False):
            ctx.json = True
        try:
            return func(ctx, *args, **kwargs)
        except (DomainError, SettingsError) as exc:
            _fail(ctx, exc)
        except SQLAlchemyError as exc:
            _fail(ctx, DomainError(_database_problem(ctx, exc)))

    return click.option("--json", "json_output", is_flag=True, help="machine-readable output")(wrapper)


def read_json(text: str, source: str) -> Any:
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"{source}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
                               field=source) from None


def read_json_arg(value: str) -> Any:
    if value.startswith("@"):
        path = Path(value[1:])
        if not path.is_file():
            raise ValidationFailed(f"{path}: no such file", field="data")
        return read_json(path.read_text(encoding="utf-8"), str(path))
    return read_json(value, "--data")
