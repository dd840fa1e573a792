"""Arrow tables in and out of PostgreSQL (psycopg): query results read column by column,
tables written with COPY into a fresh table that replaces the old one in one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pyarrow as pa
from psycopg import sql


def postgres_type(arrow_type: pa.DataType) -> str:
    """The Postgres column type that holds values of ``arrow_type`` without loss."""
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if pa.types.is_integer(arrow_type):
        return "bigint" if arrow_type.bit_width > 32 else "integer"
    if pa.types.is_floating(arrow_type):
        return "double precision"
    if pa.types.is_decimal(arrow_type):
        return f"numeric({arrow_type.precision},{arrow_type.scale})"
    if pa.types.is_date(arrow_type):
        return "date"
    if pa.types.is_timestamp(arrow_type):
        return "timestamptz" if arrow_type.tz else "timestamp"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type) or pa.types.is_null(arrow_type):
        return "text"
    raise TypeError(f"no Postgres column type for Arrow type {arrow_type}")


# Postgres types by name -> the Arrow type their values read as (the inverse of postgres_type).
ARROW_TYPES = {
    "bool": pa.bool_(),
    "int2": pa.int16(),
    "int4": pa.int32(),
    "int8": pa.int64(),
    "float4": pa.float32(),
    "float8": pa.float64(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "timestamptz": pa.timestamp("us", tz="UTC"),
    "text": pa.string(),
    "varchar": pa.string(),
    "bpchar": pa.string(),
}


class PostgresTables:
    def __init__(self, connection: psycopg.Connection) -> None:
        self.connection = connection

    @classmethod
    @contextmanager
    def connect(cls, settings: dict[str, str]) -> Iterator[PostgresTables]:
        with psycopg.connect(**settings) as connection:
            yield cls(connection)

    def read(self, query: str) -> pa.Table:
        with self.connection.cursor() as cursor:
            cursor.execute(query)
            columns = cursor.description or []
            rows = cursor.fetchall()
        # Arrow infers each column's type from its values; an empty result has none, so its
        # columns take their Postgres types (else a table written back empty, such as a
        # removal log, would turn every column into text).
        types = [None if rows else self._arrow_type(column.type_code) for column in columns]
        return pa.table(
            {
                column.name: pa.array([row[i] for row in rows], type=types[i])
                for i, column in enumerate(columns)
            }
        )

    def _arrow_type(self, type_oid: int) -> pa.DataType | None:
        info = self.connection.adapters.types.get(type_oid)
        return ARROW_TYPES.get(info.name) if info else None

    def table_names(self, schema: str, prefix: str) -> list[str]:
        with self.connection.cursor() as cursor:
            cursor.execute(
                "select table_name from information_schema.tables"
                " where table_schema = %s and starts_with(table_name, %s) order by table_name",
                [schema, prefix],
            )
            return [row[0] for row in cursor.fetchall()]

    def write(self, schema: str, name: str, table: pa.Table) -> None:
        staged = sql.Identifier(schema, f"{name}__cdp_next")
        columns = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(field.name), sql.SQL(postgres_type(field.type)))
            for field in table.schema
        )
        with self.connection.transaction(), self.connection.cursor() as cursor:
            cursor.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
            cursor.execute(sql.SQL("drop table if exists {}").format(staged))
            cursor.execute(sql.SQL("create table {} ({})").format(staged, columns))
            with cursor.copy(sql.SQL("copy {} from stdin").format(staged)) as copy:
                for row in table.to_pylist():
                    copy.write_row(list(row.values()))
            # dbt's own table materialization also drops dependent views (rebuilt after).
            cursor.execute(sql.SQL("drop table if exists {} cascade").format(sql.Identifier(schema, name)))
            cursor.execute(sql.SQL("alter table {} rename to {}").format(staged, sql.Identifier(name)))
