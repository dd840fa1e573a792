"""`dbt build` with this project's Python models on targets whose dbt adapter cannot run them
(dbt-postgres; dbt-spark with `method: session`).

dbt-duckdb runs Python models in-process, so on DuckDB this is plain `dbt build`. Elsewhere
cdp runs the same model files itself: dbt compiles each one (refs resolve to the target's
relations), cdp executes the compiled code with each ref read from the target into an
in-memory DuckDB relation (the API the models use on DuckDB too), and writes the returned
table to the model's relation. The build runs in phases so every Python model finds its
parents built: seeds; for each Python model in dependency order, `dbt run` of its SQL
ancestors not built yet, then the model; `dbt run` of the rest; `dbt test` of everything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from dataclasses import asdict, dataclass
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from cdp.dbt_runner import DbtResult, dbt_statuses, run_dbt
from cdp.errors import CdpError
from cdp.project import Project, dbt_target
from cdp.targets import PYTHON_MODEL_TARGETS, TargetTables, open_target

SELECTION_FLAGS = frozenset({"--select", "-s", "--exclude", "--selector", "--models", "-m"})
BUILDABLE = ("model.", "seed.")
COMPILED_MODELS = "cdp_python_models.json"  # in the target path: the compiled models, in order


@dataclass(frozen=True)
class PythonModel:
    unique_id: str
    name: str
    path: str  # original_file_path, for error messages
    schema: str
    identifier: str
    compiled_code: str
    # dbt's incremental_strategy: with 'append' the returned rows add to the stored ones
    incremental_strategy: str | None = None


def build(
    project: Project,
    args: list[str] | None = None,
    quiet: bool = False,
    capture: bool = False,
    env: dict[str, str] | None = None,
) -> DbtResult:
    """`dbt build` of the whole project on the target of ``env`` (else $CDP_TARGET)."""
    args = list(args or [])
    target = dbt_target({**project.dbt_env(), **(env or {})})
    if target in PYTHON_MODEL_TARGETS:
        return run_dbt(project, ["build", *args], quiet=quiet, capture=capture, env=env)
    if SELECTION_FLAGS.intersection(args):
        raise CdpError(
            f"cdp builds the whole project on target {target!r} (it runs the Python models between "
            "dbt phases): leave out --select/--exclude, or run dbt itself for a subset without them"
        )
    return PhasedBuild(project, target, args, quiet, capture, env or {}).run()


class PhasedBuild:
    def __init__(
        self, project: Project, target: str, args: list[str], quiet: bool, capture: bool, env: dict[str, str]
    ) -> None:
        self.project = project
        self.target = target
        self.full_refresh = "--full-refresh" in args
        self.args = [arg for arg in args if arg != "--full-refresh"]
        self.target_path = _target_path(project.root, self.args)
        self.quiet, self.capture, self.env = quiet, capture, env
        self.statuses: Counter[str] = Counter()
        self.outputs: list[str] = []
        self.commands: list[str] = []

    def run(self) -> DbtResult:
        # dbt writes each Python model's compiled code (its refs resolved) to the manifest.
        names = sorted(path.stem for path in (self.project.root / "models").rglob("*.py"))
        # With --full-refresh, so an incremental Python model compiles with is_incremental False.
        if names and not self._dbt(["compile", *self._refresh(), "--select", *names], quiet=True):
            return self._result(1)
        manifest = json.loads((self.target_path / "manifest.json").read_text())
        models = python_models(manifest)
        # Later dbt commands rewrite manifest.json without the compiled code: keep it apart.
        self.compiled = self.target_path / COMPILED_MODELS
        self.compiled.write_text(json.dumps([asdict(model) for model in models], indent=1))
        if not self._dbt(["seed", *self._refresh()]):
            return self._result(1)
        done: set[str] = set()
        for model in models:
            ancestors = _ancestors(manifest, model.unique_id) - done - {m.unique_id for m in models}
            if ancestors and not self._run_models(_names(manifest, ancestors)):
                return self._result(1)
            if not self._python(model):
                return self._result(1)
            done |= ancestors | {model.unique_id}
        rest = {uid for uid in manifest["nodes"] if uid.startswith("model.")} - done
        rest -= {model.unique_id for model in models}
        if rest and not self._run_models(_names(manifest, rest)):
            return self._result(1)
        return self._result(0 if self._dbt(["test"]) else 1)

    def _refresh(self) -> list[str]:
        return ["--full-refresh"] if self.full_refresh else []

    def _run_models(self, names: list[str]) -> bool:
        return self._dbt(["run", *self._refresh(), "--select", *names])

    def _dbt(self, step: list[str], quiet: bool = False) -> bool:
        """One dbt command; ``quiet`` hides its output unless it fails (compile prints code)."""
        capture = self.capture or quiet
        result = run_dbt(self.project, [*step, *self.args], quiet=self.quiet, capture=capture, env=self.env)
        self.commands.append(" ".join(step[:4]) + (" …" if len(step) > 4 else ""))
        if self.capture or not result.ok:
            self.outputs.append(result.output)
        if not self.capture and not result.ok and quiet:
            print(result.output, file=sys.stderr)
        if step[0] != "compile":
            self.statuses += dbt_statuses(self.target_path / "run_results.json")
        return result.ok

    def _python(self, model: PythonModel) -> bool:
        """Runs ``model`` in a child process (Spark's metastore admits one process at a time)."""
        command = [sys.executable, "-m", "cdp.python_models", str(self.project.root), self.target]
        command += [str(self.compiled), model.unique_id]
        completed = subprocess.run(
            command,
            cwd=self.project.root,
            env={**self.project.dbt_env(), **self.env},
            check=False,
            stdout=subprocess.PIPE if self.capture else subprocess.DEVNULL if self.quiet else None,
            stderr=subprocess.STDOUT if self.capture else None,
            text=True,
        )
        self.commands.append(f"python model {model.name}")
        self.outputs.append(completed.stdout or "")
        self.statuses["success" if completed.returncode == 0 else "error"] += 1
        return completed.returncode == 0

    def _result(self, returncode: int) -> DbtResult:
        return DbtResult(self.commands, returncode, self.statuses, "\n".join(self.outputs))


def python_models(manifest: dict[str, Any]) -> list[PythonModel]:
    """The enabled, compiled Python models of ``manifest``, parents before children."""
    nodes = {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node.get("language") == "python"
    }
    order = TopologicalSorter(
        {uid: [parent for parent in _ancestors(manifest, uid) if parent in nodes] for uid in nodes}
    ).static_order()
    models = []
    for uid in order:
        node = nodes[uid]
        if not node.get("compiled_code"):
            raise CdpError(f"Python model {node['original_file_path']} was not compiled: run `dbt compile`")
        models.append(
            PythonModel(
                unique_id=uid,
                name=node["name"],
                path=node["original_file_path"],
                schema=node["schema"],
                identifier=node["alias"],
                compiled_code=node["compiled_code"],
                incremental_strategy=node["config"].get("incremental_strategy"),
            )
        )
    return models


def run_python_model(model: PythonModel, tables: TargetTables) -> int:
    """Executes ``model``'s compiled code against ``tables``; returns the rows written."""
    namespace: dict[str, Any] = {"__name__": f"dbt_python_model_{model.name}"}
    # The code dbt compiled from the project's own model file, as dbt-duckdb would run it.
    exec(compile(model.compiled_code, model.path, "exec"), namespace)
    session = duckdb.connect()
    incremental = namespace["dbtObj"](None).is_incremental  # as compiled: the table exists, no --full-refresh
    if incremental:
        _attach_this(session, model, tables)

    def load(relation: str) -> duckdb.DuckDBPyRelation:
        return session.from_arrow(tables.read(f"select * from {relation}"))

    returned = namespace["model"](namespace["dbtObj"](load), session)
    table = _as_arrow(returned, model)
    if incremental and model.incremental_strategy == "append":
        table = _appended(session, model, table)
    tables.write(model.schema, model.identifier, table)
    for name in _state_tables(session, model):  # after the model's table: its state describes it
        tables.write(
            model.schema, name, session.sql(f'select * from "{model.schema}"."{name}"').to_arrow_table()
        )
    return table.num_rows


def _attach_this(session: duckdb.DuckDBPyConnection, model: PythonModel, tables: TargetTables) -> None:
    """Copies the model's current table from the target into ``session``, as schema.identifier
    (cdp.model_reuse.stored_rows reads it there), for an incremental model's last rows; and its
    state tables (schema.identifier__*, e.g. cdp.identity.pair_scoring's), as on DuckDB."""
    state = tables.table_names(model.schema, f"{model.identifier}__")
    session.execute(f'create schema if not exists "{model.schema}"')
    for name in [model.identifier, *state]:
        session.register("cdp_stored_rows", tables.read(f"select * from {model.schema}.{name}"))
        session.execute(f'create table "{model.schema}"."{name}" as select * from cdp_stored_rows')
        session.unregister("cdp_stored_rows")


def _appended(session: duckdb.DuckDBPyConnection, model: PythonModel, returned: pa.Table) -> pa.Table:
    """The stored rows, as the model left them in ``session`` (it may delete some), with the
    returned rows added: what dbt-duckdb's append leaves on DuckDB."""
    this = f'"{model.schema}"."{model.identifier}"'
    session.register("cdp_returned_rows", returned)
    try:
        session.execute(f"insert into {this} by name select * from cdp_returned_rows")
    finally:
        session.unregister("cdp_returned_rows")
    return session.sql(f"select * from {this}").to_arrow_table()


def _state_tables(session: duckdb.DuckDBPyConnection, model: PythonModel) -> list[str]:
    """Tables the model keeps beside its own in ``session`` (schema.identifier__*), to write back."""
    found = session.execute(
        "select table_name from information_schema.tables"
        " where table_schema = ? and starts_with(table_name, ?) order by table_name",
        [model.schema, f"{model.identifier}__"],
    ).fetchall()
    return [row[0] for row in found]


def _as_arrow(returned: object, model: PythonModel) -> pa.Table:
    if isinstance(returned, pa.Table):
        return returned
    if isinstance(returned, pd.DataFrame):
        return pa.Table.from_pandas(returned, preserve_index=False)
    if isinstance(returned, duckdb.DuckDBPyRelation):
        return returned.to_arrow_table()
    raise CdpError(
        f"{model.path}: model() returned {type(returned).__name__}; "
        "return a pyarrow Table, a pandas DataFrame or a DuckDB relation"
    )


def _ancestors(manifest: dict[str, Any], unique_id: str) -> set[str]:
    """Models and seeds ``unique_id`` depends on, directly or not."""
    found: set[str] = set()
    pending = [unique_id]
    while pending:
        node = manifest["nodes"].get(pending.pop())
        for parent in (node or {}).get("depends_on", {}).get("nodes", []):
            if parent.startswith(BUILDABLE) and parent not in found:
                found.add(parent)
                pending.append(parent)
    return found


def _names(manifest: dict[str, Any], unique_ids: set[str]) -> list[str]:
    return sorted(manifest["nodes"][uid]["name"] for uid in unique_ids if uid.startswith("model."))


def _target_path(root: Path, args: list[str]) -> Path:
    if "--target-path" in args:
        path = Path(args[args.index("--target-path") + 1])
        return path if path.is_absolute() else root / path
    return root / "target"


def main(argv: list[str]) -> int:
    """`python -m cdp.python_models ROOT TARGET COMPILED UNIQUE_ID`: one model, one process."""
    root, target, compiled, unique_id = argv
    models = [PythonModel(**fields) for fields in json.loads(Path(compiled).read_text())]
    model = next(model for model in models if model.unique_id == unique_id)
    with open_target(target, Path(root)) as tables:
        rows = run_python_model(model, tables)
    print(f"python model {model.name}: {rows:,} rows -> {model.schema}.{model.identifier} on {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
