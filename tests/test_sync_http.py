"""The http destination against a real local HTTP server (pytest-httpserver), no mocks.

The fake peer below applies rows the way the protocol asks a real peer to: idempotently by key
(upsert stores the payload under the key, delete removes it). That is what makes resends safe:
a request that timed out on our side may still have been applied by the peer, so the retry
delivers the same keys again and the peer's state must not change because of it. The timeout
test therefore asserts both that the batch was *resent* with the same keys and that the peer's
state holds every key exactly once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from cdp.errors import ConfigError
from cdp.sync.changes import DestinationUnavailable, RowChange
from cdp.sync.destinations import DESTINATION_TYPES
from cdp.sync.destinations.http import HttpDestination, HttpDestinationConfig
from tests.http_peer import FakePeer

PATH = "/contacts"


@pytest.fixture
def peer(httpserver: HTTPServer) -> Iterator[FakePeer]:
    fake = FakePeer()
    httpserver.expect_request(PATH).respond_with_handler(fake)
    yield fake
    httpserver.check_assertions()


def make(httpserver: HTTPServer, **options: Any) -> HttpDestination:
    settings = {"type": "http", "url": httpserver.url_for(PATH), "backoff_seconds": 0.01} | options
    config = HttpDestinationConfig.model_validate(settings)
    destination = DESTINATION_TYPES["http"].factory(config, "crm_contacts")
    assert isinstance(destination, HttpDestination)
    return destination


def upserts(n: int, start: int = 0) -> list[RowChange]:
    return [RowChange(f"c{i}", "upsert", {"email": f"p{i}@example.com"}) for i in range(start, n)]


def keys_of(body: dict[str, Any]) -> list[str]:
    return [row["key"] for row in body["rows"]]


def test_body_follows_the_protocol_and_all_rows_are_acknowledged(
    httpserver: HTTPServer, peer: FakePeer
) -> None:
    destination = make(httpserver)
    outcome = destination.apply(upserts(3))
    destination.close()

    assert outcome.acknowledged == ["c0", "c1", "c2"]
    assert outcome.rejected == {}
    assert peer.requests == [
        {
            "sync": "crm_contacts",
            "operation": "upsert",
            "rows": [{"email": f"p{i}@example.com", "key": f"c{i}"} for i in range(3)],
        }
    ]


def test_deletes_go_with_delete_method_to_delete_url(httpserver: HTTPServer) -> None:
    seen: list[tuple[str, str, dict[str, Any]]] = []

    def record(request: Request) -> Response:
        seen.append((request.method, request.path, json.loads(request.get_data())))
        return Response("", status=204)  # empty 2xx body: everything acknowledged

    httpserver.expect_request(PATH).respond_with_handler(record)
    httpserver.expect_request("/contacts/remove").respond_with_handler(record)
    mixed = [*upserts(1), RowChange("c9", "delete", {"email": "p9@example.com"})]

    default = make(httpserver)
    assert default.apply(mixed).acknowledged == ["c0", "c9"]
    custom = make(httpserver, delete_url=httpserver.url_for("/contacts/remove"), delete_method="POST")
    assert custom.apply(mixed).acknowledged == ["c0", "c9"]

    assert [(method, path, body["operation"]) for method, path, body in seen] == [
        ("POST", PATH, "upsert"),
        ("DELETE", PATH, "delete"),
        ("POST", PATH, "upsert"),
        ("POST", "/contacts/remove", "delete"),
    ]
    httpserver.check_assertions()


def test_all_rows_arrive_once_across_429_and_500s(httpserver: HTTPServer, peer: FakePeer) -> None:
    peer.failures = [
        Response("slow down", status=429, headers={"Retry-After": "1"}),
        Response("boom", status=500),
        Response("bad gateway", status=502),
    ]
    destination = make(httpserver, max_retries=5)
    outcome = destination.apply(upserts(4))

    assert sorted(outcome.acknowledged) == ["c0", "c1", "c2", "c3"]
    assert len(peer.requests) == 4  # three failures, then the one that was applied
    assert [keys_of(body) for body in peer.requests] == [["c0", "c1", "c2", "c3"]] * 4
    assert [keys_of(body) for body in peer.processed] == [["c0", "c1", "c2", "c3"]]
    # Retry-After: 1 was honoured although the backoff base is 10 ms.
    assert peer.arrivals[1] - peer.arrivals[0] >= 0.9
    assert peer.arrivals[3] - peer.arrivals[1] < 0.9


def test_retry_after_is_capped(httpserver: HTTPServer, peer: FakePeer) -> None:
    peer.failures = [Response("later", status=429, headers={"Retry-After": "3600"})]
    destination = make(httpserver, max_retry_after_seconds=0.05)
    assert destination.apply(upserts(1)).acknowledged == ["c0"]
    assert peer.arrivals[1] - peer.arrivals[0] < 1


def test_timeout_resends_the_same_keys_and_the_peer_state_holds_each_once(
    threaded_httpserver: HTTPServer,
) -> None:
    # The peer applies the first request but answers after our timeout: the classic case where
    # a resend delivers rows twice. Idempotent upsert by key at the peer makes that harmless.
    peer = FakePeer(failures=[0.8])
    threaded_httpserver.expect_request(PATH).respond_with_handler(peer)
    destination = make(threaded_httpserver, timeout_seconds=0.3)
    outcome = destination.apply(upserts(3))
    destination.close()
    threaded_httpserver.check_assertions()

    assert sorted(outcome.acknowledged) == ["c0", "c1", "c2"]
    assert [keys_of(body) for body in peer.requests] == [["c0", "c1", "c2"]] * 2
    assert len(peer.processed) == 2  # the timed-out request was applied, and then the resend
    assert sorted(peer.store) == ["c0", "c1", "c2"]


def test_per_row_rejection(httpserver: HTTPServer, peer: FakePeer) -> None:
    peer.reject = {"c1": "email domain blocked"}
    outcome = make(httpserver).apply(upserts(3))
    assert outcome.acknowledged == ["c0", "c2"]
    assert outcome.rejected == {"c1": "email domain blocked"}


def test_other_4xx_rejects_the_whole_batch_without_retry(httpserver: HTTPServer, peer: FakePeer) -> None:
    peer.failures = [Response('{"error": "field phone is unknown"}', status=422)]
    outcome = make(httpserver).apply(upserts(2))

    assert outcome.acknowledged == []
    assert set(outcome.rejected) == {"c0", "c1"}
    assert outcome.rejected["c0"].startswith("HTTP 422 from ")
    assert "field phone is unknown" in outcome.rejected["c0"]
    assert len(peer.requests) == 1


def test_exhausted_retries_raise_destination_unavailable(httpserver: HTTPServer, peer: FakePeer) -> None:
    peer.failures = [Response("down for maintenance", status=503)] * 3
    destination = make(httpserver, max_retries=2)

    with pytest.raises(DestinationUnavailable) as raised:
        destination.apply(upserts(2))

    message = str(raised.value)
    assert "crm_contacts" in message
    assert httpserver.url_for(PATH) in message
    assert "HTTP 503" in message and "down for maintenance" in message
    assert len(peer.requests) == 3  # the first attempt and two retries
    assert peer.processed == []


def test_connection_refused_is_unavailable() -> None:
    config = HttpDestinationConfig(
        type="http", url="http://127.0.0.1:9/nothing", max_retries=1, backoff_seconds=0.01
    )
    with pytest.raises(DestinationUnavailable, match="connection error"):
        HttpDestination(config, "crm_contacts").apply(upserts(1))


def test_rate_limit_spaces_requests(httpserver: HTTPServer, peer: FakePeer) -> None:
    destination = make(httpserver, batch_size=2, rate_limit_per_second=5)
    destination.apply(upserts(10))

    assert len(peer.arrivals) == 5
    gaps = [later - earlier for earlier, later in zip(peer.arrivals, peer.arrivals[1:], strict=False)]
    # 1/5 s apart when sent; the slack absorbs scheduling noise between sending and arrival.
    assert min(gaps) >= 0.15, gaps
    assert peer.arrivals[-1] - peer.arrivals[0] >= 4 * 0.2 - 0.03


def test_non_json_2xx_acknowledges_everything(httpserver: HTTPServer) -> None:
    httpserver.expect_request(PATH).respond_with_data("OK", content_type="text/plain")
    assert make(httpserver).apply(upserts(2)).acknowledged == ["c0", "c1"]
    httpserver.check_assertions()


@pytest.mark.parametrize(("rows", "batch_size"), [(250, 100), (100, 100), (7, 3), (1, 50)])
def test_batching(httpserver: HTTPServer, peer: FakePeer, rows: int, batch_size: int) -> None:
    outcome = make(httpserver, batch_size=batch_size).apply(upserts(rows))
    assert len(peer.requests) == math.ceil(rows / batch_size)
    assert max(len(body["rows"]) for body in peer.requests) <= batch_size
    assert len(outcome.acknowledged) == rows
    assert sorted(peer.store) == sorted(f"c{i}" for i in range(rows))


def test_header_values_come_from_the_environment(
    httpserver: HTTPServer, peer: FakePeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_TOKEN", "s3cret")
    destination = make(httpserver, headers={"Authorization": "Bearer ${CRM_TOKEN}", "X-Team": "growth"})
    destination.apply(upserts(1))
    assert peer.headers[0]["Authorization"] == "Bearer s3cret"
    assert peer.headers[0]["X-Team"] == "growth"


def test_missing_header_variable_names_the_sync_and_variable(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CRM_TOKEN", raising=False)
    with pytest.raises(ConfigError, match=r"sync 'crm_contacts'.*'Authorization'.*CRM_TOKEN is not set"):
        make(httpserver, headers={"Authorization": "Bearer ${CRM_TOKEN}"})


def test_config_is_strict() -> None:
    with pytest.raises(ValueError, match="extra"):
        HttpDestinationConfig.model_validate({"type": "http", "url": "https://x.test", "token": "t"})
    with pytest.raises(ValueError, match="batch_size"):
        HttpDestinationConfig.model_validate({"type": "http", "url": "https://x.test", "batch_size": 0})
    assert HttpDestinationConfig(type="http", url="https://x.test").batch_size == 100
