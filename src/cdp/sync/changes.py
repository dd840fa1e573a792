"""What the sync engine hands a destination, and what the destination reports back.

The engine diffs the sync's source rows against its stored snapshot and sends only changes.
A destination applies a batch and says, row by row, what happened: acknowledged rows enter the
snapshot; rejected rows go to the dead-letter table and stay out of the snapshot, so the next
run sends them again. A destination that cannot reach its peer at all (retries exhausted)
raises :class:`DestinationUnavailable`; every row of that batch stays unacknowledged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Operation = Literal["upsert", "insert", "delete"]


@dataclass(frozen=True)
class RowChange:
    key: str  # value of the sync's key column (e.g. customer_id), as text
    operation: Operation
    # Destination field -> value, after the sync's field mapping. For deletes: only the key
    # field(s) the destination needs to find the row (never the person's other data).
    payload: Mapping[str, Any]


@dataclass
class BatchOutcome:
    acknowledged: list[str] = field(default_factory=list)  # keys the destination accepted
    rejected: dict[str, str] = field(default_factory=dict)  # key -> reason given by the destination

    def merge(self, other: BatchOutcome) -> None:
        self.acknowledged.extend(other.acknowledged)
        self.rejected.update(other.rejected)


class DestinationUnavailable(Exception):
    """The destination could not be reached or kept failing after its retries; nothing in the
    batch may be taken as delivered. The message names the destination and the last error."""


class Destination(Protocol):
    """One configured destination of one sync. ``apply`` is called once per batch of changes
    (at most ``batch_size`` rows) and must be safe to call again with the same rows: a run that
    died after the peer applied a batch but before the snapshot was updated resends it."""

    name: str  # for messages: e.g. "http https://api.example.com/contacts"
    batch_size: int

    def apply(self, changes: Sequence[RowChange]) -> BatchOutcome: ...

    def close(self) -> None: ...
