"""Data quality: Great Expectations suites declared in expectations/*.yml."""

from cdp.quality.config import SuiteConfig, load_suites
from cdp.quality.run import RESULTS_TABLE, CheckResult, QualityReport, run_quality

__all__ = ["RESULTS_TABLE", "CheckResult", "QualityReport", "SuiteConfig", "load_suites", "run_quality"]
