"""The critical path of a dbt build, from run_results and manifest nodes shaped as dbt writes them."""

from __future__ import annotations

from typing import Any

import pytest

from cdp.critical_path import critical_path


def node(name: str, resource_type: str, *parents: str) -> dict[str, Any]:
    return {"name": name, "resource_type": resource_type, "depends_on": {"nodes": list(parents)}}


def result(unique_id: str, begin: float, end: float | None) -> dict[str, Any]:
    """A run_results entry whose [compile, execute] timings span begin..end seconds after 20:00."""
    if end is None:  # skipped: dbt records no timing
        return {"unique_id": unique_id, "timing": []}
    middle = (begin + end) / 2
    return {
        "unique_id": unique_id,
        "timing": [
            {"name": "compile", "started_at": at(begin), "completed_at": at(middle)},
            {"name": "execute", "started_at": at(middle), "completed_at": at(end)},
        ],
    }


def at(seconds: float) -> str:
    whole, fraction = divmod(round(seconds * 1_000_000), 1_000_000)
    return f"2026-12-06T20:{whole // 60:02d}:{whole % 60:02d}.{fraction:06d}Z"


NODES = {
    "seed.cdp.s": node("s", "seed"),
    "model.cdp.a": node("a", "model", "seed.cdp.s"),
    "test.cdp.not_null_a": node("not_null_a", "test", "model.cdp.a"),
    "model.cdp.x": node("x", "model", "seed.cdp.s"),  # long, but nothing waits for it
    "model.cdp.b": node("b", "model", "model.cdp.a"),
    "test.cdp.rel_b_x": node("rel_b_x", "test", "model.cdp.b", "model.cdp.x"),
    "model.cdp.skipped": node("skipped", "model", "model.cdp.b"),
    "operation.cdp.on-run-end": node("on-run-end", "operation"),
}


def test_the_path_walks_back_through_the_tests_each_model_waited_for() -> None:
    results = [
        result("seed.cdp.s", 0.0, 0.5),
        result("model.cdp.a", 0.5, 2.0),
        result("model.cdp.x", 0.6, 3.2),
        result("test.cdp.not_null_a", 2.1, 2.6),
        result("model.cdp.b", 2.8, 4.0),  # waited for a's test, not for a
        result("test.cdp.rel_b_x", 4.0, 4.25),  # its parents: b (later) and x
        result("model.cdp.skipped", 0.0, None),
        result("operation.cdp.on-run-end", 4.3, 9.0),  # a hook, not a node of the graph
    ]
    path = critical_path(results, NODES)
    assert [step.name for step in path.steps] == ["s", "a", "not_null_a", "b", "rel_b_x"]
    assert path.seconds == pytest.approx(4.25)
    assert path.model_seconds == pytest.approx(0.5 + 1.5 + 1.2)
    assert path.test_seconds == pytest.approx(0.5 + 0.25)
    assert [round(step.waited, 3) for step in path.steps] == [0.0, 0.0, 0.1, 0.2, 0.0]
    # Every second of the build is in a node of the path or between two of them.
    assert path.model_seconds + path.test_seconds + path.between_nodes == pytest.approx(path.seconds)
    assert path.summary().startswith("4.2 s through 3 models and 2 tests: models 3.2 s, tests 0.8 s")


def test_a_test_waits_only_for_its_own_parents() -> None:
    """A relationships test runs once both models are built, not after their other tests."""
    results = [
        result("seed.cdp.s", 0.0, 0.5),
        result("model.cdp.a", 0.5, 1.0),
        result("model.cdp.x", 0.5, 1.5),
        result("test.cdp.not_null_a", 1.0, 1.9),
        result("model.cdp.b", 1.9, 2.0),
        result("test.cdp.rel_b_x", 2.0, 2.5),
    ]
    path = critical_path(results, NODES)
    assert [step.name for step in path.steps] == ["s", "a", "not_null_a", "b", "rel_b_x"]
    # Had x finished last, the test would have waited for x.
    results[2] = result("model.cdp.x", 0.5, 2.02)
    results[-1] = result("test.cdp.rel_b_x", 2.02, 2.5)
    assert [step.name for step in critical_path(results, NODES).steps] == ["s", "x", "rel_b_x"]


def test_a_build_without_timed_nodes_has_an_empty_path() -> None:
    path = critical_path([result("model.cdp.skipped", 0.0, None)], NODES)
    assert path.seconds == 0.0 and path.steps == []
