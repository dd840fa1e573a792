"""The raw tables the warehouse expects, read from the dbt ``_sources.yml`` files.

dbt's source declarations are the single place a raw table and its columns are defined:
the loader validates landing files against them, staging models read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from cdp.errors import ConfigError

RAW_SCHEMA = "raw"
LINEAGE_COLUMNS = ("_source_file", "_source_row", "_loaded_at")


@dataclass(frozen=True)
class RawTable:
    source: str  # dbt source name, e.g. "crm"
    name: str  # dbt table name, e.g. "contacts"
    identifier: str  # warehouse table and landing folder name, e.g. "crm_contacts"
    columns: tuple[str, ...]  # data columns, without the loader's lineage columns
    declared_in: Path


def raw_tables(project_dir: Path) -> dict[str, RawTable]:
    """All tables of sources in schema ``raw``, by identifier."""
    tables: dict[str, RawTable] = {}
    for path in sorted((project_dir / "models").rglob("_sources.yml")):
        for table in _tables_in(path):
            if table.identifier in tables:
                other = tables[table.identifier].declared_in
                raise ConfigError(f"{path}: raw table '{table.identifier}' is also declared in {other}")
            tables[table.identifier] = table
    if not tables:
        raise ConfigError(f"no raw sources found: expected models/**/_sources.yml under {project_dir}")
    return tables


def _tables_in(path: Path) -> list[RawTable]:
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    found = []
    for source in document.get("sources", []):
        if source.get("schema") != RAW_SCHEMA:
            continue
        for table in source.get("tables", []):
            name = table.get("name")
            columns = tuple(c["name"] for c in table.get("columns", []) if "name" in c)
            data_columns = tuple(c for c in columns if c not in LINEAGE_COLUMNS)
            if not name or not data_columns:
                raise ConfigError(
                    f"{path}: source '{source.get('name')}' table '{name}' "
                    "needs a name and its columns listed"
                )
            found.append(RawTable(source["name"], name, table.get("identifier", name), data_columns, path))
    return found
