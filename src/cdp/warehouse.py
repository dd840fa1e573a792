"""Small questions about the DuckDB warehouse that several commands ask."""

from __future__ import annotations

import duckdb


def table_exists(con: duckdb.DuckDBPyConnection, relation: str) -> bool:
    """True when ``relation`` (``schema.table``) exists in the connected warehouse."""
    schema, table = relation.split(".")
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchall()
    return found[0][0] > 0
