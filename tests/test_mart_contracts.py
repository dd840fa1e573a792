"""Every mart is what BI and activation read: each one must be declared with an enforced
contract, and every column documented with a type."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from cdp.dbt_runner import run_dbt
from cdp.project import Project

from .conftest import PROJECT_ROOT

MARTS = PROJECT_ROOT / "models" / "marts"


def _declared_models() -> dict[str, tuple[Path, dict]]:
    declared: dict[str, tuple[Path, dict]] = {}
    for properties in sorted(MARTS.rglob("_*models.yml")):
        for model in yaml.safe_load(properties.read_text()).get("models", []):
            declared[model["name"]] = (properties, model)
    return declared


def _mart_files() -> list[Path]:
    return sorted(p for p in MARTS.rglob("*") if p.suffix in {".sql", ".py"})


def test_every_mart_file_is_declared() -> None:
    declared = _declared_models()
    missing = [str(p.relative_to(PROJECT_ROOT)) for p in _mart_files() if p.stem not in declared]
    assert not missing, f"marts without a _models.yml entry: {missing}"


@pytest.mark.parametrize("model_file", _mart_files(), ids=lambda p: p.stem)
def test_every_mart_column_has_a_type_and_a_description(model_file: Path) -> None:
    properties, model = _declared_models()[model_file.stem]
    assert model.get("description"), f"{properties}: {model['name']} has no description"
    assert model.get("columns"), f"{properties}: {model['name']} declares no columns"
    for column in model["columns"]:
        where = f"{properties.relative_to(PROJECT_ROOT)}: {model['name']}.{column['name']}"
        assert column.get("data_type"), f"{where}: no data_type (the contract needs one)"
        assert column.get("description"), f"{where}: no description"


# Enforced wherever the declared type names are the engine's own (not on Spark: see dbt_project.yml).
ENFORCED = "{{ target.type not in ['spark', 'databricks'] }}"


def test_contracts_are_enforced_on_every_mart_folder() -> None:
    config = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())["models"]["cdp"]["marts"]
    folders = sorted(p.name for p in MARTS.iterdir() if p.is_dir())
    for folder in folders:
        assert config.get(folder, {}).get("+contract") == {"enforced": ENFORCED}, (
            f"dbt_project.yml: models.cdp.marts.{folder} must set +contract: {{enforced: {ENFORCED}}}"
        )


def test_the_contracts_are_enforced_on_duckdb(tmp_path: Path) -> None:
    """The Jinja condition renders to a real true: dbt's manifest has every mart enforced."""
    result = run_dbt(
        Project(PROJECT_ROOT, tmp_path / "unused.duckdb"),
        ["parse", "--target-path", str(tmp_path / "target")],
        capture=True,
    )
    assert result.ok, result.output
    nodes = json.loads((tmp_path / "target" / "manifest.json").read_text())["nodes"].values()
    marts = [node for node in nodes if node["resource_type"] == "model" and node["fqn"][1] == "marts"]
    assert len(marts) == len(_mart_files())
    assert [node["name"] for node in marts if node["config"]["contract"]["enforced"] is not True] == []
