"""The dbt project as dagster-dbt sees it.

dagster-dbt builds the asset graph from ``manifest.json`` when the definitions are imported, so
the manifest must exist first: ``cdp ui`` and the tests parse it with
``cdp.dagster_ui.prepare_manifest`` (``dagster-dbt project prepare-and-package --file
orchestration/project.py`` does the same), into ``target/dagster``.
"""

from pathlib import Path

from dagster_dbt import DbtProject

from cdp.dagster_ui import MANIFEST_TARGET_PATH

PROJECT_ROOT = Path(__file__).resolve().parents[1]

dbt_project = DbtProject(
    project_dir=PROJECT_ROOT,
    profiles_dir=PROJECT_ROOT,
    target_path=MANIFEST_TARGET_PATH,
)
