"""Import Great Expectations without pyspark's import-time noise.

GX imports pyspark whenever it is installed (the project's `spark` extra is), and pyspark
warns on import that it "does not yet fully support pandas >= 3.0.0". The quality checks
never use Spark through GX (they run on DuckDB and PostgreSQL only), so that warning would
only clutter every `cdp check` and the first line of its error output.
"""

from __future__ import annotations

import warnings
from types import ModuleType

_PYSPARK_PANDAS_WARNING = "PySpark does not yet fully support pandas"


def import_gx() -> ModuleType:
    """The ``great_expectations`` module; the first import runs with that one warning muted."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_PYSPARK_PANDAS_WARNING, category=FutureWarning)
        import great_expectations
    return great_expectations
