"""The ``http`` destination: row changes sent as JSON batches to an API the user runs or buys.

Protocol with the peer (one request per operation within a batch):

* Request: ``method`` (default POST) to ``url``; deletes use ``delete_method`` (default DELETE)
  to ``delete_url`` (default: ``url``). Body::

      {"sync": "<sync name>", "operation": "upsert" | "insert" | "delete",
       "rows": [{"key": "<key>", ...payload fields}]}

* 2xx: the batch is accepted. The body may name rows the peer refused::

      {"rejected": [{"key": "<key>", "reason": "<why>"}]}

  Those keys are rejected (dead letters, resent next run), every other row is acknowledged.
  An empty or non-JSON 2xx body acknowledges every row.
* 429 (``Retry-After`` seconds honoured, capped), 5xx, timeouts and connection errors are
  retried with exponential backoff and jitter; after ``max_retries`` retries the destination
  raises :class:`DestinationUnavailable` and nothing in the batch counts as delivered.
* Any other status (4xx, 3xx): the whole batch is rejected with the status and a short excerpt
  of the body as reason, without retrying (resending the same request would fail the same way).

Resending is safe only because the peer must apply rows idempotently by key: an upsert or
delete of the same key twice leaves the same state. A timed-out request may have been processed
by the peer, so a retry can deliver the same rows twice; that is by design (at-least-once).
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Literal

import httpx
from pydantic import BaseModel, Field
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from cdp.errors import ConfigError
from cdp.sync.changes import BatchOutcome, DestinationUnavailable, Operation, RowChange
from cdp.sync.destinations.base import DestinationConfig

_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_BODY_EXCERPT_CHARS = 200


class HttpDestinationConfig(DestinationConfig):
    type: Literal["http"]
    url: str = Field(pattern=r"^https?://\S+$")
    method: Literal["POST", "PUT", "PATCH"] = "POST"
    delete_method: Literal["DELETE", "POST", "PUT", "PATCH"] = "DELETE"
    delete_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    batch_size: int = Field(default=100, ge=1, le=10_000)
    rate_limit_per_second: float | None = Field(default=None, gt=0)
    max_retries: int = Field(default=5, ge=0, le=20)
    timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    # Base of the exponential backoff between retries (seconds); tests make it tiny.
    backoff_seconds: float = Field(default=1.0, ge=0, le=60)
    # A peer's Retry-After is honoured up to this many seconds, so one bad header can't stall a run.
    max_retry_after_seconds: float = Field(default=60.0, ge=0, le=3600)
    # Values may be "${ENV_VAR}" references: secrets live in the environment, never in the YAML.
    headers: dict[str, str] = Field(default_factory=dict)


def resolve_headers(headers: Mapping[str, str], sync_name: str) -> dict[str, str]:
    """Replace every ``${VAR}`` in header values by the environment variable's value."""
    resolved: dict[str, str] = {}
    for name, value in headers.items():

        def substitute(match: re.Match[str], header: str = name) -> str:
            variable = match.group(1)
            if variable not in os.environ:
                raise ConfigError(
                    f"sync {sync_name!r}: header {header!r} of the http destination refers to "
                    f"${{{variable}}}, but the environment variable {variable} is not set; "
                    "export it before running the sync (secrets are never written in the YAML)"
                )
            return os.environ[variable]

        resolved[name] = _ENV_REFERENCE.sub(substitute, value)
    return resolved


class _MinIntervalLimiter:
    """At most ``rate`` requests a second: each request waits until 1/rate after the previous
    one started. Per destination instance, so two syncs never share (or starve) a budget."""

    def __init__(self, rate: float | None) -> None:
        self._interval = 1.0 / rate if rate else 0.0
        self._next_at = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self._interval:
            return
        with self._lock:
            now = time.monotonic()
            if self._next_at > now:
                time.sleep(self._next_at - now)
                now = self._next_at
            self._next_at = now + self._interval


class _Retryable(Exception):
    """A failure worth retrying (429, 5xx, timeout, connection error)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _retry_after_seconds(response: httpx.Response) -> float | None:
    # Only the delay-seconds form; an HTTP-date falls back to our own backoff.
    try:
        return max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        return None


def _excerpt(response: httpx.Response) -> str:
    text = " ".join(response.text.split())
    return text[:_BODY_EXCERPT_CHARS] + ("…" if len(text) > _BODY_EXCERPT_CHARS else "")


def _peer_rejections(response: httpx.Response, keys: set[str]) -> dict[str, str]:
    """The ``rejected`` list of a 2xx body, limited to keys of this request."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}  # empty or non-JSON 2xx: every row acknowledged
    if not isinstance(body, dict) or not isinstance(body.get("rejected"), list):
        return {}
    rejected: dict[str, str] = {}
    for item in body["rejected"]:
        if isinstance(item, dict) and str(item.get("key")) in keys:
            rejected[str(item["key"])] = str(item.get("reason") or "rejected by the destination")
    return rejected


class HttpDestination:
    def __init__(self, config: HttpDestinationConfig, sync_name: str) -> None:
        self.config = config
        self.sync_name = sync_name
        self.name = f"http {config.url}"
        self.batch_size = config.batch_size
        self._limiter = _MinIntervalLimiter(config.rate_limit_per_second)
        self._client = httpx.Client(
            headers=resolve_headers(config.headers, sync_name),
            timeout=config.timeout_seconds,
            follow_redirects=False,
        )

    def apply(self, changes: Sequence[RowChange]) -> BatchOutcome:
        outcome = BatchOutcome()
        # The engine sends at most batch_size rows, but chunking here keeps the limit true
        # for any caller; each operation becomes its own request (the body has one operation).
        for start in range(0, len(changes), self.batch_size):
            chunk = changes[start : start + self.batch_size]
            for operation, rows in _by_operation(chunk).items():
                outcome.merge(self._send(operation, rows))
        return outcome

    def close(self) -> None:
        self._client.close()

    def _send(self, operation: Operation, rows: list[RowChange]) -> BatchOutcome:
        deleting = operation == "delete"
        method = self.config.delete_method if deleting else self.config.method
        url = (self.config.delete_url or self.config.url) if deleting else self.config.url
        body = {
            "sync": self.sync_name,
            "operation": operation,
            # The row key wins over a payload field of the same name: the peer dedupes on it.
            "rows": [{**row.payload, "key": row.key} for row in rows],
        }
        # default=str: warehouse values such as dates and decimals travel as their text form.
        content = json.dumps(body, default=str).encode()
        retrying = Retrying(
            retry=retry_if_exception_type(_Retryable),
            stop=stop_after_attempt(self.config.max_retries + 1),
            wait=self._wait,
            reraise=True,
        )
        try:
            response = retrying(self._request_once, method, url, content)
        except _Retryable as error:
            raise DestinationUnavailable(
                f"sync {self.sync_name!r}: http destination {method} {url} failed after "
                f"{self.config.max_retries + 1} attempts; last error: {error}"
            ) from error
        return self._outcome(response, rows)

    def _request_once(self, method: str, url: str, content: bytes) -> httpx.Response:
        self._limiter.wait()
        try:
            response = self._client.request(
                method, url, content=content, headers={"Content-Type": "application/json"}
            )
        except httpx.TimeoutException as error:
            raise _Retryable(f"timed out after {self.config.timeout_seconds}s ({error!r})") from error
        except httpx.TransportError as error:
            raise _Retryable(f"connection error: {error!r}") from error
        if response.status_code == 429 or response.status_code >= 500:
            raise _Retryable(
                f"HTTP {response.status_code}: {_excerpt(response)}", _retry_after_seconds(response)
            )
        return response

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _Retryable) and error.retry_after is not None:
            return min(error.retry_after, self.config.max_retry_after_seconds)
        base = self.config.backoff_seconds
        backoff = wait_exponential_jitter(multiplier=base, max=max(base * 32, base), jitter=base)
        return backoff(state)

    def _outcome(self, response: httpx.Response, rows: list[RowChange]) -> BatchOutcome:
        keys = [row.key for row in rows]
        if not response.is_success:
            reason = f"HTTP {response.status_code} from {response.request.url}: {_excerpt(response)}"
            return BatchOutcome(rejected=dict.fromkeys(keys, reason))
        rejected = _peer_rejections(response, set(keys))
        return BatchOutcome(acknowledged=[k for k in keys if k not in rejected], rejected=rejected)


def _by_operation(changes: Sequence[RowChange]) -> dict[Operation, list[RowChange]]:
    groups: dict[Operation, list[RowChange]] = {}
    for change in changes:
        groups.setdefault(change.operation, []).append(change)
    return groups


def create(config: BaseModel, sync_name: str) -> HttpDestination:
    if not isinstance(config, HttpDestinationConfig):
        raise TypeError(f"sync {sync_name!r}: expected an http destination config, got {config!r}")
    return HttpDestination(config, sync_name)
