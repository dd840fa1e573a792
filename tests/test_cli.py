"""The `cdp` command as a user runs it: real processes, real files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb


def cdp(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cdp.cli", *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_generate_then_load_twice(tmp_path: Path, project_root: Path) -> None:
    generated = cdp(
        "generate", "--customers", "120", "--seed", "5", "--out", str(tmp_path / "land"), cwd=project_root
    )
    assert generated.returncode == 0, generated.stderr
    assert "crm_contacts" in generated.stdout
    warehouse = tmp_path / "wh.duckdb"
    first = cdp("load", str(tmp_path / "land"), "--warehouse", str(warehouse), cwd=project_root)
    second = cdp("load", str(tmp_path / "land"), "--warehouse", str(warehouse), cwd=project_root)
    assert first.returncode == 0 and second.returncode == 0, first.stdout + second.stdout
    assert "8 file(s) skipped" in second.stdout
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw._load_log").fetchone()[0] == 8


def test_load_error_is_one_clear_line_and_exit_code_1(tmp_path: Path, project_root: Path) -> None:
    result = cdp(
        "load", str(tmp_path / "missing"), "--warehouse", str(tmp_path / "wh.duckdb"), cwd=project_root
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: landing folder ")
    assert "does not exist" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_outside_a_project_says_where_to_run(tmp_path: Path) -> None:
    result = cdp("build", cwd=tmp_path)
    assert result.returncode == 1
    assert "no dbt_project.yml" in result.stderr
