"""Destination types a sync may name in ``destination.type``: each has a settings model and a
factory building the destination of one sync. Add a type with one line in DESTINATION_TYPES."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cdp.sync.changes import Destination
from cdp.sync.destinations import ad_audience, http
from cdp.sync.destinations.base import DestinationConfig
from cdp.sync.destinations.file import FileConfig, FileDestination
from cdp.sync.destinations.postgres import PostgresConfig, PostgresDestination


@dataclass(frozen=True)
class DestinationType:
    config: type[DestinationConfig]  # pydantic model with `type: Literal[...]` and `batch_size`
    factory: Callable[[Any, str], Destination]  # (validated config, sync name) -> destination


DESTINATION_TYPES: dict[str, DestinationType] = {
    "file": DestinationType(FileConfig, FileDestination),
    "postgres": DestinationType(PostgresConfig, PostgresDestination),
    "http": DestinationType(http.HttpDestinationConfig, http.create),
    "ad_audience": DestinationType(ad_audience.AdAudienceConfig, ad_audience.create),
}

__all__ = ["DESTINATION_TYPES", "DestinationConfig", "DestinationType"]
