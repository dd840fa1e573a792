"""Expectation suites declared in ``expectations/*.yml``, validated with pydantic and turned into
Great Expectations 1.x ``ExpectationSuite`` objects.

One file is one suite (its name is the file's stem). Per table, ``select`` may give a SQL
expression per column (run in the warehouse, so raw text can be typed before validation), and
``expectations`` lists GX expectation class names with their keyword arguments and a severity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cdp.errors import ConfigError
from cdp.quality.gx_import import import_gx

EXPECTATIONS_DIR = "expectations"
Severity = Literal["error", "warn"]
# "now" or "now - 72 hours" as min_value/max_value: resolved when the suite is built.
_NOW = re.compile(r"^now(?:\s*-\s*(\d+)\s*(minutes|hours|days))?$")
_RELATION = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")


class ExpectationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="GX 1.x expectation class name, e.g. ExpectColumnValuesToNotBeNull.")
    kwargs: dict[str, Any] = Field(default_factory=dict)
    severity: Severity


class TableConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    select: dict[str, str] = Field(
        default_factory=dict,
        description="column -> SQL expression; other columns expectations use are selected as is.",
    )
    expectations: list[ExpectationConfig] = Field(min_length=1)


class SuiteFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    tables: dict[str, TableConfig] = Field(min_length=1)


@dataclass(frozen=True)
class SuiteConfig:
    name: str
    path: Path
    description: str
    tables: dict[str, TableConfig]


def suite_paths(project_root: Path) -> dict[str, Path]:
    """Suite name -> declaring file, for every ``expectations/*.yml``."""
    return {path.stem: path for path in sorted((project_root / EXPECTATIONS_DIR).glob("*.yml"))}


def load_suites(project_root: Path, names: list[str] | None = None) -> list[SuiteConfig]:
    """The suites named (default: all), validated."""
    available = suite_paths(project_root)
    if not available:
        raise ConfigError(f"no expectation suites: expected {project_root / EXPECTATIONS_DIR}/*.yml")
    unknown = sorted(set(names or []) - set(available))
    if unknown:
        raise ConfigError(
            f"unknown suite(s) {', '.join(unknown)}: declared suites are {', '.join(available)} "
            f"(files in {project_root / EXPECTATIONS_DIR})"
        )
    return [load_suite(available[name]) for name in (names or list(available))]


def load_suite(path: Path) -> SuiteConfig:
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    try:
        parsed = SuiteFile.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"{path}: {where}: {first['msg']} ({exc.error_count()} error(s))") from exc
    for table in parsed.tables:
        if not _RELATION.match(table):
            raise ConfigError(f"{path}: table '{table}' must be written schema.table (lower case)")
    suite = SuiteConfig(path.stem, path, parsed.description, parsed.tables)
    for table in parsed.tables:
        expectations(suite, table, utc_now())  # unknown expectations and bad kwargs fail here, early
    return suite


def expectation_class(name: str, path: Path, table: str) -> type:
    """The GX expectation class called ``name``, or a ConfigError naming file and table."""
    gxe = import_gx().expectations
    found = getattr(gxe, name, None)
    if not (isinstance(found, type) and issubclass(found, gxe.Expectation)):
        raise ConfigError(
            f"{path}: table '{table}': unknown expectation '{name}': use a class name from "
            "great_expectations.expectations, e.g. ExpectColumnValuesToNotBeNull"
        )
    return found


def resolve_now(value: Any, now: datetime) -> Any:
    """``now`` / ``now - N hours`` as a naive UTC datetime; any other value unchanged."""
    if not isinstance(value, str) or not (match := _NOW.match(value.strip())):
        return value
    amount, unit = match.groups()
    return now - timedelta(**{unit: int(amount)}) if amount else now


def utc_now() -> datetime:
    """Naive UTC, as DuckDB returns the warehouse's timestamps (the profile sets TimeZone UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


def build_suite(suite: SuiteConfig, table: str, now: datetime) -> Any:
    """The ``gx.ExpectationSuite`` for one table of a suite (needs an active GX context)."""
    built = import_gx().ExpectationSuite(name=f"{suite.name}.{table}")
    for expectation in expectations(suite, table, now):
        built.add_expectation(expectation)
    return built


def expectations(suite: SuiteConfig, table: str, now: datetime) -> list[Any]:
    """The GX expectations declared for ``table``; each carries its severity (and table) in ``meta``."""
    found = []
    for index, expectation in enumerate(suite.tables[table].expectations):
        kwargs = {key: resolve_now(value, now) for key, value in expectation.kwargs.items()}
        cls = expectation_class(expectation.type, suite.path, table)
        try:
            found.append(cls(**kwargs, meta={"severity": expectation.severity, "table": table}))
        except Exception as exc:  # pydantic errors from GX: report where the mistake is
            summary = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ConfigError(
                f"{suite.path}: table '{table}': expectation {index + 1} {expectation.type}: "
                f"invalid kwargs {expectation.kwargs}: {summary}"
            ) from exc
    return found


def columns_needed(config: TableConfig) -> list[str]:
    """Columns the table's expectations read, in first-use order, plus every selected one."""
    needed = list(config.select)
    for expectation in config.expectations:
        for key in ("column", "column_A", "column_B"):
            column = expectation.kwargs.get(key)
            if isinstance(column, str) and column not in needed:
                needed.append(column)
        for column in expectation.kwargs.get("column_list", []) or []:
            if column not in needed:
                needed.append(column)
    return needed
