"""The identity blocklist (seed identity_blocklist, int_identity__blocklisted_identifiers):
which identifiers it blocks on the generated sample, that probabilistic matching never sees
them, and that its regex rules are compiled as literals once the seed is built (a pattern read
from a column is compiled per row on DuckDB)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import duckdb

from cdp.dbt_runner import run_dbt
from cdp.project import Project

from .conftest import PROJECT_ROOT
from .test_quality import copy_of, execute

SEED = PROJECT_ROOT / "seeds" / "identity_blocklist.csv"
MODEL = "int_identity__blocklisted_identifiers"
VERDICTS = "identity.int_identity__identifier_verdicts"


def _rules() -> list[dict[str, str]]:
    with SEED.open(newline="") as file:
        return list(csv.DictReader(file))


def _matches(rule: dict[str, str], identifier_type: str, value: str) -> bool:
    if rule["identifier_type"] not in (identifier_type, "*"):
        return False
    if rule["match_type"] == "exact":
        return value == rule["pattern"]
    return re.search(rule["pattern"], value) is not None


def _expected_reason(identifier_type: str, value: str, rules: list[dict[str, str]]) -> str | None:
    """The guard's reason, computed in Python from the seed: the smallest of the matching rules'."""
    reasons = [
        f"blocklist: {rule['reason']} ({rule['pattern']})"
        for rule in rules
        if _matches(rule, identifier_type, value)
    ]
    return min(reasons) if reasons else None


def test_the_guard_blocks_exactly_what_the_seed_matches(built: Project) -> None:
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        verdicts = con.execute(
            f"select identifier_type, identifier_value, guard, guard_reason from {VERDICTS}"
        ).fetchall()
    rules = _rules()
    expected = {
        (kind, value): reason
        for kind, value, _, _ in verdicts
        if (reason := _expected_reason(kind, value, rules)) is not None
    }
    blocked = {(kind, value): reason for kind, value, guard, reason in verdicts if guard == "blocklist"}
    assert blocked == expected
    # The sample's junk covers both kinds of rule, so both paths of the guard are exercised.
    kinds = {rule["match_type"] for rule in rules for key in blocked if _matches(rule, *key)}
    assert kinds == {"exact", "regex"}


def test_probabilistic_matching_never_compares_a_blocklisted_email_or_phone(built: Project) -> None:
    with duckdb.connect(str(built.warehouse), read_only=True) as con:

        def count(sql: str) -> int:
            return con.execute(sql).fetchall()[0][0]

        blocked = f"select identifier_value from identity.{MODEL}"
        staged = count(
            f"select count(*) from staging.stg_crm__contacts where email_canonical in ({blocked})"
            f" or phone_e164 in ({blocked})"
        )
        compared = count(
            "select count(*) from identity.int_identity__person_records"
            f" where email_canonical in ({blocked}) or phone_e164 in ({blocked})"
        )
        kept = count(
            "select count(*) from identity.int_identity__person_records where email_canonical is not null"
        )
    assert staged > 0  # the sample has placeholders to keep out
    assert compared == 0
    assert kept > 0


def _compiled_model(project: Project, target_path: Path) -> str:
    result = run_dbt(project, ["compile", "--select", MODEL, "--target-path", str(target_path)], capture=True)
    assert result.ok, result.output
    return next(target_path.rglob(f"{MODEL}.sql")).read_text()


def test_regex_rules_are_literals_once_the_seed_is_built(built: Project, tmp_path: Path) -> None:
    compiled = _compiled_model(built, tmp_path / "target")
    for rule in _rules():
        if rule["match_type"] == "regex":
            assert f"regexp_matches(identifiers.identifier_value, '{rule['pattern']}')" in compiled


def test_before_the_seed_is_built_the_pattern_column_is_used(tmp_path: Path) -> None:
    compiled = _compiled_model(Project(PROJECT_ROOT, tmp_path / "empty.duckdb"), tmp_path / "target")
    assert "regexp_matches(identifiers.identifier_value, blocklist.pattern)" in compiled
    assert "regexp_matches(identifiers.identifier_value, '" not in compiled


def test_a_pattern_with_a_quote_is_refused_naming_it(built: Project, tmp_path: Path) -> None:
    project = copy_of(built, tmp_path)
    execute(
        project, "insert into identity.identity_blocklist values ('email', 'regex', '^o''brien@', 'typo')"
    )
    result = run_dbt(
        project, ["compile", "--select", MODEL, "--target-path", str(tmp_path / "target")], capture=True
    )
    assert not result.ok
    assert "seed identity_blocklist: regex pattern ^o'brien@ contains a single quote" in result.output
