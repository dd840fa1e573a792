"""Suite ``select`` expressions (written in DuckDB SQL) translated for PostgreSQL.

sqlglot transpiles them, except that it writes DuckDB's ``try_cast`` as a plain ``CAST``,
which raises on the first unparsable value, while raw data is noisy by design. Each
``try_cast(x as T)`` therefore becomes ``quality.cdp_try_cast_<T>(x)``: a small plpgsql
function, polymorphic in its argument, that returns Postgres's own cast of ``x`` to T, or null
when that cast raises a data exception (SQLSTATE class 22: bad format, field or numeric
overflow). Why a function: it runs the very cast Postgres would, for any type, with no
per-type regex to keep in step with Postgres's parsers (``pg_input_is_valid`` would avoid the
function but needs PostgreSQL 16); and catching class 22 only lets every other error (say a
cancelled query) raise instead of silently turning a column into nulls. Postgres accepts some
text a DuckDB try_cast rejects, e.g. ``'today'`` or ``'Jan 5 2024'`` as a timestamp.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp

SCHEMA = "quality"
_PREFIX = "cdp_try_cast_"


def to_postgres(expression: str) -> tuple[str, set[str]]:
    """``expression`` (DuckDB SQL) as Postgres SQL, and the types its safe casts need
    (create their functions with :func:`try_cast_ddl` first). Raises ``sqlglot.ParseError``."""
    types: set[str] = set()

    def safe_cast(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.TryCast):
            return node
        type_sql = node.to.sql("postgres")
        types.add(type_sql)
        call = exp.Anonymous(this=try_cast_function(type_sql), expressions=[node.this.transform(safe_cast)])
        return exp.Dot(this=exp.to_identifier(SCHEMA), expression=call)

    tree = sqlglot.parse_one(expression, read="duckdb").transform(safe_cast)
    return tree.sql("postgres"), types


def try_cast_function(type_sql: str) -> str:
    """The function's name for a Postgres type: ``DECIMAL(10, 2)`` -> cdp_try_cast_decimal_10_2."""
    return _PREFIX + re.sub(r"\W+", "_", type_sql.lower()).strip("_")


def try_cast_ddl(type_sql: str) -> str:
    """``create or replace`` for the function casting any value to ``type_sql``, or null.
    Polymorphic (``anycompatible``, PostgreSQL 13+): a double becomes an integer by the numeric
    cast (rounded, as in DuckDB), not by parsing its text; a quoted literal is taken as text."""
    return f"""
        create or replace function {SCHEMA}.{try_cast_function(type_sql)}(value anycompatible)
        returns {type_sql} language plpgsql stable strict as $cdp$
        begin
            return cast(value as {type_sql});
        exception when data_exception then
            return null;
        end
        $cdp$"""
