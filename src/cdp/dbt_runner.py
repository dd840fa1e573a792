"""Runs dbt for the project in a subprocess (dbt keeps global state; a process isolates it)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from cdp.project import Project


@dataclass
class DbtResult:
    command: list[str]
    returncode: int
    statuses: Counter[str] = field(default_factory=Counter)  # pass / warn / error / skip / success
    output: str = ""  # dbt's stdout and stderr, when run with capture=True

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def dbt_executable() -> str:
    """The dbt installed beside this Python, so the project's pinned version is used."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def run_dbt(
    project: Project,
    args: list[str],
    quiet: bool = False,
    capture: bool = False,
    env: dict[str, str] | None = None,
) -> DbtResult:
    """Runs dbt on ``project``: output to the terminal, discarded (``quiet``) or returned in
    ``DbtResult.output`` (``capture``); ``env`` adds variables (e.g. CDP_TARGET)."""
    command = [
        dbt_executable(),
        *args,
        "--project-dir",
        str(project.root),
        "--profiles-dir",
        str(project.root),
    ]
    project.warehouse.parent.mkdir(parents=True, exist_ok=True)
    completed = subprocess.run(
        command,
        cwd=project.root,
        env={**project.dbt_env(), **(env or {})},
        check=False,
        stdout=subprocess.PIPE if capture else subprocess.DEVNULL if quiet else None,
        stderr=subprocess.STDOUT if capture else None,
        text=True,
    )
    statuses = dbt_statuses(project.root / "target" / "run_results.json")
    return DbtResult(command, completed.returncode, statuses, completed.stdout or "")


def dbt_statuses(run_results: Path) -> Counter[str]:
    if not run_results.exists():
        return Counter()
    return Counter(result["status"] for result in json.loads(run_results.read_text())["results"])
