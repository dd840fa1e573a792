"""The one ``Definitions`` of the CDP code location (``dagster dev -m orchestration.definitions``,
or ``cdp ui``). Settings come from environment variables, defaulting to the embedded DuckDB."""

from __future__ import annotations

import os
from collections.abc import Mapping

from dagster import Definitions, in_process_executor, multiprocess_executor
from dagster_dbt import DbtCliResource

from cdp.dbt_runner import dbt_executable
from cdp.sync.config import load_syncs
from orchestration.activation import build_sync_assets, segment_files
from orchestration.automation import build_jobs, build_landing_sensor, build_schedules, build_sync_schedules
from orchestration.dbt_models import build_dbt_models
from orchestration.landing import build_raw_tables, landing_files
from orchestration.project import PROJECT_ROOT, dbt_project
from orchestration.quality_checks import build_quality_checks
from orchestration.resources import CdpResource


def build_definitions(env: Mapping[str, str] | None = None) -> Definitions:
    env = os.environ if env is None else env
    cdp = CdpResource.from_env(PROJECT_ROOT, env)
    dbt_models = build_dbt_models()
    raw = build_raw_tables(PROJECT_ROOT, cdp.target)
    # An invalid syncs/*.yml stops the code location from loading, naming file, sync and field.
    syncs = load_syncs(PROJECT_ROOT)
    assets = [landing_files, raw, dbt_models, segment_files, *build_sync_assets(syncs)]
    keys = [key for definition in (raw, dbt_models) for key in definition.keys]
    sync_jobs, sync_schedules = build_sync_schedules(syncs, env)

    return Definitions(
        assets=assets,
        asset_checks=build_quality_checks(PROJECT_ROOT, keys),
        jobs=[*build_jobs(), *sync_jobs],
        schedules=[*build_schedules(env), *sync_schedules],
        sensors=[build_landing_sensor(env)],
        resources={
            "cdp": cdp,
            # No --target: profiles.yml reads $CDP_TARGET as the manifest's parse did, so dbt
            # can reuse its partial parse instead of parsing the project again on every run.
            "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
        },
        # The embedded DuckDB file has one writer at a time: run steps one after another.
        executor=in_process_executor if cdp.target == "duckdb" else multiprocess_executor,
    )


defs = build_definitions()
