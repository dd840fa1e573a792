"""Segment declarations (segments/*.yml) and the columns their predicates may use."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from cdp.declarations import read_declaration_files
from cdp.errors import SegmentError
from cdp.segments.predicate import PredicateError, check_predicate

SEGMENTS_DIR = Path("segments")
MODELS_DIR = Path("models/marts/segments")
VOCABULARY_YAML = MODELS_DIR / "_models.yml"
VOCABULARY_MODEL = "segment_customer_attributes"
# Postgres cuts identifiers at 63 characters; models are named segment__<name>.
MAX_NAME_LENGTH = 63 - len("segment__")
REFRESH_KEYWORDS = ("hourly", "daily", "weekly")
# The keywords as cron: daily and weekly at 04:00 UTC, after the 03:00 UTC full build.
_KEYWORD_CRON = {"hourly": "0 * * * *", "daily": "0 4 * * *", "weekly": "0 4 * * 1"}

_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
# (field name, lowest, highest, names standing for lowest, lowest + 1, ...)
_CRON_FIELDS: list[tuple[str, int, int, list[str]]] = [
    ("minute", 0, 59, []),
    ("hour", 0, 23, []),
    ("day of month", 1, 31, []),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
]
_CRON_PART = re.compile(r"^(?P<range>\*|[a-z0-9]+(-[a-z0-9]+)?)(/(?P<step>[0-9]+))?$")


def cron_for(refresh: str) -> str:
    """``hourly``/``daily``/``weekly`` as a cron expression; a cron expression unchanged."""
    return _KEYWORD_CRON.get(refresh, refresh)


def check_cron(expression: str) -> None:
    """Raises ValueError unless ``expression`` is a 5-field cron expression with values in range."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(
            f"'{expression}' has {len(fields)} field(s): use {', '.join(REFRESH_KEYWORDS)} or a 5-field "
            "cron expression (minute hour day-of-month month day-of-week), e.g. '0 6 * * *'"
        )
    for value, (name, low, high, names) in zip(fields, _CRON_FIELDS, strict=True):
        for part in value.lower().split(","):
            match = _CRON_PART.match(part)
            if not match:
                raise ValueError(f"cron {name} field '{value}' is not *, a value, a range or a list")
            if match["step"] is not None and int(match["step"]) == 0:
                raise ValueError(f"cron {name} field '{value}' has a step of 0")
            if match["range"] == "*":
                continue
            for bound in match["range"].split("-"):
                number = low + names.index(bound) if bound in names else None
                if number is None and bound.isdigit():
                    number = int(bound)
                if number is None or not low <= number <= high:
                    raise ValueError(f"cron {name} field '{value}': '{bound}' is not in {low}-{high}")


class Segment(BaseModel):
    """One audience as an analyst declares it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=MAX_NAME_LENGTH)
    description: str = Field(min_length=1)
    predicate: str = Field(min_length=1)
    refresh: str | None = None
    tags: list[str] = Field(default_factory=list)

    @field_validator("refresh")
    @classmethod
    def _refresh(cls, value: str | None) -> str | None:
        if value is not None and value not in REFRESH_KEYWORDS:
            check_cron(value)
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        for tag in value:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", tag):
                raise ValueError(f"tag '{tag}' must be lowercase snake_case")
        return value


@dataclass(frozen=True)
class DeclaredSegment:
    segment: Segment
    source: Path  # the YAML file, relative to the project root

    @property
    def name(self) -> str:
        return self.segment.name


def load_vocabulary(root: Path) -> dict[str, str]:
    """Columns of segment_customer_attributes (lowercase name -> declared data type)."""
    path = root / VOCABULARY_YAML
    if not path.is_file():
        raise SegmentError(f"{VOCABULARY_YAML} does not exist: it lists the columns predicates may use")
    document = yaml.safe_load(path.read_text()) or {}
    for model in document.get("models", []):
        if model.get("name") == VOCABULARY_MODEL:
            columns = {str(c["name"]).lower(): str(c.get("data_type", "")) for c in model.get("columns", [])}
            if columns:
                return columns
    raise SegmentError(f"{VOCABULARY_YAML}: model {VOCABULARY_MODEL} with its columns is not declared")


def load_segments(root: Path, dialect: str = "duckdb") -> list[DeclaredSegment]:
    """Every segment in ``root``/segments/*.yml, validated, in file then declaration order."""
    columns = load_vocabulary(root)
    declared: list[DeclaredSegment] = []
    folder = root / SEGMENTS_DIR
    files = sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]) if folder.is_dir() else []
    expected = "name, description and predicate"
    for segment, relative, where in read_declaration_files(
        root, files, "segments", Segment, SegmentError, expected
    ):
        try:
            check_predicate(segment.predicate, columns, dialect)
        except PredicateError as exc:
            raise SegmentError(f"{where}: predicate: {exc}") from None
        declared.append(DeclaredSegment(segment, relative))
    return declared
