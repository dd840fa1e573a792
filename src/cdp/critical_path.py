"""The critical path of one `dbt build`: the chain of nodes that decided when it ended.

Walking back from the node that completed last, each step goes to the node it waited for:
among the nodes it depends on, and the tests of those nodes (in `dbt build` a model starts
only after its parents' tests passed), the one that completed last before it started. What
the chain's nodes did not cover is time spent between nodes: dbt scheduling and compiling
the next node, or a node ready but both threads busy.

It tells what a faster node would buy: a node off the path shortens nothing, and the time
between nodes is paid once per step whatever the queries cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

NODE_TYPES = {"model", "seed", "snapshot", "test"}  # not hooks: they run around the nodes
# A node's recorded start can precede its last predecessor's recorded end by a few
# microseconds of clock rounding.
TOLERANCE_SECONDS = 0.01


@dataclass
class PathStep:
    name: str
    resource_type: str  # model, test, seed or snapshot (counted with the models)
    started: float  # seconds since the build's first node started
    seconds: float  # the node's own time
    waited: float  # since the step before it completed (or the build's first start)


@dataclass
class CriticalPath:
    seconds: float  # first node started to last node completed
    model_seconds: float = 0.0  # the path's models' (and seeds') own time
    test_seconds: float = 0.0  # the path's tests' own time
    between_nodes: float = 0.0  # the rest: dbt between nodes, or a ready node waiting for a thread
    steps: list[PathStep] = field(default_factory=list)

    def summary(self, longest: int = 3) -> str:
        """One line: the path's length, its seconds by kind, the longest nodes."""
        tests = sum(step.resource_type == "test" for step in self.steps)
        top = sorted(self.steps, key=lambda step: -step.seconds)[:longest]
        return (
            f"{self.seconds:.1f} s through {len(self.steps) - tests} models and {tests} tests: "
            f"models {self.model_seconds:.1f} s, tests {self.test_seconds:.1f} s, "
            f"between nodes {self.between_nodes:.1f} s; longest "
            + ", ".join(f"{step.name} {step.seconds:.1f} s" for step in top)
        )


@dataclass
class _Span:
    unique_id: str
    begin: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.begin).total_seconds()


def node_span(result: dict[str, Any]) -> tuple[datetime, datetime] | None:
    """When a run_results entry's node started (compiling) and completed (executing); None
    for a node dbt recorded no timings of (skipped)."""
    timing = result.get("timing") or []
    if not timing:
        return None
    return _instant(timing[0]["started_at"]), _instant(timing[-1]["completed_at"])


def critical_path(results: list[dict[str, Any]], nodes: dict[str, Any]) -> CriticalPath:
    """The critical path of a build from its run_results.json ``results`` and its manifest's
    ``nodes``; hooks and nodes without timings (skipped) are left out."""
    spans = _spans(results, nodes)
    if not spans:
        return CriticalPath(0.0)
    first = min(span.begin for span in spans.values())
    tests_of = _tests_by_tested_node(spans, nodes)
    step: _Span | None = max(spans.values(), key=lambda span: span.end)
    chain: list[_Span] = []
    while step is not None:
        chain.append(step)
        step = _waited_for(step, spans, nodes, tests_of)
    chain.reverse()
    path = CriticalPath((chain[-1].end - first).total_seconds())
    previous_end = first
    for span in chain:
        path.steps.append(
            PathStep(
                name=nodes[span.unique_id]["name"],
                resource_type=nodes[span.unique_id]["resource_type"],
                started=(span.begin - first).total_seconds(),
                seconds=span.seconds,
                waited=max((span.begin - previous_end).total_seconds(), 0.0),
            )
        )
        previous_end = span.end
    path.test_seconds = sum(step.seconds for step in path.steps if step.resource_type == "test")
    path.model_seconds = sum(step.seconds for step in path.steps) - path.test_seconds
    path.between_nodes = sum(step.waited for step in path.steps)
    return path


def _spans(results: list[dict[str, Any]], nodes: dict[str, Any]) -> dict[str, _Span]:
    spans = {}
    for result in results:
        span = node_span(result)
        node = nodes.get(result["unique_id"])
        if span is None or node is None or node["resource_type"] not in NODE_TYPES:
            continue
        spans[result["unique_id"]] = _Span(result["unique_id"], *span)
    return spans


def _tests_by_tested_node(spans: dict[str, _Span], nodes: dict[str, Any]) -> dict[str, list[str]]:
    tests: dict[str, list[str]] = {}
    for unique_id in spans:
        node = nodes[unique_id]
        if node["resource_type"] == "test":
            for tested in node["depends_on"]["nodes"]:
                tests.setdefault(tested, []).append(unique_id)
    return tests


def _waited_for(
    span: _Span, spans: dict[str, _Span], nodes: dict[str, Any], tests_of: dict[str, list[str]]
) -> _Span | None:
    parents = [parent for parent in nodes[span.unique_id]["depends_on"]["nodes"] if parent in spans]
    candidates = set(parents)
    if nodes[span.unique_id]["resource_type"] != "test":
        candidates.update(test for parent in parents for test in tests_of.get(parent, []))
    finished = [
        spans[candidate]
        for candidate in candidates
        if (spans[candidate].end - span.begin).total_seconds() <= TOLERANCE_SECONDS
    ]
    return max(finished, key=lambda candidate: candidate.end, default=None)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
