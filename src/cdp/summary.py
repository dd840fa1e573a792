"""What the demo reports: rows per raw table (landed, staged, quarantined, why), identity
resolution, and the customer marts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from cdp.source_config import RAW_SCHEMA, RawTable

STAGING_SCHEMA = "staging"


@dataclass(frozen=True)
class StagingCount:
    raw_table: str
    raw: int
    staged: int
    quarantined: int
    top_reasons: list[tuple[str, int]]

    @property
    def accounted_for(self) -> bool:
        return self.raw == self.staged + self.quarantined


def model_suffix(table: RawTable) -> str:
    return f"{table.source}__{table.name}"


def staging_counts(warehouse: Path, tables: dict[str, RawTable]) -> list[StagingCount]:
    counts = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for identifier, table in sorted(tables.items()):
            suffix = model_suffix(table)
            quarantine = f"{STAGING_SCHEMA}.quarantine_{suffix}"
            # Reasons read '<kind>: <detail>', so they group by the text before ':'.
            reasons = con.execute(f"""
                select split_part(_quarantine_reason, ':', 1) as kind, count(*)
                from {quarantine} group by 1 order by 2 desc, 1 limit 3""").fetchall()
            counts.append(
                StagingCount(
                    identifier,
                    _count(con, f"{RAW_SCHEMA}.{identifier}"),
                    _count(con, f"{STAGING_SCHEMA}.stg_{suffix}"),
                    _count(con, quarantine),
                    reasons,
                )
            )
    return counts


def _count(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    return con.execute(f"select count(*) from {relation}").fetchone()[0]


@dataclass(frozen=True)
class IdentitySummary:
    records: int
    customers: int
    probabilistic_links: int
    cut_links: list[tuple[str, int]]  # guard, links cut
    passes: int  # of the latest connected-components run


def identity_summary(warehouse: Path) -> IdentitySummary:
    """What identity resolution made of the staged records."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        records, customers = con.execute(
            "select count(*), count(distinct customer_id) from identity.customer_records"
        ).fetchall()[0]
        by_guard = con.execute(
            "select guard, count(*) from identity.identity_edge_audit group by guard order by guard"
        ).fetchall()
        passes = con.execute(
            "select passes from identity.int_identity__components__runs order by finished_at desc limit 1"
        ).fetchall()[0][0]
    linked = dict(by_guard).pop("probabilistic", 0)
    return IdentitySummary(
        records, customers, linked, [(g, n) for g, n in by_guard if g != "probabilistic"], passes
    )


@dataclass(frozen=True)
class CustomerSummary:
    customers: int
    buyers: int  # customers with a completed order
    revenue: float  # completed orders, reporting currency
    rfm_segments: list[tuple[str, int]]  # segment, customers; largest first
    predicted_clv: float | None  # sum over customers; None while the models cannot be fitted
    mean_churn_risk: float | None


def customer_summary(warehouse: Path) -> CustomerSummary:
    """What the customer marts hold: customers, buyers, revenue, RFM segments, predictions."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        customers, buyers, revenue = con.execute(
            "select count(*), count(*) filter (where order_count > 0), coalesce(sum(total_revenue), 0) "
            "from customer.customer_360"
        ).fetchall()[0]
        segments = con.execute(
            "select rfm_segment, count(*) from customer.customer_rfm group by rfm_segment order by 2 desc, 1"
        ).fetchall()
        clv, churn = con.execute(
            "select sum(predicted_clv), avg(churn_risk) from customer.customer_predictions"
        ).fetchall()[0]
    return CustomerSummary(
        customers,
        buyers,
        float(revenue),
        segments,
        None if clv is None else float(clv),
        None if churn is None else float(churn),
    )
