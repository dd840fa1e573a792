"""A PostgreSQL table holding the destination's current rows of one sync.

The table is created on first use with the key as primary key and one text or numeric column
per payload field. Each batch is one transaction: upserts are ``insert ... on conflict (key) do
update``, inserts ``on conflict do nothing``, deletes ``delete ... where key = any(%s)``, so
applying a batch twice changes nothing. A row the database refuses (e.g. a value too large) is
rejected alone: the batch is retried row by row, each in a savepoint.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Self

import psycopg
from psycopg import sql
from pydantic import Field

from cdp.errors import SyncConfigError
from cdp.project import postgres_settings
from cdp.sync.changes import BatchOutcome, DestinationUnavailable, RowChange
from cdp.sync.destinations.base import DestinationConfig

IDENTIFIER = r"^[a-z_][a-z0-9_]*$"


class PostgresConfig(DestinationConfig):
    type: Literal["postgres"]
    schema_: str = Field(alias="schema", pattern=IDENTIFIER, max_length=63)
    table: str = Field(pattern=IDENTIFIER, max_length=63)
    # Name of an env var holding a libpq DSN; unset: the CDP_PG_* vars profiles.yml reads.
    dsn_env: str | None = None
    key_field: str = ""  # set by the engine (bind): the column holding the sync's key

    def bind(self, root: Path, key_field: str) -> Self:
        return self.model_copy(update={"key_field": key_field})


class PostgresDestination:
    def __init__(self, config: PostgresConfig, sync_name: str) -> None:
        self.config = config
        self.sync_name = sync_name
        self.batch_size = config.batch_size
        self.key = config.key_field or "customer_id"
        self.table = sql.Identifier(config.schema_, config.table)
        self.name = f"postgres {config.schema_}.{config.table}"
        self._connection: psycopg.Connection | None = None
        self._columns: set[str] | None = None

    def apply(self, changes: Sequence[RowChange]) -> BatchOutcome:
        try:
            connection = self._connect()
            self._ensure_table(connection, changes)
            try:
                with connection.transaction():
                    for change in changes:
                        self._apply_one(connection, change)
                return BatchOutcome(acknowledged=[change.key for change in changes])
            except psycopg.OperationalError:
                raise
            except psycopg.Error:
                return self._apply_row_by_row(connection, changes)
        except psycopg.OperationalError as exc:
            self.close()
            raise DestinationUnavailable(f"{self.name}: {' '.join(str(exc).split())}") from exc

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _connect(self) -> psycopg.Connection:
        if self._connection is None or self._connection.closed:
            if self.config.dsn_env:
                dsn = os.environ.get(self.config.dsn_env)
                if not dsn:
                    raise SyncConfigError(
                        f"sync '{self.sync_name}': destination.dsn_env: environment variable "
                        f"{self.config.dsn_env} is not set"
                    )
                self._connection = psycopg.connect(dsn, autocommit=True)
            else:
                self._connection = psycopg.connect(**postgres_settings(), autocommit=True)
        return self._connection

    def _ensure_table(self, connection: psycopg.Connection, changes: Sequence[RowChange]) -> None:
        """Creates the table, and adds columns for payload fields it does not have yet."""
        if self._columns is None:
            with connection.transaction():
                connection.execute(
                    sql.SQL("create schema if not exists {}").format(sql.Identifier(self.config.schema_))
                )
                connection.execute(
                    sql.SQL("create table if not exists {} ({} text primary key)").format(
                        self.table, sql.Identifier(self.key)
                    )
                )
            found = connection.execute(
                "select column_name from information_schema.columns"
                " where table_schema = %s and table_name = %s",
                [self.config.schema_, self.config.table],
            ).fetchall()
            self._columns = {name for (name,) in found}
        types: dict[str, str] = {}
        for change in changes:
            for name, value in change.payload.items():
                if name not in self._columns and types.get(name) != "numeric":
                    types[name] = _column_type(value)
        if types:
            with connection.transaction():
                for name, column_type in types.items():
                    connection.execute(
                        sql.SQL("alter table {} add column if not exists {} " + column_type).format(
                            self.table, sql.Identifier(name)
                        )
                    )
            self._columns |= set(types)

    def _apply_one(self, connection: psycopg.Connection, change: RowChange) -> None:
        if change.operation == "delete":
            connection.execute(
                sql.SQL("delete from {} where {} = any(%s)").format(self.table, sql.Identifier(self.key)),
                [[change.key]],
            )
            return
        payload = {
            self.key: change.key,
            **{k: v for k, v in change.payload.items() if k in (self._columns or set())},
        }
        names = [sql.Identifier(name) for name in payload]
        conflict = (
            sql.SQL("do update set {}").format(
                sql.SQL(", ").join(sql.SQL("{0} = excluded.{0}").format(n) for n in names)
            )
            if change.operation == "upsert"
            else sql.SQL("do nothing")
        )
        connection.execute(
            sql.SQL("insert into {} ({}) values ({}) on conflict ({}) {}").format(
                self.table,
                sql.SQL(", ").join(names),
                sql.SQL(", ").join(sql.Placeholder() for _ in names),
                sql.Identifier(self.key),
                conflict,
            ),
            [_value(v) for v in payload.values()],
        )

    def _apply_row_by_row(self, connection: psycopg.Connection, changes: Sequence[RowChange]) -> BatchOutcome:
        outcome = BatchOutcome()
        with connection.transaction():
            for change in changes:
                try:
                    with connection.transaction():  # a savepoint: a refused row undoes only itself
                        self._apply_one(connection, change)
                    outcome.acknowledged.append(change.key)
                except psycopg.OperationalError:
                    raise
                except psycopg.Error as exc:
                    outcome.rejected[change.key] = " ".join(str(exc).split())
        return outcome


def _column_type(value: Any) -> str:
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    return "numeric" if numeric else "text"  # also for null: a later number still fits as text


def _value(value: Any) -> Any:
    """Numbers stay numbers; everything else is sent as text (the columns are text)."""
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    return str(value).lower() if isinstance(value, bool) else str(value)
