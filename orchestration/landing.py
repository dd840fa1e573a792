"""Raw landing: the files in the landing folder and the raw tables they are loaded into.

``landing/files`` stands for the Parquet files waiting in the landing folder. In production
other tools drop them there (the landing sensor notices); materializing the asset generates
the sample data set instead, as ``cdp generate`` does. ``raw/<table>`` are the raw tables,
keyed as dbt's sources are, so the staging models hang below them in the asset graph.
"""

# No `from __future__ import annotations`: Dagster reads these functions' type hints at runtime.
from collections.abc import Iterator
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    Config,
    MaterializeResult,
    asset,
    multi_asset,
)

from cdp.generate import generate
from cdp.load import load_landing
from cdp.pipeline import landing_is_current
from cdp.source_config import RAW_SCHEMA, raw_tables
from orchestration.resources import CdpResource
from orchestration.translator import relation_key

LANDING_FILES = AssetKey(["landing", "files"])


class SampleDataConfig(Config):
    people: int = 10_000  # true people behind the generated records
    seed: int = 42


@asset(key=LANDING_FILES, group_name="landing", kinds={"parquet"})
def landing_files(
    context: AssetExecutionContext, config: SampleDataConfig, cdp: CdpResource
) -> MaterializeResult:
    """Parquet files per raw table in the landing folder ($CDP_LANDING_DIR, default data/landing).
    Materializing generates the sample data set: realistic, noisy records of `people` people."""
    landing = cdp.landing
    if landing_is_current(landing, config.people, config.seed):
        context.log.info(f"{landing} already holds the sample for {config.people} people, seed {config.seed}")
        return MaterializeResult(metadata={"path": str(landing), "generated_rows": 0, "cached": True})
    result = generate(landing, config.people, config.seed)
    return MaterializeResult(
        metadata={"path": str(landing), "generated_rows": result.total_rows, "people": config.people}
    )


def raw_table_specs(project_root: Path, target: str) -> list[AssetSpec]:
    return [
        AssetSpec(
            relation_key(RAW_SCHEMA, table.identifier),
            deps=[LANDING_FILES],
            group_name=RAW_SCHEMA,
            description=f"Raw `{table.source}.{table.name}` as landed; every column text plus lineage.",
            kinds={target},
        )
        for table in raw_tables(project_root).values()
    ]


def build_raw_tables(project_root: Path, target: str) -> AssetsDefinition:
    @multi_asset(specs=raw_table_specs(project_root, target), name="load_raw_tables")
    def load_raw_tables(context: AssetExecutionContext, cdp: CdpResource) -> Iterator[MaterializeResult]:
        """Load new landing files into the raw tables (files loaded before are skipped by hash)."""
        cdp.require_duckdb("loading raw tables")
        tables = raw_tables(cdp.project.root)
        report = load_landing(cdp.landing, cdp.project.warehouse, tables)
        for identifier in tables:
            files = [f for f in report.files if f.table == identifier]
            yield MaterializeResult(
                asset_key=relation_key(RAW_SCHEMA, identifier),
                metadata={
                    "rows_loaded": sum(f.rows for f in files if not f.skipped),
                    "files_loaded": sum(not f.skipped for f in files),
                    "files_skipped": sum(f.skipped for f in files),
                },
            )
        context.log.info(
            f"loaded {report.rows_loaded:,} rows ({report.files_skipped} file(s) already loaded)"
        )

    return load_raw_tables
