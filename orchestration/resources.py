"""Where the project, warehouse, landing and export folders are: read from environment variables.

Defaults are the embedded set-up (DuckDB at warehouse/cdp.duckdb, landing in data/landing), so
``cdp ui`` works with nothing set; a deployment sets the variables instead of editing code.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from dagster import ConfigurableResource

from cdp.activation import DEFAULT_EXPORT_DIR
from cdp.errors import CdpError
from cdp.project import Project, dbt_target

DEFAULT_LANDING = Path("data/landing")


class CdpResource(ConfigurableResource):
    """The CDP project as the assets see it."""

    project_dir: str
    warehouse: str  # the DuckDB file (the duckdb target); dbt reads the same $CDP_DUCKDB_PATH
    landing_dir: str  # <table>/*.parquet files waiting to be loaded
    export_dir: str  # where activation writes its files
    target: str  # dbt target: duckdb, postgres, ...

    @classmethod
    def from_env(cls, project_root: Path, env: Mapping[str, str] | None = None) -> CdpResource:
        """$CDP_DUCKDB_PATH, $CDP_LANDING_DIR, $CDP_EXPORT_DIR and $CDP_TARGET, relative to the project."""
        env = os.environ if env is None else env
        project = Project.discover(
            project_root, Path(env["CDP_DUCKDB_PATH"]) if "CDP_DUCKDB_PATH" in env else None
        )
        return cls(
            project_dir=str(project.root),
            warehouse=str(project.warehouse),
            landing_dir=str(_under(project.root, env.get("CDP_LANDING_DIR"), DEFAULT_LANDING)),
            export_dir=str(_under(project.root, env.get("CDP_EXPORT_DIR"), DEFAULT_EXPORT_DIR)),
            target=dbt_target(dict(env)),
        )

    def require_duckdb(self, step: str) -> None:
        """The loader and the segment files work on the DuckDB warehouse only, so far."""
        if self.target != "duckdb":
            raise CdpError(
                f"{step} reads and writes the DuckDB warehouse only, but CDP_TARGET={self.target}: "
                "unset CDP_TARGET to run the pipeline on DuckDB"
            )

    @property
    def project(self) -> Project:
        return Project(Path(self.project_dir), Path(self.warehouse))

    @property
    def landing(self) -> Path:
        return Path(self.landing_dir)

    @property
    def exports(self) -> Path:
        return Path(self.export_dir)


def _under(root: Path, value: str | None, default: Path) -> Path:
    path = Path(value) if value else default
    return path if path.is_absolute() else root / path
