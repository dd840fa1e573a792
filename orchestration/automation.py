"""Jobs, schedules and the landing sensor.

- ``full_build``: load, the whole dbt project with ``--full-refresh``, all checks, activation;
  daily at 03:00 UTC.
- ``incremental_build``: the same without ``--full-refresh`` (incremental models only add what
  is new); hourly, and whenever the landing sensor sees new files.
Both leave out ``landing/files``: schedules never regenerate the sample data. Schedules and the
sensor start stopped; turn them on in the UI (Automation) or set CDP_AUTOMATION=on.
"""

# No `from __future__ import annotations`: Dagster reads these functions' type hints at runtime.
import json
from collections.abc import Mapping
from typing import Any

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunConfig,
    RunRequest,
    ScheduleDefinition,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    define_asset_job,
    sensor,
)

from cdp.load import landing_files
from cdp.segments.config import cron_for
from cdp.source_config import raw_tables
from cdp.sync.config import DeclaredSync
from orchestration.activation import sync_asset_key
from orchestration.dbt_models import DBT_ASSETS_OP, DbtBuildConfig
from orchestration.landing import LANDING_FILES
from orchestration.resources import CdpResource

PIPELINE = AssetSelection.all() - AssetSelection.assets(LANDING_FILES)


FULL_BUILD = "full_build"
INCREMENTAL_BUILD = "incremental_build"


def build_jobs() -> list[Any]:
    """The two asset jobs (unresolved until the Definitions hold them)."""
    full = define_asset_job(
        FULL_BUILD,
        selection=PIPELINE,
        config=RunConfig(ops={DBT_ASSETS_OP: DbtBuildConfig(full_refresh=True)}),
        description="Load new raw files, rebuild every dbt model (--full-refresh), check, activate.",
    )
    incremental = define_asset_job(
        INCREMENTAL_BUILD,
        selection=PIPELINE,
        config=RunConfig(ops={DBT_ASSETS_OP: DbtBuildConfig(full_refresh=False)}),
        description="Load new raw files, dbt build (incremental models add only the new), check, activate.",
    )
    return [full, incremental]


def build_schedules(env: Mapping[str, str]) -> list[ScheduleDefinition]:
    status = DefaultScheduleStatus.RUNNING if _automation_on(env) else DefaultScheduleStatus.STOPPED
    return [
        ScheduleDefinition(
            name="daily_full_build",
            job_name=FULL_BUILD,
            cron_schedule="0 3 * * *",
            execution_timezone="UTC",
            default_status=status,
        ),
        ScheduleDefinition(
            name="hourly_incremental_build",
            job_name=INCREMENTAL_BUILD,
            cron_schedule="0 * * * *",
            execution_timezone="UTC",
            default_status=status,
        ),
    ]


def build_sync_schedules(syncs: list[DeclaredSync], env: Mapping[str, str]) -> tuple[list[Any], list[Any]]:
    """A job running one sync's asset, and its schedule, for every sync with a ``schedule``
    (hourly, daily and weekly run at minute 0 / 04:00 UTC, after the daily full build)."""
    status = DefaultScheduleStatus.RUNNING if _automation_on(env) else DefaultScheduleStatus.STOPPED
    jobs, schedules = [], []
    for declared in syncs:
        if not declared.sync.schedule:
            continue
        job = define_asset_job(
            f"sync_{declared.name}",
            selection=AssetSelection.assets(sync_asset_key(declared)),
            description=f"Sync {declared.name} on its own (schedule: {declared.sync.schedule}).",
        )
        jobs.append(job)
        schedules.append(
            ScheduleDefinition(
                name=f"sync_{declared.name}_schedule",
                job=job,
                cron_schedule=cron_for(declared.sync.schedule),
                execution_timezone="UTC",
                default_status=status,
            )
        )
    return jobs, schedules


def build_landing_sensor(env: Mapping[str, str]) -> SensorDefinition:
    status = DefaultSensorStatus.RUNNING if _automation_on(env) else DefaultSensorStatus.STOPPED

    @sensor(job_name=INCREMENTAL_BUILD, minimum_interval_seconds=30, default_status=status)
    def landing_sensor(context: SensorEvaluationContext, cdp: CdpResource) -> SensorResult | SkipReason:
        """Starts incremental_build when Parquet files newer than the last ones seen land."""
        newest = _newest_landing_file(cdp)
        if newest is None:
            return SkipReason(f"no Parquet files in {cdp.landing}")
        seen = json.loads(context.cursor) if context.cursor else None
        if seen is not None and tuple(seen) >= newest:
            return SkipReason(f"no new files in {cdp.landing} since {seen[1]}")
        return SensorResult(
            run_requests=[RunRequest(run_key=f"landing:{newest[0]}:{newest[1]}")],
            cursor=json.dumps(list(newest)),
        )

    return landing_sensor


def _newest_landing_file(cdp: CdpResource) -> tuple[int, str] | None:
    """(mtime in ns, path) of the newest file to load; the loader's own listing, so a stray
    file or an undeclared table folder fails the sensor with the loader's message."""
    if not cdp.landing.is_dir() or not any(cdp.landing.glob("*/*.parquet")):
        return None
    files = [path for _, path in landing_files(cdp.landing, raw_tables(cdp.project.root))]
    return max(((path.stat().st_mtime_ns, str(path)) for path in files), default=None)


def _automation_on(env: Mapping[str, str]) -> bool:
    return env.get("CDP_AUTOMATION", "off").lower() in {"on", "1", "true"}
