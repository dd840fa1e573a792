"""Starting the Dagster UI on the project: the dbt manifest it needs, and the command.

dagster-dbt reads ``manifest.json`` when the code location is imported, so the manifest is
parsed first, into a target path of its own (other dbt runs rewrite ``target/``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from cdp.dbt_runner import run_dbt
from cdp.errors import CdpError
from cdp.project import Project

MANIFEST_TARGET_PATH = Path("target/dagster")
CODE_LOCATION = "orchestration.definitions"
DAGSTER_HOME = Path(".dagster")  # run history, schedules' and sensors' state


def prepare_manifest(project: Project) -> Path:
    """Parse the dbt project into ``target/dagster/manifest.json``; returns its path."""
    result = run_dbt(project, ["parse", "--target-path", str(MANIFEST_TARGET_PATH)], capture=True)
    if not result.ok:
        raise CdpError(f"dbt parse failed, so Dagster cannot load the dbt assets:\n{result.output[-3000:]}")
    return project.root / MANIFEST_TARGET_PATH / "manifest.json"


def ui_environment(project: Project) -> dict[str, str]:
    """The UI's environment: this project's warehouse, $DAGSTER_HOME (default .dagster in the
    project), and this Python's scripts first on PATH (so dbt and dagster are the pinned ones)."""
    home = Path(os.environ.get("DAGSTER_HOME") or project.root / DAGSTER_HOME)
    home.mkdir(parents=True, exist_ok=True)
    scripts = str(Path(sys.executable).parent)
    return {
        **project.dbt_env(),
        "DAGSTER_HOME": str(home),
        "PATH": os.pathsep.join([scripts, os.environ.get("PATH", "")]),
    }


def ui_command(project: Project, host: str, port: int) -> list[str]:
    """``dagster dev``: the webserver and the daemon that runs schedules and sensors."""
    dagster = Path(sys.executable).parent / "dagster"
    return [
        str(dagster) if dagster.exists() else "dagster",
        "dev",
        "-m",
        CODE_LOCATION,
        "--working-directory",
        str(project.root),
        "--host",
        host,
        "--port",
        str(port),
    ]
