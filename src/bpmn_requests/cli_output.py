"""How the command line prints: rich tables for people, JSON for tools, one line for errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

from .domain.errors import DomainError

console = Console(highlight=False, soft_wrap=True)
if not console.is_terminal:
    # Piped output (make run, CI logs) is read in wide windows; 80 columns would fold every table.
    console = Console(highlight=False, soft_wrap=True, width=160)


def to_json(value: Any) -> str:
    def default(obj: Any) -> Any:
        if isinstance(obj, Decimal):
            return str(obj)
        if hasattr(obj, "isoformat"):
            return obj.isoformat()
        if isinstance(obj, set | frozenset | tuple):
            return sorted(obj) if isinstance(obj, set | frozenset) else list(obj)
        return str(obj)

    return json.dumps(value, indent=2, default=default, sort_keys=False)


def emit_json(value: Any) -> None:
    sys.stdout.write(to_json(value) + "\n")


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    grid = Table(title=title, title_justify="left", show_lines=False)
    for column in columns:
        grid.add_column(column, overflow="fold")
    for row in rows:
        grid.add_row(*("" if v is None else str(v) for v in row))
    console.print(grid)


def error_payload(exc: DomainError) -> dict[str, Any]:
    payload: dict[str, Any] = {"code": exc.code, "message": exc.message}
    if exc.field:
        payload["field"] = exc.field
    payload.update({k: v for k, v in exc.details.items() if v})
    return {"error": payload}


def one_line(message: str) -> str:
    return " ".join(message.split()) if "\n" not in message.strip() else message.strip()
