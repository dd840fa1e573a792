"""Where the project and its warehouse are: found from the working directory or given."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cdp.errors import ConfigError

DEFAULT_WAREHOUSE = Path("warehouse/cdp.duckdb")
DEFAULT_TARGET = "duckdb"


def dbt_target(env: dict[str, str] | None = None) -> str:
    """The dbt target profiles.yml selects: $CDP_TARGET, default duckdb."""
    return (env if env is not None else os.environ).get("CDP_TARGET", DEFAULT_TARGET)


def postgres_settings(env: dict[str, str] | None = None) -> dict[str, str]:
    """psycopg connection keywords from the env vars profiles.yml's postgres target reads
    (same defaults: postgres@127.0.0.1:5432, no password, database test)."""
    env = env if env is not None else os.environ
    return {
        "host": env.get("CDP_PG_HOST", "127.0.0.1"),
        "port": env.get("CDP_PG_PORT", "5432"),
        "user": env.get("CDP_PG_USER", "postgres"),
        "password": env.get("CDP_PG_PASSWORD", ""),
        "dbname": env.get("CDP_PG_DATABASE", "test"),
    }


@dataclass(frozen=True)
class Project:
    root: Path  # folder holding dbt_project.yml and profiles.yml
    warehouse: Path  # the DuckDB file dbt and the loader share

    @classmethod
    def discover(cls, start: Path | None = None, warehouse: Path | None = None) -> Project:
        """The project containing ``start`` (default: the working directory).

        The warehouse is ``warehouse`` if given, else $CDP_DUCKDB_PATH, else
        ``warehouse/cdp.duckdb`` under the project root.
        """
        here = (start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            if (folder / "dbt_project.yml").is_file():
                chosen = warehouse or Path(os.environ.get("CDP_DUCKDB_PATH", folder / DEFAULT_WAREHOUSE))
                return cls(folder, chosen if chosen.is_absolute() else folder / chosen)
        raise ConfigError(
            f"no dbt_project.yml in {here} or its parents: run cdp inside the project, or pass --project-dir"
        )

    def dbt_env(self) -> dict[str, str]:
        """Environment for dbt, pointing its DuckDB profile at this project's warehouse."""
        return {**os.environ, "CDP_DUCKDB_PATH": str(self.warehouse)}
