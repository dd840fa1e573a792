"""Reading declaration files (segments/*.yml, syncs/*.yml): one top-level key holding a list of
mappings, each validated by a pydantic model, every mistake one line naming file and entry."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from cdp.errors import CdpError

Model = TypeVar("Model", bound=BaseModel)


def read_declarations(
    path: Path, relative: Path, key: str, model: type[Model], error: type[CdpError], expected: str
) -> list[Model]:
    """The entries of ``key:`` in ``path`` as ``model``s. ``relative`` names the file in
    messages, ``error`` is raised, ``expected`` lists an entry's fields for the message."""
    kind = key.removesuffix("s")  # "segments" -> "segment"
    try:
        document: Any = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise error(f"{relative}: not valid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(document, dict) or set(document) != {key}:
        raise error(f"{relative}: expected one top-level key `{key}:` holding a list of {key}")
    entries = document[key] or []
    if not isinstance(entries, list):
        raise error(f"{relative}: `{key}:` must be a list of {key}")
    declared = []
    for position, entry in enumerate(entries, start=1):
        label = entry.get("name") if isinstance(entry, dict) else None
        where = f"{relative}: {kind} '{label}'" if label else f"{relative}: {kind} #{position}"
        if not isinstance(entry, dict):
            raise error(f"{where}: expected a mapping with {expected}")
        try:
            declared.append(model.model_validate(entry))
        except ValidationError as exc:
            raise error(f"{where}: {first_error(exc, fallback=kind)}") from None
    return declared


def read_declaration_files(
    root: Path, files: list[Path], key: str, model: type[Model], error: type[CdpError], expected: str
) -> list[tuple[Model, Path, str]]:
    """Every entry of ``files`` as (model, file relative to ``root``, "file: kind 'name'" for
    messages); a name declared twice, in one file or two, is an error naming both places."""
    kind = key.removesuffix("s")
    found: list[tuple[Model, Path, str]] = []
    seen: dict[str, Path] = {}
    for path in files:
        relative = path.relative_to(root)
        for entry in read_declarations(path, relative, key, model, error, expected):
            name = entry.name  # type: ignore[attr-defined]
            where = f"{relative}: {kind} '{name}'"
            if name in seen:
                raise error(f"{where}: name: already declared in {seen[name]}")
            seen[name] = relative
            found.append((entry, relative, where))
    return found


def first_error(exc: ValidationError, prefix: str = "", fallback: str = "") -> str:
    """The first pydantic error as ``field.path: message``, in plain words."""
    error = exc.errors()[0]
    field = ".".join(str(part) for part in (prefix, *error["loc"]) if part != "") or fallback
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "string_pattern_mismatch":
        message = "must be lowercase snake_case (a-z, 0-9, _), starting with a letter"
    return f"{field}: {message}"
