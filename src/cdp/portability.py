"""SQL portability gate: compiles the dbt project, then checks with sqlglot that the SQL of every
model and data test parses in the adapter's dialect and transpiles to DuckDB, Spark, Trino,
Snowflake and BigQuery.

A finding is a function or expression that does not carry over to a dialect: sqlglot reports it
unsupported, the SQL it writes does not parse back, or the function is one sqlglot does not know
(it passes such calls through unchanged, so nothing says the other engines have them). A finding
fails the gate unless
- the construct comes from an ``adapter.dispatch`` macro: the compile adapter's own variant
  (``duckdb__x``) wrote it, the model did not, and ``default__x`` exists (and, for a function
  sqlglot does not know, does not call it): each engine gets the variant written for it;
- the function is on the allowlist in ``portability.yml`` (``functions``), or the finding is one
  of its documented ``exceptions`` (a sqlglot quirk for one model and dialect).
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import sqlglot
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError, UnsupportedError

from cdp.dbt_runner import run_dbt
from cdp.declarations import first_error
from cdp.errors import CdpError
from cdp.project import Project
from cdp.segments.predicate import DIALECTS as ADAPTER_DIALECTS

TARGET_DIALECTS = ("duckdb", "spark", "trino", "snowflake", "bigquery")
ALLOWLIST_FILE = "portability.yml"
COMPILE_PATH = Path("target/portability")
ANY_DIALECT = "*"
# dbt adapter types whose dispatch variants (<type>__x) are used on each target dialect.
DIALECT_ADAPTERS = {"spark": ("spark", "databricks")}


class PortabilityError(CdpError):
    """The gate could not run: the project did not compile, or portability.yml is invalid."""


class PortabilityFailed(CdpError):
    """Compiled SQL does not carry over to every dialect the project must run on."""


class AllowedFunction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    why: str


class AllowedFinding(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str  # the model's (or data test's) name
    dialect: Literal["duckdb", "spark", "trino", "snowflake", "bigquery", "*"]  # * for all
    reason: str  # a piece of the finding's reason
    why: str


class Allowlist(BaseModel):
    """portability.yml: functions known to exist on every engine, and findings that are
    sqlglot quirks; each entry says why."""

    model_config = ConfigDict(extra="forbid")
    functions: list[AllowedFunction] = []
    exceptions: list[AllowedFinding] = []

    @classmethod
    def read(cls, path: Path) -> Allowlist:
        if not path.exists():
            return cls()
        try:
            document: Any = yaml.safe_load(path.read_text()) or {}
            return cls.model_validate(document)
        except yaml.YAMLError as exc:
            raise PortabilityError(f"{path.name}: not valid YAML: {' '.join(str(exc).split())}") from None
        except ValidationError as exc:
            raise PortabilityError(f"{path.name}: {first_error(exc)}") from None

    def function_names(self) -> frozenset[str]:
        return frozenset(function.name.lower() for function in self.functions)

    def exception_for(self, node: str, finding: Finding) -> AllowedFinding | None:
        for entry in self.exceptions:
            if (
                entry.model == node
                and entry.dialect in (finding.dialect, ANY_DIALECT)
                and entry.reason in finding.reason
            ):
                return entry
        return None


@dataclass(frozen=True)
class Finding:
    dialect: str  # the dialect the construct does not carry over to
    function: str | None  # the function as the compiled SQL spells it, when one is to blame
    reason: str
    unknown: bool = False  # a function sqlglot does not know (parsed as an anonymous call)
    origin: str = ""  # where the construct was written
    allowed_by: str = ""  # "dispatch: ..." or "portability.yml: ..."; empty = a failure

    @property
    def fails(self) -> bool:
        return not self.allowed_by

    def to_dict(self) -> dict[str, Any]:
        return {
            "dialect": self.dialect,
            "function": self.function,
            "reason": self.reason,
            "origin": self.origin,
            "allowed_by": self.allowed_by or None,
        }


@dataclass
class NodeResult:
    name: str
    path: str  # file the node was written in
    resource_type: str  # model or test
    language: str  # sql or python
    findings: list[Finding] = field(default_factory=list)

    @property
    def skipped(self) -> bool:
        return self.language != "sql"

    @property
    def failures(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.fails]

    def state(self, dialect: str) -> str:
        """ok, FAIL, allowed (an exception or allowlisted function) or dispatch, for one dialect."""
        if self.skipped:
            return "skipped"
        here = [finding for finding in self.findings if finding.dialect == dialect]
        if any(finding.fails for finding in here):
            return "FAIL"
        if any(finding.allowed_by.startswith(ALLOWLIST_FILE) for finding in here):
            return "allowed"
        return "dispatch" if here else "ok"

    def failure_lines(self) -> list[str]:
        return [
            f"{self.resource_type} {self.name} ({self.path}) on {finding.dialect}: "
            f"{finding.reason}{f'; {finding.origin}' if finding.origin else ''}"
            for finding in self.failures
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "resource_type": self.resource_type,
            "language": self.language,
            "skipped": self.skipped,
            "findings": [finding.to_dict() for finding in self.findings],
        }


@dataclass
class PortabilityReport:
    target: str  # dbt target the project was compiled for
    read_dialect: str  # sqlglot dialect its SQL was parsed in
    dialects: tuple[str, ...]
    nodes: list[NodeResult]
    stale_exceptions: list[str] = field(default_factory=list)  # portability.yml entries matching nothing

    @property
    def failure_lines(self) -> list[str]:
        lines = [line for node in self.nodes for line in node.failure_lines()]
        return lines + self.stale_exceptions

    @property
    def ok(self) -> bool:
        return not self.failure_lines

    def summary(self) -> str:
        def count(kind: str) -> int:
            return sum(1 for node in self.nodes if node.resource_type == kind and not node.skipped)

        findings = [finding for node in self.nodes for finding in node.findings]
        dispatched = sum(1 for finding in findings if finding.allowed_by.startswith("dispatch"))
        allowed = sum(1 for finding in findings if finding.allowed_by.startswith(ALLOWLIST_FILE))
        skipped = sum(1 for node in self.nodes if node.skipped)
        return (
            f"portability: {count('model')} SQL models and {count('test')} data tests compiled for "
            f"{self.target}, read as {self.read_dialect}, transpiled to {', '.join(self.dialects)}: "
            f"{len(self.failure_lines)} failure(s); {dispatched} finding(s) left to adapter.dispatch "
            f"macros, {allowed} allowed by {ALLOWLIST_FILE}; {skipped} Python model(s) skipped"
        )

    def raise_for_failures(self) -> None:
        if not self.ok:
            raise PortabilityFailed("\n".join(self.failure_lines))

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "read_dialect": self.read_dialect,
            "dialects": list(self.dialects),
            "ok": self.ok,
            "failures": self.failure_lines,
            "nodes": [node.to_dict() for node in self.nodes],
        }


def check_portability(
    project: Project, target: str = "duckdb", select: list[str] | None = None
) -> PortabilityReport:
    """Compiles ``project`` for ``target`` (only ``select``, a dbt selection, if given) and
    checks the compiled SQL; the report says what fails where."""
    manifest = compile_project(project, target, select)
    allowlist = Allowlist.read(project.root / ALLOWLIST_FILE)
    return check_manifest(manifest, allowlist, target)


def compile_project(project: Project, target: str, select: list[str] | None = None) -> dict[str, Any]:
    """The manifest of ``dbt compile`` into target/portability. On DuckDB it compiles against
    an empty throwaway database, so it needs no built warehouse and never touches it (models
    that ask whether a relation exists compile as on a first build)."""
    target_path = project.root / COMPILE_PATH
    selection = ["--select", *select] if select else []
    with tempfile.TemporaryDirectory(prefix="cdp-portability-") as scratch:
        empty = replace(project, warehouse=Path(scratch) / "empty.duckdb")
        result = run_dbt(
            empty,
            ["compile", "--target-path", str(target_path), *selection],
            capture=True,
            env={"CDP_TARGET": target},
        )
    if not result.ok:
        plain = [_DBT_TIME.sub("", _ANSI.sub("", line)) for line in result.output.splitlines()]
        errors = [" ".join(line.split()) for line in plain if "rror" in line][-3:]
        detail = " | ".join(errors) or "see the dbt output"
        raise PortabilityError(
            f"dbt compile for target {target} failed ({detail}); fix the model, or run "
            f"`dbt compile --target-path {COMPILE_PATH}` to see the whole error"
        )
    return json.loads((target_path / "manifest.json").read_text())


# dbt's colour codes, and the time it prints before each log line.
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_DBT_TIME = re.compile(r"^\s*\d\d:\d\d:\d\d\s+")


def check_manifest(
    manifest: dict[str, Any], allowlist: Allowlist, target: str = "duckdb"
) -> PortabilityReport:
    """Checks every compiled model and data test of a dbt ``manifest``."""
    adapter = manifest["metadata"]["adapter_type"]
    try:
        read = ADAPTER_DIALECTS[adapter]
    except KeyError:
        raise PortabilityError(
            f"target {target}: adapter {adapter} has no sqlglot dialect here "
            f"(supported: {', '.join(sorted(ADAPTER_DIALECTS))})"
        ) from None
    macros = _Macros(manifest["macros"], adapter)
    allowed_functions = allowlist.function_names()
    nodes: list[NodeResult] = []
    for node in sorted(manifest["nodes"].values(), key=lambda n: (n["resource_type"], n["name"])):
        if node["resource_type"] not in ("model", "test") or "compiled_code" not in node:
            continue
        result = NodeResult(node["name"], node["original_file_path"], node["resource_type"], node["language"])
        if not result.skipped:
            for finding in check_sql(node["compiled_code"], read, allowed_functions):
                result.findings.append(_judge(finding, node, macros, allowlist))
        nodes.append(result)
    return PortabilityReport(target, read, TARGET_DIALECTS, nodes, _stale(allowlist, nodes))


def check_sql(sql: str, read: str, allowed_functions: frozenset[str] = frozenset()) -> Iterator[Finding]:
    """The findings of one compiled statement (or several): what does not parse in ``read``,
    what sqlglot cannot write in, or read back from, each target dialect, and calls of
    functions sqlglot does not know, unless ``allowed_functions`` names them."""
    try:
        trees = [tree for tree in sqlglot.parse(sql, read=read, error_level=ErrorLevel.RAISE) if tree]
    except SqlglotError as exc:
        yield Finding(read, None, f"does not parse as {read}: {_first_line(exc)}")
        return
    others = [dialect for dialect in TARGET_DIALECTS if dialect != read]
    for tree in trees:
        for name in sorted({call.name.lower() for call in tree.find_all(exp.Anonymous)} - allowed_functions):
            for dialect in others:
                yield Finding(
                    dialect,
                    name,
                    f"{name}() is a function sqlglot does not know, so nothing shows {dialect} has it",
                    unknown=True,
                )
        for dialect in TARGET_DIALECTS:
            yield from _transpile(tree, sql, dialect)


def _transpile(tree: exp.Expr, sql: str, dialect: str) -> Iterator[Finding]:
    written, messages = _generate(tree, dialect)
    for message in dict.fromkeys(messages):
        function = _blamed_function(message, tree, sql, dialect)
        yield Finding(dialect, function, f"sqlglot cannot write it for {dialect}: {message}")
    if messages:
        return
    try:
        sqlglot.parse(written, read=dialect, error_level=ErrorLevel.RAISE)
    except SqlglotError as exc:
        yield Finding(
            dialect, None, f"the {dialect} SQL sqlglot writes does not parse back: {_first_line(exc)}"
        )


_CLASS_IN_MESSAGE = re.compile(r"expression '(\w+)'")
_FUNCTION_IN_MESSAGE = re.compile(r"function (\w+)")
_LEADING_FUNCTION = re.compile(r"([A-Z][A-Z0-9_]+)\b")
_NAME_BEFORE_ARGUMENTS = re.compile(r"([A-Za-z_]\w*)\s*\(\s*(?:distinct\s+)?$", re.IGNORECASE)


def _blamed_function(message: str, tree: exp.Expr, sql: str, dialect: str) -> str | None:
    """The function an unsupported-message is about, as the compiled ``sql`` spells it: the
    one the message names, else the innermost call that alone brings the same message."""
    by_class = _CLASS_IN_MESSAGE.search(message)
    by_name = _FUNCTION_IN_MESSAGE.search(message) or _LEADING_FUNCTION.match(message)
    calls = list(tree.find_all(exp.Func))
    for node in calls:
        if (by_class and type(node).__name__ == by_class.group(1)) or (
            by_name and node.sql_name().upper() == by_name.group(1).upper()
        ):
            return _spelling(node, sql)
    alone = [node for node in calls if message in _generate(node.copy(), dialect)[1]]
    return _spelling(max(alone, key=lambda node: node.depth), sql) if alone else None


def _generate(tree: exp.Expr, dialect: str) -> tuple[str, list[str]]:
    """``tree`` written for ``dialect``, or what sqlglot says it cannot write."""
    try:
        return tree.sql(dialect=dialect, unsupported_level=ErrorLevel.RAISE, max_unsupported=1000), []
    except UnsupportedError as exc:
        return "", [part.strip() for part in str(exc).split("\n\n") if part.strip()]
    except SqlglotError as exc:
        return "", [_first_line(exc)]


def _spelling(node: exp.Expr, sql: str) -> str | None:
    """The name ``node`` is called by in ``sql``: sqlglot records where the name token of most
    calls stands; for the others, the name before the first argument it knows the place of."""
    if "start" in node.meta:
        return sql[node.meta["start"] : node.meta["end"] + 1].lower()
    starts = [child.meta["start"] for child in node.walk() if child is not node and "start" in child.meta]
    if not starts:
        return None
    before = _NAME_BEFORE_ARGUMENTS.search(sql[: min(starts)])
    return before.group(1).lower() if before else None


class _Macros:
    """The project's and packages' macros, for telling where a function call was written."""

    def __init__(self, macros: dict[str, Any], adapter: str) -> None:
        self._macros = macros
        self.adapter = adapter
        self._by_name: dict[str, list[dict[str, Any]]] = {}
        for macro in macros.values():
            self._by_name.setdefault(macro["name"], []).append(macro)

    def closure(self, unique_ids: Iterable[str]) -> list[dict[str, Any]]:
        """The macros ``unique_ids`` name and every macro they call, dispatched variants included."""
        seen: dict[str, dict[str, Any]] = {}
        pending = list(unique_ids)
        while pending:
            unique_id = pending.pop()
            if unique_id in seen or unique_id not in self._macros:
                continue
            seen[unique_id] = macro = self._macros[unique_id]
            pending.extend(macro["depends_on"]["macros"])
        return list(seen.values())

    def variant(self, macro: dict[str, Any]) -> tuple[str, str] | None:
        """(prefix, x) when ``macro`` is the variant ``<prefix>__x`` of a dispatch macro ``x``."""
        prefix, _, base = macro["name"].partition("__")
        return (prefix, base) if base and base in self._by_name else None

    def has_variant(self, base: str, prefixes: Iterable[str]) -> bool:
        return any(f"{prefix}__{base}" in self._by_name for prefix in prefixes)

    def defaults(self, base: str) -> list[dict[str, Any]]:
        return self._by_name.get(f"default__{base}", [])


def _judge(finding: Finding, node: dict[str, Any], macros: _Macros, allowlist: Allowlist) -> Finding:
    """``finding`` with where it was written, and what allows it, if anything does."""
    origin, dispatched = _origin(finding, node, macros)
    judged = replace(finding, origin=origin, allowed_by=dispatched)
    exception = None if dispatched else allowlist.exception_for(node["name"], judged)
    if exception:
        return replace(judged, allowed_by=f"{ALLOWLIST_FILE}: {exception.why}")
    return judged


def _origin(finding: Finding, node: dict[str, Any], macros: _Macros) -> tuple[str, str]:
    """(where the blamed function was written, "dispatch: ..." if an adapter.dispatch macro
    with a default__ fallback wrote it, else "")."""
    function = finding.function
    if function is None:
        return "", ""
    call = re.compile(rf"(?<![\w.]){re.escape(function)}\s*\(", re.IGNORECASE)
    if call.search(_without_comments(node["raw_code"])):
        return "written in its own SQL: use an adapter.dispatch macro (macros/cross_db) instead", ""
    calling = [
        m
        for m in macros.closure(node["depends_on"]["macros"])
        if call.search(_without_comments(m["macro_sql"]))
    ]
    if not calling:
        return "written by a macro it calls", ""
    names = ", ".join(sorted(m["name"] for m in calling))
    plain = [m for m in calling if macros.variant(m) is None]
    if plain:
        where = ", ".join(f"{m['name']} ({m['original_file_path']})" for m in plain)
        return f"written in macro {where}: make it an adapter.dispatch macro with a default__ variant", ""
    own_variants: list[str] = []
    for macro in calling:
        prefix, base = macros.variant(macro) or ("", "")
        if macros.has_variant(base, DIALECT_ADAPTERS.get(finding.dialect, (finding.dialect,))):
            own_variants.append(base)  # that engine's own variant of the macro is used there
        elif prefix != macros.adapter:
            return (
                f"written in {macro['name']}, which {finding.dialect} gets: add a {finding.dialect}__{base}",
                "",
            )
        elif not (defaults := macros.defaults(base)):
            return f"written in {macro['name']}, a dispatch variant with no default__{base} fallback", ""
        elif finding.unknown and any(
            call.search(_without_comments(default["macro_sql"])) for default in defaults
        ):
            return f"written in {macro['name']}, and default__{base} calls it too", ""
    via = f"{finding.dialect} has its own variant of {', '.join(own_variants)}" if own_variants else ""
    return f"written in {names}", f"dispatch: {names}" + (
        f" ({via})" if via else " (with a default__ fallback)"
    )


# Jinja and SQL comments, and macro headers (`{% macro listagg(` is no call of listagg).
_COMMENTS = re.compile(r"\{#.*?#\}|--[^\n]*|\{%-?\s*macro\s+\w+\s*\(", re.DOTALL)


def _without_comments(text: str) -> str:
    return _COMMENTS.sub(" ", text)


def _first_line(exc: Exception) -> str:
    return " ".join(str(exc).split("\n", 1)[0].split())


def _stale(allowlist: Allowlist, nodes: list[NodeResult]) -> list[str]:
    """Exceptions in portability.yml for a checked node that no finding of it needs any more."""
    checked = {node.name: node for node in nodes if not node.skipped}
    lines = []
    for entry in allowlist.exceptions:
        node = checked.get(entry.model)
        if node is None:
            continue
        if not any(entry.why in finding.allowed_by for finding in node.findings):
            lines.append(
                f"{ALLOWLIST_FILE}: the exception for {entry.model} on {entry.dialect} "
                f"('{entry.reason}') matches no finding any more: remove it"
            )
    return lines
