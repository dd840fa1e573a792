"""`cdp segments`: size, churn and overlap of every segment, read from the warehouse."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from cdp.errors import SegmentError
from cdp.warehouse import table_exists

MEMBERSHIP = "segments.segment_membership"
HISTORY = "segments.segment_membership_history"
CUSTOMERS = "customer.customer_360"


@dataclass(frozen=True)
class SegmentSize:
    segment_name: str
    members: int
    share: float  # of all customers in customer_360
    entered_last_run: int
    exited_last_run: int


@dataclass(frozen=True)
class SegmentOverlap:
    segment_a: str
    segment_b: str
    both: int  # customers in both segments
    jaccard: float  # both / customers in either


@dataclass
class SegmentReport:
    customers: int
    last_run_at: datetime | None  # when segment_membership was last computed
    sizes: list[SegmentSize] = field(default_factory=list)
    overlaps: list[SegmentOverlap] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["last_run_at"] = self.last_run_at.isoformat() if self.last_run_at else None
        return data


def segment_report(warehouse: Path, segment_names: list[str]) -> SegmentReport:
    """Sizes and pairwise overlaps of ``segment_names`` (the declared segments, in order)."""
    if not warehouse.is_file():
        raise SegmentError(
            f"warehouse {warehouse} does not exist: run `cdp build` first (or pass --warehouse)"
        )
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as exc:
        raise SegmentError(f"cannot open warehouse {warehouse} read-only: {exc}") from exc
    with con:
        missing = [t for t in (CUSTOMERS, MEMBERSHIP, HISTORY) if not table_exists(con, t)]
        if missing:
            raise SegmentError(
                f"{warehouse} has no {', '.join(missing)}: "
                "run `cdp build` to build the customer and segment models"
            )
        customers = con.execute(f"select count(*) from {CUSTOMERS}").fetchone()[0]
        last_run_at = con.execute(f"select max(refreshed_at) from {MEMBERSHIP}").fetchone()[0]
        report = SegmentReport(customers, last_run_at)
        members = dict(
            con.execute(f"select segment_name, count(*) from {MEMBERSHIP} group by segment_name").fetchall()
        )
        changes = {
            name: (entered, exited)
            for name, entered, exited in con.execute(
                f"""
                select
                    segment_name,
                    count(*) filter (where entered_at = $run),
                    count(*) filter (where exited_at = $run)
                from {HISTORY}
                group by segment_name
                """,
                {"run": last_run_at},
            ).fetchall()
        }
        for name in segment_names:
            size = members.get(name, 0)
            entered, exited = changes.get(name, (0, 0))
            share = size / customers if customers else 0.0
            report.sizes.append(SegmentSize(name, size, share, entered, exited))
        pairs = {
            (a, b): both
            for a, b, both in con.execute(
                f"""
                select a.segment_name, b.segment_name, count(*)
                from {MEMBERSHIP} as a
                inner join {MEMBERSHIP} as b
                    on a.customer_id = b.customer_id and a.segment_name < b.segment_name
                group by a.segment_name, b.segment_name
                """
            ).fetchall()
        }
    for i, a in enumerate(segment_names):
        for b in segment_names[i + 1 :]:
            both = pairs.get((min(a, b), max(a, b)), 0)
            either = members.get(a, 0) + members.get(b, 0) - both
            report.overlaps.append(SegmentOverlap(a, b, both, both / either if either else 0.0))
    return report
