"""What every destination type's configuration has in common."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_BATCH_SIZE = 500


class DestinationConfig(BaseModel):
    """Base of each type's settings model; subclasses add ``type: Literal["<type>"]``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    batch_size: int = Field(default=DEFAULT_BATCH_SIZE, gt=0, le=100_000)

    def bind(self, root: Path, key_field: str) -> Self:
        """The settings as a sync uses them: ``root`` is the project root (relative paths),
        ``key_field`` the destination field holding the sync's key. Default: unchanged."""
        return self
