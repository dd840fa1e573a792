"""`cdp explain`: every record, identifier and link that built one customer, and every link a
guard cut, read from the identity models in the warehouse."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from cdp.errors import CdpError
from cdp.warehouse import table_exists

IDENTITY_SCHEMA = "identity"


class ExplainError(CdpError):
    """The customer or identifier asked about cannot be explained."""


@dataclass(frozen=True)
class Explanation:
    customer_id: str
    anchor: str  # the node the customer_id is derived from
    records_by_source: list[tuple[str, int, str, str]]  # source_table, records, first, last seen
    identifiers: list[tuple[str, str, int, str]]  # type, value, records, first seen
    # node_a, node_b, rule, records, example record, match probability, evidence
    links: list[tuple[str, str, str, int, str, float | None, str | None]]
    cut_links: list[tuple[str, str, str, int]]  # node, guard, reason, records
    history: list[tuple[str, str, str, str]]  # changed_at, change_type, old -> new, reason


def explain_customer(
    warehouse: Path, *, customer_id: str | None = None, node: str | None = None
) -> Explanation:
    """Explain ``customer_id``, or the customer holding ``node`` (`<type>:<value>` or
    `record:<source_table>:<record_id>`)."""
    if not warehouse.is_file():
        raise ExplainError(f"warehouse {warehouse} does not exist: run `cdp demo` or `cdp build` first")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        _require_identity_models(con, warehouse)
        customer_id = customer_id or _customer_of_node(con, node or "")
        anchor = _rows(
            con,
            f"select anchor_node_key from {IDENTITY_SCHEMA}.int_identity__node_clusters "
            "where customer_id = ? limit 1",
            [customer_id],
        )
        if not anchor:
            raise ExplainError(
                f"no customer {customer_id!r} in {warehouse} "
                f"(ids look like cus_0123456789abcdef; see {IDENTITY_SCHEMA}.customer_records)"
            )
        return Explanation(
            customer_id=customer_id,
            anchor=anchor[0][0],
            records_by_source=_rows(con, RECORDS_SQL, [customer_id]),
            identifiers=_rows(con, IDENTIFIERS_SQL, [customer_id]),
            links=_rows(con, LINKS_SQL, [customer_id]),
            cut_links=_rows(con, CUT_LINKS_SQL, [customer_id]),
            history=_rows(con, HISTORY_SQL, [customer_id, customer_id]),
        )


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[str]) -> list[tuple]:
    return con.execute(sql, params).fetchall()


def _require_identity_models(con: duckdb.DuckDBPyConnection, warehouse: Path) -> None:
    if not table_exists(con, f"{IDENTITY_SCHEMA}.int_identity__node_clusters"):
        raise ExplainError(f"{warehouse} has no {IDENTITY_SCHEMA} models yet: run `cdp build` first")


def _customer_of_node(con: duckdb.DuckDBPyConnection, node: str) -> str:
    if ":" not in node:
        raise ExplainError(
            f"cannot look up {node!r}: give an identifier as TYPE:VALUE (e.g. email:ann@example.com, "
            "as staged: lowercase, canonical) or a record as record:SOURCE_TABLE:RECORD_ID"
        )
    if node.startswith("record:"):
        _, source_table, record_id = node.split(":", 2)
        found = _rows(
            con,
            f"select customer_id from {IDENTITY_SCHEMA}.customer_records "
            "where source_table = ? and record_id = ?",
            [source_table, record_id],
        )
    else:
        found = _rows(
            con,
            f"select customer_id from {IDENTITY_SCHEMA}.int_identity__node_clusters where node_key = ?",
            [node],
        )
    if not found:
        raise ExplainError(
            f"no customer holds {node!r}; check {IDENTITY_SCHEMA}.identity_edge_audit for cut links"
        )
    return found[0][0]


RECORDS_SQL = f"""
select source_table, count(*), cast(min(observed_at) as varchar), cast(max(observed_at) as varchar)
from {IDENTITY_SCHEMA}.customer_records where customer_id = ?
group by source_table order by source_table
"""

IDENTIFIERS_SQL = f"""
select identifier_type, identifier_value, records, cast(first_seen_at as varchar)
from {IDENTITY_SCHEMA}.customer_identifiers where customer_id = ?
order by priority, identifier_value
"""

LINKS_SQL = f"""
with members as (
    select node_key from {IDENTITY_SCHEMA}.int_identity__node_clusters where customer_id = ?
)
select
    edges.node_a, edges.node_b, edges.link_rule, count(*) as records,
    min(edges.source_table || ':' || edges.record_id) as example_record,
    max(edges.match_probability) as match_probability,
    max(edges.evidence) as evidence
from {IDENTITY_SCHEMA}.int_identity__edges as edges
inner join members on edges.node_a = members.node_key
where edges.node_a <> edges.node_b
group by edges.node_a, edges.node_b, edges.link_rule
order by edges.link_rule, edges.node_a, edges.node_b
"""

CUT_LINKS_SQL = f"""
select audit.node_b, audit.guard, audit.reason, count(*) as records
from {IDENTITY_SCHEMA}.identity_edge_audit as audit
inner join {IDENTITY_SCHEMA}.customer_records as records
    on audit.source_table = records.source_table and audit.record_id = records.record_id
where records.customer_id = ? and audit.decision = 'cut'
group by audit.node_b, audit.guard, audit.reason
order by audit.guard, audit.node_b
"""

HISTORY_SQL = f"""
select cast(changed_at as varchar), change_type, old_customer_id || ' -> ' || new_customer_id, reason
from {IDENTITY_SCHEMA}.customer_id_history
where old_customer_id = ? or new_customer_id = ?
order by changed_at
"""
