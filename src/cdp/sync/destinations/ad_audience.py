"""The ``ad_audience`` destination: hashed customer lists for Google Customer Match and Meta
Custom Audiences, written as upload files.

For each sync the destination keeps, under ``<path>/<sync name>/``:

* ``add.csv``: people to add to the audience (upserts and inserts);
* ``remove.csv``: people to take out (deletes, and the old identifiers of a person whose
  email or phone changed);
* ``state.json``: key -> the hashed identifiers last written for it and to which file.

Every identifier is normalised and SHA-256 hashed (lowercase hex) before it touches disk; no
plaintext email or phone is ever written, not even in a rejection reason.

Idempotency: a resent batch finds each key already in the state with the same hashes and the
same list, so nothing is appended again. The CSV lines are appended before the state is
replaced (atomically); a crash in between can at worst repeat a line on the resend, which the
platforms dedupe, whereas the opposite order could lose a person.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, Self

import phonenumbers
from pydantic import BaseModel, Field, field_validator

from cdp.sync.changes import BatchOutcome, RowChange
from cdp.sync.destinations.base import DestinationConfig

Platform = Literal["google", "meta"]
Identifier = Literal["email", "phone"]

# Column headers of the platforms' customer-list files, in our identifier order.
HEADERS: dict[Platform, dict[Identifier, str]] = {
    "google": {"email": "Email", "phone": "Phone"},
    "meta": {"email": "EMAIL", "phone": "PHONE"},
}
NO_IDENTIFIER = "no email or phone to match on"
_GMAIL_DOMAINS = {"gmail.com", "googlemail.com"}


class AdAudienceConfig(DestinationConfig):
    type: Literal["ad_audience"]
    platform: Platform
    path: Path
    identifiers: list[Identifier] = Field(default_factory=lambda: ["email", "phone"], min_length=1)
    batch_size: int = Field(default=1000, ge=1, le=100_000)
    # ISO 3166 region (e.g. "US", "DE") for phone numbers stored without a country code;
    # without it such numbers are rejected, since guessing a country would mis-hash them.
    default_region: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")

    def bind(self, root: Path, key_field: str) -> Self:
        """A relative ``path`` is under the project root, not the working directory."""
        return self if self.path.is_absolute() else self.model_copy(update={"path": root / self.path})

    @field_validator("identifiers")
    @classmethod
    def _unique(cls, value: list[Identifier]) -> list[Identifier]:
        if len(set(value)) != len(value):
            raise ValueError("identifiers must not repeat (choose from: email, phone)")
        return [name for name in ("email", "phone") if name in value]  # fixed column order


class RowRejected(Exception):
    """One row cannot be matched on; the message is the reason for the dead-letter table."""


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def normalise_email(raw: str, platform: Platform) -> str:
    email = raw.strip().lower()
    local, at, domain = email.partition("@")
    if not at or not local or not domain or "@" in domain or any(c.isspace() for c in email):
        raise RowRejected("email is not a valid address (expected name@domain)")
    if platform == "google" and domain in _GMAIL_DOMAINS:
        # Google's hashing guides: remove all periods preceding the domain in gmail.com and
        # googlemail.com addresses (CM360 enhanced conversions "Normalization and hashing",
        # developers.google.com/doubleclick-advertisers/guides/conversions_ec; the Google Ads
        # Customer Match guide says such addresses are accepted either way,
        # developers.google.com/google-ads/api/docs/remarketing/audience-types/customer-match).
        # Dropping a "+tag" is our own step, not in those docs: Gmail delivers name+tag@ to
        # name@ and no Google account address contains "+", so the tag can only stop a match.
        local = local.split("+", 1)[0].replace(".", "")
        if not local:
            raise RowRejected("email is not a valid address (nothing before '+' or '@')")
    return f"{local}@{domain}"


def normalise_phone(raw: str, platform: Platform, default_region: str | None) -> str:
    """E.164 (``+4915112345678``) for Google; Meta wants the same digits without the ``+``."""
    try:
        number = phonenumbers.parse(raw.strip(), default_region)
    except phonenumbers.NumberParseException as error:
        hint = "" if default_region else "; set default_region for numbers without +country code"
        raise RowRejected(f"phone is not parsable: {error}{hint}") from error
    if not phonenumbers.is_valid_number(number):
        raise RowRejected("phone is not a valid number for its country code")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164 if platform == "google" else e164.removeprefix("+")


class AdAudienceDestination:
    def __init__(self, config: AdAudienceConfig, sync_name: str) -> None:
        self.config = config
        self.sync_name = sync_name
        self.folder = config.path / sync_name
        self.name = f"ad_audience {config.platform} {self.folder}"
        self.batch_size = config.batch_size
        self._columns = [HEADERS[config.platform][ident] for ident in config.identifiers]

    def apply(self, changes: Sequence[RowChange]) -> BatchOutcome:
        self.folder.mkdir(parents=True, exist_ok=True)
        state = self._load_state()
        outcome = BatchOutcome()
        lines: dict[str, list[list[str]]] = {"add": [], "remove": []}
        for change in changes:
            try:
                hashed = self._hashed_identifiers(change, state.get(change.key))
            except RowRejected as reason:
                outcome.rejected[change.key] = str(reason)
                continue
            self._plan(change, hashed, state, lines)
            outcome.acknowledged.append(change.key)
        for target, rows in lines.items():
            self._append(target, rows)
        self._save_state(state)
        return outcome

    def close(self) -> None:
        """Nothing held open: every batch opens and closes its files."""

    def _hashed_identifiers(self, change: RowChange, known: Mapping[str, Any] | None) -> list[str]:
        if change.operation == "delete" and known is not None:
            return list(known["hashes"])  # remove exactly what was added, whatever the payload
        return self.hash_payload(change.payload)

    def hash_payload(self, payload: Mapping[str, Any]) -> list[str]:
        """One hashed cell per configured identifier ('' when absent); rejects unusable rows."""
        cells: list[str] = []
        for identifier in self.config.identifiers:
            raw = payload.get(identifier)
            if raw is None or not str(raw).strip():
                cells.append("")
                continue
            if identifier == "email":
                normalised = normalise_email(str(raw), self.config.platform)
            else:
                normalised = normalise_phone(str(raw), self.config.platform, self.config.default_region)
            cells.append(sha256_hex(normalised))
        if not any(cells):
            raise RowRejected(NO_IDENTIFIER)
        return cells

    def _plan(
        self,
        change: RowChange,
        hashed: list[str],
        state: dict[str, dict[str, Any]],
        lines: dict[str, list[list[str]]],
    ) -> None:
        target = "remove" if change.operation == "delete" else "add"
        known = state.get(change.key)
        if known == {"list": target, "hashes": hashed}:
            return  # resent batch: already written
        if target == "add" and known and known["list"] == "add":
            lines["remove"].append(known["hashes"])  # email/phone changed: retract the old one
        lines[target].append(hashed)
        state[change.key] = {"list": target, "hashes": hashed}

    def _append(self, target: str, rows: list[list[str]]) -> None:
        if not rows:
            return
        path = self.folder / f"{target}.csv"
        new_file = not path.exists() or path.stat().st_size == 0
        with path.open("a", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            if new_file:
                writer.writerow(self._columns)
            writer.writerows(rows)
            handle.flush()
            os.fsync(handle.fileno())

    def _load_state(self) -> dict[str, dict[str, Any]]:
        path = self.folder / "state.json"
        if not path.exists():
            return {}
        return json.loads(path.read_text(encoding="utf-8"))

    def _save_state(self, state: dict[str, dict[str, Any]]) -> None:
        path = self.folder / "state.json"
        temporary = path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(state, sort_keys=True), encoding="utf-8")
        temporary.replace(path)  # atomic: a crash leaves the old or the new state, never half


def create(config: BaseModel, sync_name: str) -> AdAudienceDestination:
    if not isinstance(config, AdAudienceConfig):
        raise TypeError(f"sync {sync_name!r}: expected an ad_audience config, got {config!r}")
    return AdAudienceDestination(config, sync_name)
