"""Checks a segment predicate: one boolean SQL expression over known columns, nothing else."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.tokens import TokenType

# dbt adapter type -> sqlglot dialect the predicates are parsed in.
DIALECTS = {"duckdb": "duckdb", "postgres": "postgres", "spark": "spark", "databricks": "databricks"}

# Expressions whose value is boolean whatever their operands are.
_BOOLEAN_NODES: tuple[type[exp.Expression], ...] = (
    exp.Predicate,  # comparisons, IN, BETWEEN, LIKE, ILIKE, IS, regexp matches, ...
    exp.Boolean,  # true / false
    exp.StartsWith,  # the boolean string functions sqlglot knows across dialects
    exp.EndsWith,
    exp.Contains,
    exp.IsNan,
    exp.IsInf,
)

# Functions a predicate may call: pure, row-level ones (text, numbers, dates, casts). Anything
# else, notably functions sqlglot does not know (pg_read_file) or that read files (read_csv),
# is refused: a predicate runs with the warehouse credentials of the build.
_ALLOWED_FUNCTIONS: tuple[type[exp.Func], ...] = (
    exp.Connector, exp.Case,  # AND / OR and CASE are function nodes in sqlglot's tree
    exp.Cast, exp.TryCast, exp.Coalesce, exp.Nullif, exp.If,
    exp.Lower, exp.Upper, exp.Initcap, exp.Length, exp.Trim, exp.Substring, exp.Left, exp.Right,
    exp.Concat, exp.Replace, exp.StrPosition, exp.Pad, exp.RegexpLike,
    exp.StartsWith, exp.EndsWith, exp.Contains,
    exp.Abs, exp.Round, exp.Floor, exp.Ceil, exp.Sqrt, exp.Ln, exp.Pow, exp.Greatest, exp.Least,
    exp.SafeDivide, exp.IsNan, exp.IsInf,
    exp.CurrentDate, exp.CurrentTimestamp, exp.Date, exp.TsOrDsToDate, exp.Extract, exp.Year, exp.Month,
    exp.Day, exp.DateTrunc, exp.TimestampTrunc, exp.DateDiff, exp.DateAdd, exp.DateSub,
)  # fmt: skip


class PredicateError(ValueError):
    """The problem with a predicate, as one phrase (the caller adds file and segment)."""


@contextmanager
def _quiet_sqlglot() -> Iterator[None]:
    """sqlglot logs a warning when it falls back to a raw command; the error we raise says it better."""
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def sqlglot_dialect(target_type: str) -> str:
    """The sqlglot dialect for a dbt target type (duckdb, postgres, spark)."""
    try:
        return DIALECTS[target_type]
    except KeyError:
        raise PredicateError(
            f"segment predicates cannot be checked for target type '{target_type}' "
            f"(supported: {', '.join(sorted(DIALECTS))})"
        ) from None


def check_predicate(predicate: str, columns: Mapping[str, str], dialect: str = "duckdb") -> exp.Expression:
    """Parses ``predicate`` in ``dialect`` and returns its expression, or raises PredicateError.

    ``columns`` maps each known column (lowercase) to its declared data type.
    """
    text = predicate.strip()
    if not text:
        raise PredicateError("is empty")
    for jinja in ("{{", "{%", "{#"):
        if jinja in text:
            raise PredicateError(f"contains Jinja ('{jinja}'): a predicate is plain SQL, not a dbt template")
    try:
        with _quiet_sqlglot():
            tokens = sqlglot.Dialect.get_or_raise(dialect).tokenize(text)
            if any(token.token_type == TokenType.SEMICOLON for token in tokens):
                raise PredicateError("contains a semicolon: a predicate is one expression, not statements")
            statements = [s for s in sqlglot.parse(text, read=dialect) if s is not None]
    except SqlglotError as exc:
        raise PredicateError(f"is not valid {dialect} SQL: {_first_line(exc)}") from None
    if len(statements) != 1:
        raise PredicateError(f"must be one expression, found {len(statements)}")
    tree = statements[0]
    _reject_statements(tree)
    _reject_subqueries(tree)
    _reject_aggregates(tree)
    _reject_functions(tree, dialect)
    _check_columns(tree, columns)
    if not _is_boolean(tree, columns):
        raise PredicateError(
            f"is not a boolean expression ('{tree.sql(dialect=dialect)}'): use a comparison, "
            "AND/OR/NOT, IN, BETWEEN, IS [NOT] NULL, LIKE or a boolean column"
        )
    return tree


def _reject_statements(tree: exp.Expression) -> None:
    if isinstance(tree, exp.Query):
        raise PredicateError("is a query: write only the condition (what would follow WHERE)")
    if isinstance(tree, exp.DDL | exp.DML | exp.Command) or not isinstance(tree, exp.Condition):
        kind = tree.key.upper() if not isinstance(tree, exp.Command) else str(tree.this).upper()
        raise PredicateError(f"is a {kind} statement: only a boolean expression is allowed (no DDL/DML)")
    for node in tree.walk():
        if isinstance(node, exp.DDL | exp.DML | exp.Command):
            raise PredicateError("contains a statement: only a boolean expression is allowed (no DDL/DML)")


def _reject_subqueries(tree: exp.Expression) -> None:
    for node in tree.walk():
        if isinstance(node, exp.Query | exp.Subquery | exp.Exists):
            raise PredicateError(
                "contains a subquery or SELECT: a predicate may only read the columns of "
                "segment_customer_attributes"
            )


def _reject_aggregates(tree: exp.Expression) -> None:
    for node in tree.walk():
        if isinstance(node, exp.AggFunc | exp.Window):
            raise PredicateError(
                f"uses an aggregate or window function ('{node.sql()}'): a predicate is evaluated on "
                "one customer row at a time"
            )


def _reject_functions(tree: exp.Expression, dialect: str) -> None:
    for node in tree.walk():
        if isinstance(node, exp.Func) and not isinstance(node, _ALLOWED_FUNCTIONS):
            name = node.name if isinstance(node, exp.Anonymous) else node.sql_name()
            allowed = ", ".join(
                sorted(
                    {
                        f.sql_names()[0].lower()
                        for f in _ALLOWED_FUNCTIONS
                        if f not in (exp.Connector, exp.Case)
                    }
                )
            )
            raise PredicateError(
                f"calls {name.lower()}(), which a predicate may not use: only row-level text, number, "
                f"date and cast functions are allowed ({allowed})"
            )


def _check_columns(tree: exp.Expression, columns: Mapping[str, str]) -> None:
    for column in tree.find_all(exp.Column):
        if column.table:
            raise PredicateError(
                f"column '{column.sql()}' is qualified with a table: use the bare column name '{column.name}'"
            )
        name = column.name.lower()
        if name not in columns:
            # Columns the name begins first (recency -> recency_days), then the most alike.
            prefixed = [known for known in columns if known.startswith(name)]
            alike = difflib.get_close_matches(name, list(columns), n=3, cutoff=0.6)
            close = list(dict.fromkeys([*prefixed, *alike]))[:3]
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise PredicateError(
                f"unknown column '{column.name}'{hint}; the columns a predicate can use are listed in "
                "models/marts/segments/_models.yml (segment_customer_attributes)"
            )


def _is_boolean(node: exp.Expression, columns: Mapping[str, str]) -> bool:
    if isinstance(node, exp.Paren):
        return _is_boolean(node.this, columns)
    if isinstance(node, exp.And | exp.Or):
        return _is_boolean(node.left, columns) and _is_boolean(node.right, columns)
    if isinstance(node, exp.Not):
        return _is_boolean(node.this, columns)
    if isinstance(node, _BOOLEAN_NODES):
        return True
    if isinstance(node, exp.Column):
        return columns.get(node.name.lower(), "").lower() in {"boolean", "bool"}
    if isinstance(node, exp.Cast):
        return node.to.is_type(exp.DataType.Type.BOOLEAN)
    if isinstance(node, exp.Coalesce):
        return all(_is_boolean(arg, columns) for arg in [node.this, *node.expressions])
    if isinstance(node, exp.Case):
        results = [branch.args["true"] for branch in node.args.get("ifs", [])]
        if node.args.get("default") is not None:
            results.append(node.args["default"])
        return bool(results) and all(_is_boolean(result, columns) for result in results)
    return False


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
