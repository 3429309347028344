"""`validate PATH...`: collect diagrams and forms from files or folders and check them as one set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .domain.errors import ValidationFailed
from .engine.validation import Problem
from .engine.xml import MAX_XML_BYTES
from .usecases.deploy import check_files

SUFFIXES = (".bpmn", ".dmn", ".form")


def gather(paths: list[Path]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for path in paths:
        candidates = sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES) if path.is_dir() else [path]
        for file in candidates:
            if file.suffix not in SUFFIXES:
                raise ValidationFailed(f"{file}: not a .bpmn, .dmn or .form file", field=str(file))
            name = f"{'forms' if file.suffix == '.form' else 'processes'}/{file.name}"
            if name in files:
                raise ValidationFailed(f"{file}: a second file named {file.name}; a set holds one file per name, "
                                       f"so validate these folders separately", field=str(file))
            with file.open("rb") as stream:  # a file over the limit is refused unread beyond the limit
                files[name] = stream.read(MAX_XML_BYTES + 1)
    return files


def validate_paths(paths: list[Path], services: Any) -> list[Problem]:
    return check_files(gather(paths), services)
