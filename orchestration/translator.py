"""How dbt nodes become Dagster assets: keyed by their warehouse relation, grouped by layer.

Keys are ``[schema, table]`` (``raw/crm_contacts``, ``customer/customer_360``), the names an
analyst sees in the warehouse and the ones the Great Expectations suites use, so a suite's
table is an asset key without a mapping table. Groups are the schemas, except the predictive
models of the customer schema, which get their own group so operators see where model fitting
happens (the bi view of the predictions, bi/customer_predictions, stays in group bi).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster import AssetKey
from dagster_dbt import DagsterDbtTranslator


def relation_key(schema: str, table: str) -> AssetKey:
    return AssetKey([schema, table])


class CdpDbtTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        table = dbt_resource_props.get("identifier") or dbt_resource_props.get("alias")
        return relation_key(dbt_resource_props["schema"], table or dbt_resource_props["name"])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        schema = dbt_resource_props["schema"]
        if schema == "customer" and "predict" in dbt_resource_props["name"]:
            return "predictions"
        return schema
