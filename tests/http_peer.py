"""A fake HTTP peer for the http destination's tests, served by a real local HTTP server.

It applies rows the way the protocol asks a real peer to: idempotently by key (upsert stores
the payload under the key, delete removes it), after answering the scripted failures first.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from werkzeug import Request, Response


@dataclass
class FakePeer:
    """Scripted failures first (one per request), then idempotent processing by key."""

    failures: list[Any] = field(default_factory=list)
    reject: dict[str, str] = field(default_factory=dict)  # key -> reason, answered per row
    arrivals: list[float] = field(default_factory=list)  # monotonic time of every request
    requests: list[dict[str, Any]] = field(default_factory=list)  # every body received
    processed: list[dict[str, Any]] = field(default_factory=list)  # bodies the peer applied
    store: dict[str, dict[str, Any]] = field(default_factory=dict)
    headers: list[dict[str, str]] = field(default_factory=list)

    def __call__(self, request: Request) -> Response:
        self.arrivals.append(time.monotonic())
        body = json.loads(request.get_data())
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        failure = self.failures.pop(0) if self.failures else None
        if isinstance(failure, Response):
            return failure
        self._apply(body)
        if isinstance(failure, float):  # processed, but the answer comes too late
            time.sleep(failure)
        rejected = [
            {"key": row["key"], "reason": self.reject[row["key"]]}
            for row in body["rows"]
            if row["key"] in self.reject
        ]
        return Response(json.dumps({"rejected": rejected}), content_type="application/json")

    def _apply(self, body: dict[str, Any]) -> None:
        self.processed.append(body)
        for row in body["rows"]:
            if row["key"] in self.reject:
                continue
            if body["operation"] == "delete":
                self.store.pop(row["key"], None)
            else:
                self.store[row["key"]] = row
