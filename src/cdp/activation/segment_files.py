"""Current segment membership written as one CSV file per segment, for a local destination.

Only pseudonymous columns leave the warehouse (segment, customer_id, refreshed_at): sending
names or emails needs the consent filtering of a declared sync. Each file is written beside its
final name and renamed into place, so a reader never sees half a file.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cdp.errors import CdpError
from cdp.warehouse import table_exists

DEFAULT_EXPORT_DIR = Path("data/exports")  # under the project root
MEMBERSHIP = "segments.segment_membership"
COLUMNS = ("segment_name", "customer_id", "refreshed_at")


@dataclass(frozen=True)
class SegmentFile:
    segment: str
    path: Path
    rows: int


def export_segment_files(warehouse: Path, out_dir: Path, segments: list[str]) -> list[SegmentFile]:
    """Write ``out_dir/<segment>.csv`` for each of ``segments`` (an empty segment gets a file with
    only the header); other CSV files there are removed, so the folder mirrors the segments."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        if not table_exists(con, MEMBERSHIP):
            raise CdpError(
                f"{warehouse}: {MEMBERSHIP} does not exist: build the segments first (`cdp build`)"
            )
        rows = con.execute(
            f"select {', '.join(COLUMNS)} from {MEMBERSHIP} order by segment_name, customer_id"
        ).fetchall()
    by_segment: dict[str, list[tuple]] = {segment: [] for segment in segments}
    for row in rows:
        if row[0] not in by_segment:
            raise CdpError(
                f"{MEMBERSHIP} holds segment '{row[0]}', which segments/*.yml does not declare: "
                "run `cdp segments compile` and `cdp build`"
            )
        by_segment[row[0]].append(row)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [_write(out_dir / f"{segment}.csv", members) for segment, members in by_segment.items()]
    for stale in set(out_dir.glob("*.csv")) - {f.path for f in written}:
        stale.unlink()
    return written


def _write(path: Path, rows: list[tuple]) -> SegmentFile:
    partial = path.with_suffix(".csv.partial")
    with partial.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(
            (segment, customer_id, refreshed_at.isoformat()) for segment, customer_id, refreshed_at in rows
        )
    partial.replace(path)
    return SegmentFile(path.stem, path, len(rows))
