"""Destination types a sync can name in its YAML ``destination.type``: config model and factory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel

from cdp.sync.changes import Destination
from cdp.sync.destinations import ad_audience, http


@dataclass(frozen=True)
class DestinationType:
    config_model: type[BaseModel]
    factory: Callable[[BaseModel, str], Destination]  # (validated config, sync name)


DESTINATION_TYPES: dict[str, DestinationType] = {
    "http": DestinationType(http.HttpDestinationConfig, http.create),
    "ad_audience": DestinationType(ad_audience.AdAudienceConfig, ad_audience.create),
}
