"""Sync declarations (syncs/*.yml): which customers, which fields, to which destination."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cdp.declarations import first_error, read_declaration_files
from cdp.errors import SyncConfigError
from cdp.segments.config import check_cron, load_segments
from cdp.sync.destinations import DESTINATION_TYPES, DestinationConfig

SYNCS_DIR = Path("syncs")
CUSTOMER_MODELS_YAML = Path("models/marts/customer/_models.yml")
CUSTOMER_360 = "customer_360"
Mode = Literal["upsert", "insert", "mirror"]


class Source(BaseModel):
    """Exactly one of: a declared segment (its members joined to customer_360), or customer_360."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    segment: str | None = None
    model: Literal["customer_360"] | None = None

    @model_validator(mode="after")
    def _one(self) -> Source:
        if (self.segment is None) == (self.model is None):
            raise ValueError("give exactly one of `segment: <name>` or `model: customer_360`")
        return self


class Sync(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=63)
    description: str = Field(min_length=1)
    source: Source
    key: str = "customer_id"
    fields: dict[str, str] = Field(min_length=1)  # destination field -> customer_360 column
    mode: Mode
    purpose: str = Field(min_length=1)
    schedule: str | None = None
    destination: dict[str, Any]

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        if value is not None and value not in ("hourly", "daily", "weekly"):
            check_cron(value)
        return value

    @field_validator("fields")
    @classmethod
    def _field_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not name or not str(name).strip():
                raise ValueError("destination field names must not be empty")
        return value


@dataclass(frozen=True)
class DeclaredSync:
    sync: Sync
    destination: DestinationConfig  # validated settings of its destination type, bound to the project
    source_file: Path  # relative to the project root

    @property
    def name(self) -> str:
        return self.sync.name

    @property
    def key_field(self) -> str:
        """The destination field holding the key (validation guarantees one maps the key)."""
        return _key_field(self.sync)


def customer_360_columns(root: Path) -> list[str]:
    """Column names of customer_360's dbt contract."""
    path = root / CUSTOMER_MODELS_YAML
    if not path.is_file():
        raise SyncConfigError(f"{CUSTOMER_MODELS_YAML} does not exist: it holds customer_360's contract")
    for model in (yaml.safe_load(path.read_text()) or {}).get("models", []):
        if model.get("name") == CUSTOMER_360:
            return [str(column["name"]).lower() for column in model.get("columns", [])]
    raise SyncConfigError(f"{CUSTOMER_MODELS_YAML}: model {CUSTOMER_360} is not declared")


def consent_purposes(root: Path) -> list[str]:
    """The var cdp_customer.consent_purposes of dbt_project.yml."""
    project = yaml.safe_load((root / "dbt_project.yml").read_text()) or {}
    purposes = ((project.get("vars") or {}).get("cdp_customer") or {}).get("consent_purposes") or []
    return [str(purpose) for purpose in purposes]


def load_syncs(root: Path) -> list[DeclaredSync]:
    """Every sync in ``root``/syncs/*.yml, validated, in file then declaration order."""
    folder = root / SYNCS_DIR
    files = sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]) if folder.is_dir() else []
    if not files:
        return []
    columns = customer_360_columns(root)
    purposes = consent_purposes(root)
    segments = {declared.name for declared in load_segments(root)}
    declared: list[DeclaredSync] = []
    expected = "name, source, fields, mode, purpose, destination"
    declarations = read_declaration_files(root, files, "syncs", Sync, SyncConfigError, expected)
    for sync, relative, where in declarations:
        _check_references(sync, where, columns, purposes, segments)
        destination = _destination(sync, where).bind(root, _key_field(sync))
        declared.append(DeclaredSync(sync, destination, relative))
    return declared


def _check_references(
    sync: Sync, where: str, columns: list[str], purposes: list[str], segments: set[str]
) -> None:
    if sync.source.segment is not None and sync.source.segment not in segments:
        raise SyncConfigError(
            f"{where}: source.segment: unknown segment '{sync.source.segment}'"
            f"{_hint(sync.source.segment, sorted(segments))} (segments are declared in segments/*.yml)"
        )
    if sync.purpose not in purposes:
        raise SyncConfigError(
            f"{where}: purpose: '{sync.purpose}' is not a consent purpose of dbt var "
            f"cdp_customer.consent_purposes ({', '.join(purposes)})"
        )
    if f"consent_{sync.purpose}" not in columns:
        raise SyncConfigError(
            f"{where}: purpose: customer_360 has no column consent_{sync.purpose}: "
            f"add it to its contract in {CUSTOMER_MODELS_YAML}"
        )
    if sync.key not in columns:
        raise SyncConfigError(f"{where}: key: unknown column '{sync.key}'{_hint(sync.key, columns)}")
    for field, column in sync.fields.items():
        if column not in columns:
            raise SyncConfigError(
                f"{where}: fields.{field}: unknown column '{column}' of {CUSTOMER_360}"
                f"{_hint(column, columns)}"
            )
    if sync.key not in sync.fields.values():
        raise SyncConfigError(
            f"{where}: fields: map the key column '{sync.key}' to a destination field "
            f"(e.g. `{sync.key}: {sync.key}`): the destination finds rows by it"
        )


def _key_field(sync: Sync) -> str:
    return next(field for field, column in sync.fields.items() if column == sync.key)


def _destination(sync: Sync, where: str) -> DestinationConfig:
    kind = sync.destination.get("type")
    if kind not in DESTINATION_TYPES:
        known = ", ".join(sorted(DESTINATION_TYPES))
        raise SyncConfigError(f"{where}: destination.type: unknown type '{kind}' (known: {known})")
    try:
        return DESTINATION_TYPES[kind].config.model_validate(sync.destination)
    except ValidationError as exc:
        raise SyncConfigError(f"{where}: {first_error(exc, 'destination', fallback='sync')}") from None


def _hint(name: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)
    return f" (did you mean {', '.join(close)}?)" if close else ""
