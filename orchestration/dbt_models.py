"""The dbt project as Dagster assets: models and seeds as assets, dbt tests as asset checks."""

# No `from __future__ import annotations`: Dagster reads these functions' type hints at runtime.
from collections.abc import Iterator
from typing import Any

from dagster import AssetExecutionContext, AssetsDefinition, Config
from dagster_dbt import DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration.project import dbt_project
from orchestration.translator import CdpDbtTranslator

DBT_ASSETS_OP = "cdp_dbt_models"


class DbtBuildConfig(Config):
    # Rebuilds incremental models from scratch; the identity and segment history logs are
    # configured full_refresh=false in dbt, so stable customer ids and history survive it.
    full_refresh: bool = False


def build_dbt_models() -> AssetsDefinition:
    translator = CdpDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    @dbt_assets(
        manifest=dbt_project.manifest_path,
        project=dbt_project,
        dagster_dbt_translator=translator,
        name=DBT_ASSETS_OP,
    )
    def cdp_dbt_models(
        context: AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig
    ) -> Iterator[Any]:
        """`dbt build` of the selected models: each model runs, then its tests."""
        args = ["build", *(["--full-refresh"] if config.full_refresh else [])]
        yield from dbt.cli(args, context=context).stream()

    return cdp_dbt_models
