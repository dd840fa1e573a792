"""Activation assets: segment membership pushed out of the warehouse, downstream of the marts.

They depend on the segment and customer marts, whose Great Expectations checks are blocking:
when a marts check fails with an error, nothing is activated in that run.
"""

# No `from __future__ import annotations`: Dagster reads these functions' type hints at runtime.
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from cdp.activation import export_segment_files
from cdp.segments.config import load_segments
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
