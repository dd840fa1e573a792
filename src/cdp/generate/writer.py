"""Streams chunks to one Parquet file per table, a row group per chunk, so memory stays
bounded by the chunk size whatever the number of people."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import pyarrow as pa
import pyarrow.parquet as pq


def string_table(columns: Sequence[str], rows: Sequence[dict[str, str | None]] | Sequence[tuple]) -> pa.Table:
    """An Arrow table of string columns from dict rows or tuple rows."""
    schema = pa.schema([(c, pa.string()) for c in columns])
    if rows and isinstance(rows[0], dict):
        data = {name: [row[name] for row in rows] for name in columns}  # type: ignore[index]
    else:
        data = {name: [row[i] for row in rows] for i, name in enumerate(columns)}
    return pa.Table.from_pydict(data, schema=schema)


class ParquetTableWriter:
    """Appends Arrow tables as row groups to ``<out_dir>/<table>/<file_name>``."""

    def __init__(self, out_dir: Path, tables: dict[str, Sequence[str]], file_name: str) -> None:
        self._tables = tables
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._out_dir = out_dir
        self._file_name = file_name
        self.row_counts: dict[str, int] = dict.fromkeys(tables, 0)

    def write(self, table: str, data: pa.Table) -> None:
        if data.num_rows == 0:
            return
        self._writer(table, data.schema).write_table(data)
        self.row_counts[table] += data.num_rows

    def _writer(self, table: str, schema: pa.Schema) -> pq.ParquetWriter:
        if table not in self._writers:
            path = self._out_dir / table / self._file_name
            path.parent.mkdir(parents=True, exist_ok=True)
            self._writers[table] = pq.ParquetWriter(path, schema, compression="zstd")
        return self._writers[table]

    def close(self) -> None:
        # Tables with no rows still get a file, so the landing folder is complete.
        for table, columns in self._tables.items():
            if table not in self._writers:
                empty = string_table(columns, [])
                self._writer(table, empty.schema).write_table(empty)
        for writer in self._writers.values():
            writer.close()

    def __enter__(self) -> ParquetTableWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
