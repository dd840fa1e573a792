"""Great Expectations suites (expectations/*.yml) as blocking Dagster asset checks.

One check op per suite, one check per table it validates, on the asset of that table. A failed
error-severity expectation fails the check with severity ERROR, which blocks every downstream
asset in the run (a broken raw export never reaches staging, broken marts are never
activated); warn-severity failures are recorded with severity WARN and block nothing.
"""

# No `from __future__ import annotations`: Dagster reads these functions' type hints at runtime.
from collections.abc import Iterable, Iterator
from pathlib import Path

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    MetadataValue,
    multi_asset_check,
)

from cdp.errors import ConfigError
from cdp.quality import CheckResult, SuiteConfig, load_suites, run_quality
from orchestration.resources import CdpResource

CHECK_NAME = "great_expectations"


def table_key(table: str) -> AssetKey:
    """``schema.table`` as the suites write it -> the asset key of that relation."""
    return AssetKey(table.split("."))


def build_quality_checks(project_root: Path, asset_keys: Iterable[AssetKey]) -> list[AssetChecksDefinition]:
    known = set(asset_keys)
    checks = []
    for suite in load_suites(project_root):
        unknown = [table for table in suite.tables if table_key(table) not in known]
        if unknown:
            raise ConfigError(
                f"{suite.path}: table(s) {', '.join(unknown)} are not assets of this project "
                "(a suite checks raw tables, dbt models or seeds, written schema.table)"
            )
        checks.append(_suite_check(suite))
    return checks


def _suite_check(suite: SuiteConfig) -> AssetChecksDefinition:
    specs = [
        AssetCheckSpec(
            CHECK_NAME,
            asset=table_key(table),
            blocking=True,
            description=f"Great Expectations suite '{suite.name}' ({suite.path.name}): "
            f"{len(config.expectations)} expectation(s) on {table}",
        )
        for table, config in suite.tables.items()
    ]

    @multi_asset_check(specs=specs, name=f"gx_{suite.name}_suite", compute_kind="great_expectations")
    def check_suite(context: AssetCheckExecutionContext, cdp: CdpResource) -> Iterator[AssetCheckResult]:
        report = run_quality(cdp.project, [suite.name])
        context.log.info(report.summary())
        for table in suite.tables:
            results = [r for r in report.results if r.table_name == table]
            yield _check_result(table, results, report.run_id, report.docs)

    return check_suite


def _check_result(table: str, results: list[CheckResult], run_id: str, docs: Path | None) -> AssetCheckResult:
    errors = [r for r in results if not r.success and r.severity == "error"]
    warnings = [r for r in results if not r.success and r.severity == "warn"]
    failures = errors + warnings
    metadata = {
        "expectations": len(results),
        "passed": sum(r.success for r in results),
        "failed_error": len(errors),
        "failed_warn": len(warnings),
        "run_id": run_id,  # rows in quality.validation_results
        "failures": MetadataValue.md("\n".join(f"- {r.message}" for r in failures) or "none"),
    }
    if docs:
        metadata["data_docs"] = MetadataValue.path(str(docs))
    return AssetCheckResult(
        asset_key=table_key(table),
        check_name=CHECK_NAME,
        passed=not failures,
        # WARN only when nothing but warn-severity expectations failed: that blocks nothing.
        severity=AssetCheckSeverity.WARN if warnings and not errors else AssetCheckSeverity.ERROR,
        metadata=metadata,
        description="; ".join(r.message for r in failures) or None,
    )
