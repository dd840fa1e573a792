"""The Dagster code location of the CDP: one ``Definitions`` in ``orchestration.definitions``.

Raw landing (sample generation, load) -> Great Expectations raw checks (blocking) -> the dbt
project as assets, its tests as asset checks -> marts checks (blocking) -> activation.
"""
