"""Activation assets: segment membership pushed out of the warehouse, and one asset per declared
sync (syncs/*.yml), downstream of the marts.

They depend on the segment and customer marts, whose Great Expectations checks are blocking:
when a marts check fails with an error, nothing is activated in that run.
"""

# No `from __future__ import annotations`: Dagster reads these functions' type hints at runtime.
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from cdp.activation import export_segment_files
from cdp.segments.config import load_segments
from cdp.sync import DeclaredSync, SyncRun, run_sync
from cdp.sync.engine import relocate_exports
from orchestration.resources import CdpResource
from orchestration.translator import relation_key

SEGMENT_FILES = AssetKey(["activation", "segment_files"])


@asset(
    key=SEGMENT_FILES,
    deps=[relation_key("segments", "segment_membership"), relation_key("customer", "customer_360")],
    group_name="activation",
    kinds={"csv"},
)
def segment_files(context: AssetExecutionContext, cdp: CdpResource) -> MaterializeResult:
    """One CSV per segment (segment_name, customer_id, refreshed_at) in $CDP_EXPORT_DIR/segments,
    mirroring the current membership: the local destination of the reverse-ETL step."""
    cdp.require_duckdb("exporting segment files")
    segments = [declared.name for declared in load_segments(cdp.project.root)]
    files = export_segment_files(cdp.project.warehouse, cdp.exports / "segments", segments)
    sizes = {file.segment: file.rows for file in files}
    context.log.info(f"wrote {len(files)} segment file(s) to {cdp.exports / 'segments'}: {sizes}")
    return MaterializeResult(
        metadata={
            "folder": MetadataValue.path(str(cdp.exports / "segments")),
            "members": sum(sizes.values()),
            "segment_sizes": MetadataValue.json(sizes),
        }
    )


def _source_key(declared: DeclaredSync) -> AssetKey:
    segment = declared.sync.source.segment
    return (
        relation_key("segments", f"segment__{segment}")
        if segment
        else relation_key("customer", "customer_360")
    )


def build_sync_asset(declared: DeclaredSync) -> AssetsDefinition:
    """``activation/sync_<name>``: runs one declared sync after its source is built."""
    kind = declared.sync.destination["type"]

    @asset(
        name=f"sync_{declared.name}",
        key_prefix=["activation"],
        deps=list(dict.fromkeys([_source_key(declared), relation_key("customer", "customer_360")])),
        group_name="activation",
        kinds={kind},
        description=f"Sync {declared.name} ({declared.sync.mode}, {kind}): {declared.sync.description}",
    )
    def _sync(context: AssetExecutionContext, cdp: CdpResource) -> MaterializeResult:
        cdp.require_duckdb(f"sync {declared.name}")
        here = relocate_exports(declared, cdp.project.root, cdp.exports)
        run = run_sync(cdp.project, here)
        context.log.info(f"sync {run.sync_name}: {run.status}, {run.to_dict()}")
        if run.status in ("failed", "partial"):
            # Acknowledged rows are already in the snapshot: a re-run sends only the rest.
            raise Failure(f"sync {run.sync_name}: {run.status} ({run.error_sample})", metadata=_metadata(run))
        return MaterializeResult(metadata=_metadata(run))

    return _sync


def _metadata(run: SyncRun) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "status": run.status,
        "rows_planned": run.rows_planned,
        "inserts": run.inserts,
        "updates": run.updates,
        "deletes": run.deletes,
        "rows_acknowledged": run.rows_acknowledged,
        "rows_rejected": run.rows_rejected,
    }


def sync_asset_key(declared: DeclaredSync) -> AssetKey:
    return AssetKey(["activation", f"sync_{declared.name}"])


def build_sync_assets(syncs: list[DeclaredSync]) -> list[AssetsDefinition]:
    """One asset per sync declared in syncs/*.yml."""
    return [build_sync_asset(declared) for declared in syncs]
