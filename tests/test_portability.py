"""The SQL portability gate (`cdp portability`): the project passes it, and a model that calls a
DuckDB-only function fails it by name unless an adapter.dispatch macro with a default__
fallback writes the call."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from cdp.portability import (
    ALLOWLIST_FILE,
    AllowedFinding,
    AllowedFunction,
    Allowlist,
    PortabilityError,
    check_manifest,
    compile_project,
)
from cdp.project import Project
from tests.test_cli import cdp
from tests.test_segments import copy_project

# Probe models and macros added to a copy of the project. strip_accents is DuckDB-only (Spark,
# Trino, Snowflake and BigQuery have no such function) and sqlglot does not know it.
PROBES = {
    "models/probe/probe_direct.sql": "select strip_accents('Zoë') as name\n",
    "models/probe/probe_dispatched.sql": "select {{ probe_unaccent(\"'Zoë'\") }} as name\n",
    "models/probe/probe_plain_macro.sql": "select {{ probe_plain_unaccent(\"'Zoë'\") }} as name\n",
    "models/probe/probe_no_fallback.sql": "select {{ probe_unaccent_everywhere(\"'Zoë'\") }} as name\n",
    # Known to sqlglot, but BigQuery has no regexp_replace flags: it must say so.
    "models/probe/probe_regexp_flags.sql": "select regexp_replace('a-a', '-', '', 'g') as name\n",
    "macros/probe.sql": """
{% macro probe_unaccent(expr) -%}
    {{ return(adapter.dispatch('probe_unaccent', 'cdp')(expr)) }}
{%- endmacro %}
{% macro default__probe_unaccent(expr) -%}
    translate({{ expr }}, 'àáäèéëìíïòóöùúü', 'aaaeeeiiiooouuu')
{%- endmacro %}
{% macro duckdb__probe_unaccent(expr) -%}
    strip_accents({{ expr }})
{%- endmacro %}

{% macro probe_plain_unaccent(expr) -%}
    strip_accents({{ expr }})
{%- endmacro %}

{% macro probe_unaccent_everywhere(expr) -%}
    {{ return(adapter.dispatch('probe_unaccent_everywhere', 'cdp')(expr)) }}
{%- endmacro %}
{% macro default__probe_unaccent_everywhere(expr) -%}
    strip_accents({{ expr }})
{%- endmacro %}
{% macro duckdb__probe_unaccent_everywhere(expr) -%}
    strip_accents({{ expr }})
{%- endmacro %}
""",
}
PROBE_MODELS = [Path(path).stem for path in PROBES if path.startswith("models/")]
OTHER_DIALECTS = ("spark", "trino", "snowflake", "bigquery")


@pytest.fixture(scope="module")
def probed(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A copy of the project with the probe models and macros."""
    project = copy_project(tmp_path_factory.mktemp("portability"))
    shutil.copy(Path(__file__).resolve().parents[1] / ALLOWLIST_FILE, project.root / ALLOWLIST_FILE)
    for relative, text in PROBES.items():
        (project.root / relative).parent.mkdir(parents=True, exist_ok=True)
        (project.root / relative).write_text(text)
    return project


@pytest.fixture(scope="module")
def probe_manifest(probed: Project) -> dict[str, Any]:
    return compile_project(probed, "duckdb", PROBE_MODELS)


def failures_of(manifest: dict[str, Any], model: str, allowlist: Allowlist | None = None) -> list[str]:
    report = check_manifest(manifest, allowlist or Allowlist())
    return [line for line in report.failure_lines if f" {model} (" in line]


def test_the_project_passes_the_gate(project_root: Path) -> None:
    result = cdp("portability", cwd=project_root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 failure(s)" in result.stdout
    assert "4 Python model(s) skipped" in result.stdout
    # The window-ordering quirk in customer_events is allowed by portability.yml, not hidden.
    assert "customer_events" in result.stdout and "allowed" in result.stdout


def test_a_duckdb_only_function_fails_naming_model_file_and_dialects(probe_manifest: dict[str, Any]) -> None:
    lines = failures_of(probe_manifest, "probe_direct")
    assert len(lines) == len(OTHER_DIALECTS), lines
    for dialect, line in zip(OTHER_DIALECTS, lines, strict=True):
        assert line.startswith(f"model probe_direct (models/probe/probe_direct.sql) on {dialect}: ")
        assert "strip_accents() is a function sqlglot does not know" in line
        assert "written in its own SQL" in line


def test_the_same_function_through_a_dispatch_macro_with_a_fallback_passes(
    probe_manifest: dict[str, Any],
) -> None:
    assert failures_of(probe_manifest, "probe_dispatched") == []
    node = next(n for n in check_manifest(probe_manifest, Allowlist()).nodes if n.name == "probe_dispatched")
    assert [finding.dialect for finding in node.findings] == list(OTHER_DIALECTS)
    assert all(finding.allowed_by.startswith("dispatch: duckdb__probe_unaccent") for finding in node.findings)


def test_a_plain_macro_or_a_fallback_that_calls_it_too_fails(probe_manifest: dict[str, Any]) -> None:
    plain = failures_of(probe_manifest, "probe_plain_macro")
    assert len(plain) == len(OTHER_DIALECTS)
    assert "written in macro probe_plain_unaccent (macros/probe.sql)" in plain[0]
    everywhere = failures_of(probe_manifest, "probe_no_fallback")
    assert len(everywhere) == len(OTHER_DIALECTS)
    assert "default__probe_unaccent_everywhere calls it too" in everywhere[0]


def test_a_function_sqlglot_cannot_write_for_a_dialect_fails_naming_it(
    probe_manifest: dict[str, Any],
) -> None:
    lines = failures_of(probe_manifest, "probe_regexp_flags")
    assert len(lines) == 1, lines
    assert "on bigquery: sqlglot cannot write it for bigquery" in lines[0]
    assert "'RegexpReplace'" in lines[0] and "written in its own SQL" in lines[0]


def test_the_allowlist_allows_functions_and_documented_exceptions(probe_manifest: dict[str, Any]) -> None:
    functions = Allowlist(functions=[AllowedFunction(name="STRIP_ACCENTS", why="test")])
    assert failures_of(probe_manifest, "probe_direct", functions) == []
    exception = AllowedFinding(
        model="probe_regexp_flags", dialect="bigquery", reason="'modifiers'", why="test"
    )
    assert failures_of(probe_manifest, "probe_regexp_flags", Allowlist(exceptions=[exception])) == []
    # An exception no finding needs fails the gate, so the list cannot go stale.
    stale = AllowedFinding(model="probe_dispatched", dialect="*", reason="anything", why="stale")
    report = check_manifest(probe_manifest, Allowlist(exceptions=[stale]))
    assert any(
        "exception for probe_dispatched on * ('anything') matches no finding" in line
        for line in report.failure_lines
    )


def test_the_command_exits_1_with_one_line_per_failure_and_0_when_dispatched(probed: Project) -> None:
    failing = cdp("portability", "--select", "probe_direct", "--json", cwd=probed.root)
    assert failing.returncode == 1
    report = json.loads(failing.stdout)
    assert report["ok"] is False and [n["name"] for n in report["nodes"]] == ["probe_direct"]
    errors = failing.stderr.strip().splitlines()
    assert len(errors) == len(OTHER_DIALECTS)
    assert all(
        line.startswith("error: model probe_direct (models/probe/probe_direct.sql) on ") for line in errors
    )
    passing = cdp("portability", "--select", "probe_dispatched", cwd=probed.root)
    assert passing.returncode == 0, passing.stderr
    assert "dispatch" in passing.stdout and "0 failure(s)" in passing.stdout


def test_an_invalid_allowlist_is_one_message_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / ALLOWLIST_FILE
    path.write_text("exceptions:\n  - {model: m, dialect: oracle, reason: x, why: y}\n")
    with pytest.raises(PortabilityError, match=r"portability.yml: exceptions.0.dialect: Input should be"):
        Allowlist.read(path)
    path.write_text("functions:\n  - {name: now}\n")
    with pytest.raises(PortabilityError, match=r"portability.yml: functions.0.why: Field required"):
        Allowlist.read(path)
