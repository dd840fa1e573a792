"""The loader: idempotent per file, lineage on every row, clear errors for bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cdp.errors import LoadError
from cdp.generate import GenerationResult
from cdp.load import load_landing
from cdp.source_config import raw_tables


@pytest.fixture
def tables(project_root: Path):
    return raw_tables(project_root)


@pytest.fixture
def landing(tmp_path: Path, sample: GenerationResult) -> Path:
    """A private copy of the sample, free to break."""
    copy = tmp_path / "landing"
    shutil.copytree(sample.out_dir, copy)
    return copy


def _count(warehouse: Path, table: str) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(f"select count(*) from raw.{table}").fetchone()[0]


def test_loading_the_same_files_twice_adds_nothing(
    tmp_path: Path, landing: Path, tables, sample: GenerationResult
) -> None:
    warehouse = tmp_path / "wh.duckdb"
    first = load_landing(landing, warehouse, tables)
    second = load_landing(landing, warehouse, tables)
    assert first.rows_loaded == sample.total_rows
    assert second.rows_loaded == 0
    assert second.files_skipped == len(tables)
    assert _count(warehouse, "web_events") == sample.row_counts["web_events"]


def test_a_new_file_is_appended_with_lineage(tmp_path: Path, landing: Path, tables) -> None:
    warehouse = tmp_path / "wh.duckdb"
    load_landing(landing, warehouse, tables)
    before = _count(warehouse, "support_tickets")
    extra = pa.table({c: ["T-1" if c == "ticket_id" else None] for c in tables["support_tickets"].columns})
    pq.write_table(extra, landing / "support_tickets" / "part-00001.parquet")
    report = load_landing(landing, warehouse, tables)
    assert report.rows_loaded == 1
    with duckdb.connect(str(warehouse), read_only=True) as con:
        lineage = con.execute("""select _source_file, _source_row, _loaded_at is not null
            from raw.support_tickets where ticket_id = 'T-1'""").fetchall()
    assert _count(warehouse, "support_tickets") == before + 1
    assert len(lineage) == 1
    assert lineage[0][0].startswith("support_tickets/part-00001.parquet@")
    assert lineage[0][1:] == (0, True)


def test_missing_landing_folder_is_a_clear_error(tmp_path: Path, tables) -> None:
    with pytest.raises(LoadError, match="does not exist"):
        load_landing(tmp_path / "nowhere", tmp_path / "wh.duckdb", tables)


def test_corrupt_file_names_the_file_and_loads_nothing_of_it(tmp_path: Path, landing: Path, tables) -> None:
    broken = landing / "shop_orders" / "part-00000.parquet"
    broken.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(LoadError, match=r"shop_orders/part-00000\.parquet: not a readable Parquet"):
        load_landing(landing, tmp_path / "wh.duckdb", tables)


def test_missing_column_names_file_and_column(tmp_path: Path, landing: Path, tables) -> None:
    path = landing / "consent_records" / "part-00000.parquet"
    pq.write_table(pq.read_table(path).drop_columns(["purpose"]), path)
    with pytest.raises(LoadError, match=r"consent_records/part-00000\.parquet: missing column\(s\) purpose"):
        load_landing(landing, tmp_path / "wh.duckdb", tables)


def test_undeclared_column_is_refused_not_dropped(tmp_path: Path, landing: Path, tables) -> None:
    path = landing / "consent_records" / "part-00000.parquet"
    table = pq.read_table(path)
    pq.write_table(table.append_column("ip_address", pa.array(["1.2.3.4"] * table.num_rows)), path)
    with pytest.raises(LoadError, match="ip_address are not declared"):
        load_landing(landing, tmp_path / "wh.duckdb", tables)


def test_unknown_table_folder_is_refused(tmp_path: Path, landing: Path, tables) -> None:
    (landing / "loyalty_points").mkdir()
    with pytest.raises(LoadError, match="no raw table 'loyalty_points' is declared"):
        load_landing(landing, tmp_path / "wh.duckdb", tables)


def test_empty_landing_folder_is_refused(tmp_path: Path, tables) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(LoadError, match=r"no \.parquet files"):
        load_landing(tmp_path / "empty", tmp_path / "wh.duckdb", tables)
