"""A local file holding the destination's current rows of one sync (csv, parquet or jsonl).

Each batch is applied to the rows read from the file (upsert/insert/delete by key) and the file
is rewritten beside its final name, then renamed into place: a reader never sees half a file,
and applying the same batch twice leaves the same file.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Self

import pyarrow as pa
import pyarrow.parquet as pq

from cdp.sync.changes import BatchOutcome, DestinationUnavailable, RowChange
from cdp.sync.destinations.base import DestinationConfig

Row = dict[str, Any]


class FileConfig(DestinationConfig):
    type: Literal["file"]
    path: Path  # relative to the project root
    format: Literal["csv", "parquet", "jsonl"] = "csv"
    key_field: str = ""  # set by the engine (bind): the field holding the sync's key

    def bind(self, root: Path, key_field: str) -> Self:
        path = self.path if self.path.is_absolute() else root / self.path
        return self.model_copy(update={"path": path, "key_field": key_field})


class FileDestination:
    def __init__(self, config: FileConfig, sync_name: str) -> None:
        self.config = config
        self.sync_name = sync_name
        self.name = f"file {config.path}"
        self.batch_size = config.batch_size
        self.key_field = config.key_field or "customer_id"

    def apply(self, changes: Sequence[RowChange]) -> BatchOutcome:
        try:
            self._apply(changes)
        except OSError as exc:  # disk full, no permission, a folder in the way: nothing was written
            raise DestinationUnavailable(f"{self.name}: {exc}") from exc
        return BatchOutcome(acknowledged=[change.key for change in changes])

    def _apply(self, changes: Sequence[RowChange]) -> None:
        current = read_rows(self.config.path, self.config.format)
        rows = {str(row[self.key_field]): row for row in current}
        # Columns of the file and of the payloads: a file emptied by deletes keeps its header.
        columns = [*current[0]] if current else []
        for change in changes:
            columns.extend(name for name in change.payload if name not in columns)
            if change.operation == "delete":
                rows.pop(change.key, None)
            elif change.operation == "upsert" or change.key not in rows:
                rows[change.key] = dict(change.payload)
        write_rows(self.config.path, self.config.format, [rows[key] for key in sorted(rows)], columns)

    def close(self) -> None:
        pass


def read_rows(path: Path, fmt: str) -> list[Row]:
    """The rows of ``path`` (none if it does not exist yet)."""
    if not path.exists():
        return []
    if fmt == "csv":
        with path.open(newline="") as handle:
            return list(csv.DictReader(handle))
    if fmt == "jsonl":
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return pq.read_table(path).to_pylist()


def write_rows(path: Path, fmt: str, rows: list[Row], columns: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    if fmt == "csv":
        with partial.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
    elif fmt == "jsonl":
        partial.write_text(
            "".join(json.dumps({c: row.get(c) for c in columns}, default=str) + "\n" for row in rows)
        )
    else:
        pq.write_table(pa.Table.from_pylist([{c: row.get(c) for c in columns} for row in rows]), partial)
    partial.replace(path)
