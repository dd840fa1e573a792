"""The DuckDB profile's settings (profiles.yml) reach the warehouse dbt writes."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from cdp.dbt_runner import run_dbt
from cdp.project import Project
from tests.conftest import PROJECT_ROOT


@pytest.mark.parametrize(
    ("disabled", "text_compression"),
    [("", "DICT_FSST"), ("fsst,dict_fsst", "Uncompressed")],
    ids=["default", "text-uncompressed"],
)
def test_disabled_compression_methods_decide_how_dbt_stores_text(
    tmp_path: Path, disabled: str, text_compression: str
) -> None:
    """CDP_DUCKDB_DISABLED_COMPRESSION is the profile's disabled_compression_methods: a seed
    dbt loads stores its text compressed by default and uncompressed with fsst and dict_fsst
    disabled."""
    warehouse = tmp_path / "warehouse.duckdb"
    result = run_dbt(
        Project(PROJECT_ROOT, warehouse),
        [
            "seed",
            "--select",
            "identity_blocklist",
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
        ],
        capture=True,
        env={"CDP_DUCKDB_DISABLED_COMPRESSION": disabled},
    )
    assert result.ok, result.output
    with duckdb.connect(str(warehouse), read_only=True) as con:
        compressions = con.execute(
            "select distinct compression from pragma_storage_info('identity.identity_blocklist')"
            " where segment_type = 'VARCHAR'"
        ).fetchall()
    assert compressions == [(text_compression,)]
