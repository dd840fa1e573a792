"""The ad_audience destination: normalisation and hashing per platform, upload files, idempotency.

Expected hashes are computed here from literal normalised strings, so a test fails if the
normalisation drifts, not only if the hash function does.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path
from typing import Any

import pytest

from cdp.sync.changes import RowChange
from cdp.sync.destinations import DESTINATION_TYPES
from cdp.sync.destinations.ad_audience import (
    NO_IDENTIFIER,
    AdAudienceConfig,
    AdAudienceDestination,
)

SYNC = "vip_audience"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def make(tmp_path: Path, platform: str, **options: Any) -> AdAudienceDestination:
    settings = {"type": "ad_audience", "platform": platform, "path": str(tmp_path)} | options
    config = AdAudienceConfig.model_validate(settings)
    destination = DESTINATION_TYPES["ad_audience"].factory(config, SYNC)
    assert isinstance(destination, AdAudienceDestination)
    return destination


def read(tmp_path: Path, name: str) -> list[dict[str, str]]:
    with (tmp_path / SYNC / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_email_vectors_differ_between_google_and_meta(tmp_path: Path) -> None:
    row = RowChange("c1", "upsert", {"email": "  John.Doe+ads@GMail.com "})

    google = make(tmp_path / "g", "google", identifiers=["email"])
    meta = make(tmp_path / "m", "meta", identifiers=["email"])
    assert google.apply([row]).acknowledged == ["c1"]
    assert meta.apply([row]).acknowledged == ["c1"]

    assert read(tmp_path / "g", "add.csv") == [{"Email": sha("johndoe@gmail.com")}]
    assert read(tmp_path / "m", "add.csv") == [{"EMAIL": sha("john.doe+ads@gmail.com")}]


@pytest.mark.parametrize(
    ("raw", "google"),
    [
        ("j.o.h.n@googlemail.com", "john@googlemail.com"),
        ("Jane.Roe@Example.com", "jane.roe@example.com"),  # dots kept outside Gmail
        ("jane+news@example.com", "jane+news@example.com"),  # +tag kept outside Gmail
    ],
)
def test_google_gmail_rules_apply_only_to_gmail(tmp_path: Path, raw: str, google: str) -> None:
    destination = make(tmp_path, "google", identifiers=["email"])
    assert destination.hash_payload({"email": raw}) == [sha(google)]


def test_phone_normalisation_per_platform(tmp_path: Path) -> None:
    rows = [
        RowChange("us", "upsert", {"phone": "+1 (650) 253-0000"}),
        RowChange("uk", "upsert", {"phone": "+44 20 7031 3000"}),
        RowChange("local", "upsert", {"phone": "030 22610"}),  # no country code: default_region
    ]
    google = make(tmp_path / "g", "google", identifiers=["phone"], default_region="DE")
    meta = make(tmp_path / "m", "meta", identifiers=["phone"], default_region="DE")
    assert google.apply(rows).acknowledged == ["us", "uk", "local"]
    assert meta.apply(rows).acknowledged == ["us", "uk", "local"]

    assert read(tmp_path / "g", "add.csv") == [
        {"Phone": sha("+16502530000")},
        {"Phone": sha("+442070313000")},
        {"Phone": sha("+493022610")},
    ]
    assert read(tmp_path / "m", "add.csv") == [
        {"PHONE": sha("16502530000")},
        {"PHONE": sha("442070313000")},
        {"PHONE": sha("493022610")},
    ]


def test_both_identifiers_in_one_row_with_empty_cells(tmp_path: Path) -> None:
    destination = make(tmp_path, "meta")
    destination.apply(
        [
            RowChange("a", "upsert", {"email": "a@example.com", "phone": "+16502530000"}),
            RowChange("b", "upsert", {"email": "b@example.com", "phone": None}),
            RowChange("c", "insert", {"phone": "+442070313000", "name": "not exported"}),
        ]
    )
    assert read(tmp_path, "add.csv") == [
        {"EMAIL": sha("a@example.com"), "PHONE": sha("16502530000")},
        {"EMAIL": sha("b@example.com"), "PHONE": ""},
        {"EMAIL": "", "PHONE": sha("442070313000")},
    ]


def test_rejection_reasons(tmp_path: Path) -> None:
    destination = make(tmp_path, "google")
    outcome = destination.apply(
        [
            RowChange("ok", "upsert", {"email": "ok@example.com"}),
            RowChange("none", "upsert", {"first_name": "Ann"}),
            RowChange("blank", "upsert", {"email": "  ", "phone": ""}),
            RowChange("bad_email", "upsert", {"email": "ann at example.com"}),
            RowChange("bad_phone", "upsert", {"email": "ok2@example.com", "phone": "call me"}),
            RowChange("no_region", "upsert", {"phone": "030 22610"}),
            RowChange("invalid", "upsert", {"phone": "+1 555 0100"}),
        ]
    )
    assert outcome.acknowledged == ["ok"]
    assert outcome.rejected["none"] == NO_IDENTIFIER == "no email or phone to match on"
    assert outcome.rejected["blank"] == NO_IDENTIFIER
    assert outcome.rejected["bad_email"].startswith("email is not a valid address")
    assert outcome.rejected["bad_phone"].startswith("phone is not parsable")
    assert "default_region" in outcome.rejected["no_region"]
    assert outcome.rejected["invalid"] == "phone is not a valid number for its country code"
    assert len(read(tmp_path, "add.csv")) == 1


def test_deletes_go_to_the_remove_file(tmp_path: Path) -> None:
    destination = make(tmp_path, "google")
    destination.apply([RowChange("c1", "upsert", {"email": "a@example.com"})])
    # A delete of a known key removes exactly what was added, even from a key-only payload.
    outcome = destination.apply(
        [
            RowChange("c1", "delete", {}),
            RowChange("c2", "delete", {"phone": "+16502530000"}),  # never added here: payload
        ]
    )
    assert outcome.acknowledged == ["c1", "c2"]
    assert read(tmp_path, "add.csv") == [{"Email": sha("a@example.com"), "Phone": ""}]
    assert read(tmp_path, "remove.csv") == [
        {"Email": sha("a@example.com"), "Phone": ""},
        {"Email": "", "Phone": sha("+16502530000")},
    ]


def test_changed_identifier_retracts_the_old_one(tmp_path: Path) -> None:
    destination = make(tmp_path, "meta", identifiers=["email"])
    destination.apply([RowChange("c1", "upsert", {"email": "old@example.com"})])
    destination.apply([RowChange("c1", "upsert", {"email": "new@example.com"})])
    assert read(tmp_path, "add.csv") == [{"EMAIL": sha("old@example.com")}, {"EMAIL": sha("new@example.com")}]
    assert read(tmp_path, "remove.csv") == [{"EMAIL": sha("old@example.com")}]


def test_resent_batch_does_not_duplicate(tmp_path: Path) -> None:
    batch = [
        RowChange("c1", "upsert", {"email": "a@example.com"}),
        RowChange("c2", "upsert", {"phone": "+16502530000"}),
        RowChange("c3", "delete", {"email": "gone@example.com"}),
    ]
    first = make(tmp_path, "google").apply(batch)
    # A new instance, as in the next run after a crash before the snapshot was updated.
    again = make(tmp_path, "google").apply(batch)

    assert first.acknowledged == again.acknowledged == ["c1", "c2", "c3"]
    assert len(read(tmp_path, "add.csv")) == 2
    assert len(read(tmp_path, "remove.csv")) == 1


def test_no_plaintext_on_disk(tmp_path: Path) -> None:
    emails = ["John.Doe@gmail.com", "ann@example.com", "bad email@x"]
    phones = ["+1 650-253-0000", "+44 20 7031 3000", "not a phone"]
    rows = [
        RowChange(f"c{i}", "upsert", {"email": email, "phone": phone})
        for i, (email, phone) in enumerate(zip(emails, phones, strict=True))
    ]
    for platform in ("google", "meta"):
        destination = make(tmp_path / platform, platform)
        outcome = destination.apply([*rows, RowChange("c0", "delete", {"email": emails[0]})])
        assert "c2" in outcome.rejected
        assert not any(email.lower() in reason for email in emails for reason in outcome.rejected.values())

    written = b"".join(path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()).lower()
    assert written  # the files exist and were read
    plaintexts = [*emails, "johndoe@gmail.com", *phones, "+16502530000", "16502530000", "442070313000"]
    for plaintext in plaintexts:
        assert plaintext.lower().encode() not in written, plaintext
    assert b"@" not in written and b"+" not in written


def test_config_is_strict(tmp_path: Path) -> None:
    base = {"type": "ad_audience", "platform": "google", "path": str(tmp_path)}
    assert AdAudienceConfig.model_validate(base).identifiers == ["email", "phone"]
    assert AdAudienceConfig.model_validate(base | {"identifiers": ["phone", "email"]}).identifiers == [
        "email",
        "phone",
    ]
    for bad in (
        {"platform": "tiktok"},
        {"identifiers": []},
        {"identifiers": ["email", "email"]},
        {"identifiers": ["name"]},
        {"batch_size": 0},
        {"audience_id": "123"},
    ):
        with pytest.raises(ValueError):
            AdAudienceConfig.model_validate(base | bad)
