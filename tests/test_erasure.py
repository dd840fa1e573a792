"""Erasure (`cdp erase`): a person is removed from every table and view, stays out when the
same files are delivered again, is deleted downstream by mirror syncs, and every request is
recorded without plaintext. Runs on private copies of the session's built sample warehouse."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest
import yaml

from cdp.dbt_runner import run_dbt
from cdp.generate import GenerationResult
from cdp.load import load_landing
from cdp.privacy.erase import erase
from cdp.privacy.normalize import project_normalizer
from cdp.privacy.subject import SubjectRef
from cdp.project import Project
from cdp.source_config import raw_tables
from cdp.sync.config import load_syncs
from cdp.sync.destinations.file import read_rows
from cdp.sync.engine import run_sync

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PROJECT_PARTS = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "segments", "expectations")
# Raw columns holding emails and phones (with the row's country column, if any).
EMAIL_COLUMNS = {
    "crm_contacts": "email",
    "shop_customers": "email",
    "shop_orders": "email",
    "support_tickets": "requester_email",
    "email_engagement": "email",
    "consent_records": "email",
}
PHONE_COLUMNS = {
    "crm_contacts": ("phone", "country"),
    "shop_customers": ("phone", "country"),
    "support_tickets": ("requester_phone", None),
}
SYNCS = {
    "syncs": [
        {
            "name": f"everyone_{mode}",
            "description": f"every consenting customer, {mode}",
            "source": {"model": "customer_360"},
            "fields": {"customer_id": "customer_id", "email": "email", "phone": "phone_e164"},
            "mode": mode,
            "purpose": "email_marketing",
            "destination": {"type": "file", "path": f"out/{mode}.jsonl", "format": "jsonl"},
        }
        for mode in ("mirror", "upsert")
    ]
}


def cdp(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cdp.cli", *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def project_copy(built: Project, tmp_path: Path, with_syncs: bool = False) -> Project:
    """The dbt project and the built warehouse copied to ``tmp_path``, with test syncs if asked."""
    root = tmp_path / "project"
    for part in PROJECT_PARTS:
        source = PROJECT_ROOT / part
        if source.is_dir():
            shutil.copytree(source, root / part)
        else:
            root.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, root / part)
    (root / "syncs").mkdir()
    if with_syncs:
        (root / "syncs" / "test.yml").write_text(yaml.safe_dump(SYNCS, sort_keys=False))
    warehouse = tmp_path / "cdp.duckdb"
    shutil.copy(built.warehouse, warehouse)
    return Project(root, warehouse)


def fetch(project: Project, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(project.warehouse)) as con:
        return con.execute(sql, params or []).fetchall()


@dataclass
class Person:
    customer_id: str
    email: str  # canonical, as identity holds it
    raw_emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)  # E.164
    raw_phones: set[str] = field(default_factory=set)
    record_ids: set[str] = field(default_factory=set)

    def tokens(self) -> set[str]:
        """Every value that would show the person is still there, in any form."""
        normalizer = project_normalizer(PROJECT_ROOT)
        forms = {self.customer_id, self.email} | self.raw_emails | self.phones | self.raw_phones
        forms |= {normalizer.email(e) or e for e in self.raw_emails} | self.record_ids
        return {f.strip() for f in forms if f and f.strip()}


def pick_person(project: Project, exclude: Iterable[str] = ()) -> Person:
    """A consenting customer with several records from several sources, an email, a phone and orders."""
    customer_id, email = fetch(
        project,
        """with r as (
               select customer_id, count(*) as records, count(distinct source_table) as sources,
                      count(*) filter (where source_table = 'shop_orders') as orders
               from identity.customer_records group by 1),
           i as (
               select customer_id,
                      count(*) filter (where identifier_type = 'email') as emails,
                      count(*) filter (where identifier_type = 'phone') as phones,
                      min(identifier_value) filter (where identifier_type = 'email') as email
               from identity.customer_identifiers group by 1)
           select r.customer_id, i.email from r join i using (customer_id)
           join customer.customer_360 c using (customer_id)
           where orders >= 2 and sources >= 3 and emails = 1 and phones = 1
             and c.consent_email_marketing = 'granted' and r.customer_id not in (select unnest(?::varchar[]))
           order by records, r.customer_id limit 1""",
        [list(exclude)],
    )[0]
    person = Person(customer_id, email)
    person.record_ids = {
        r
        for (r,) in fetch(
            project, "select record_id from identity.customer_records where customer_id = ?", [customer_id]
        )
    }
    person.phones = {
        v
        for (v,) in fetch(
            project,
            """select identifier_value from identity.customer_identifiers
               where customer_id = ? and identifier_type = 'phone'""",
            [customer_id],
        )
    }
    normalizer = project_normalizer(PROJECT_ROOT)
    for table, column in EMAIL_COLUMNS.items():
        for (value,) in fetch(project, f"select {column} from raw.{table} where {column} is not null"):
            if normalizer.canonical_email(value) == email:
                person.raw_emails.add(value)
    for table, (column, country) in PHONE_COLUMNS.items():
        for value, code in fetch(
            project, f"select {column}, {country or 'null'} from raw.{table} where {column} is not null"
        ):
            if normalizer.phone_e164(value, code) in person.phones:
                person.raw_phones.add(value)
    assert person.raw_emails and person.raw_phones and len(person.record_ids) >= 4, person
    return person


def scan(project: Project, tokens: set[str]) -> dict[str, int]:
    """Rows per relation (every table and view of every schema) with any column holding a token
    as a whole value or a delimited part of one (JSON, node keys like email:..., messages)."""
    edge = "[^A-Za-z0-9._%+-]"  # a token must not be part of a longer email, id or number
    pattern = f"(^|{edge})({'|'.join(re.escape(t) for t in sorted(tokens))})($|{edge})"
    hits: dict[str, int] = {}
    with duckdb.connect(str(project.warehouse), read_only=True) as con:
        relations = con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        for schema, table in relations:
            columns = con.execute(
                """select column_name from information_schema.columns
                   where table_schema = ? and table_name = ?""",
                [schema, table],
            ).fetchall()
            condition = " or ".join(f'regexp_matches(cast("{c}" as varchar), $p)' for (c,) in columns)
            found = con.execute(
                f'select count(*) from "{schema}"."{table}" where {condition}', {"p": pattern}
            )
            count = found.fetchall()[0][0]
            if count:
                hits[f"{schema}.{table}"] = count
    return hits


def redeliver(landing: Path, target: Path) -> Path:
    """The landing files rewritten (other compression) so their SHA-256 differs: a re-export."""
    for source in sorted(landing.glob("*/*.parquet")):
        if source.parent.name.startswith("_"):
            continue
        out = target / source.parent.name / source.name
        out.parent.mkdir(parents=True, exist_ok=True)
        with duckdb.connect() as con:
            con.execute(
                f"copy (select * from read_parquet('{source}')) to '{out}' (format parquet, compression zstd)"
            )
        assert out.read_bytes() != source.read_bytes()
    return target


@dataclass
class Erased:
    project: Project
    person: Person
    cli: subprocess.CompletedProcess[str]
    mirror_before: list[dict]
    state_after_erase: list[tuple]
    mirror_after: list[dict]
    state_after_sync: list[tuple]
    hits_after_erase: dict[str, int]
    withheld: dict[str, int]
    withheld_logged: dict[str, int]
    hits_after_reload: dict[str, int]
    reloaded_rows: int
    new_ticket_withheld: int


@pytest.fixture(scope="module")
def erased(built: Project, sample: GenerationResult, tmp_path_factory: pytest.TempPathFactory) -> Erased:
    """One person erased by email through the CLI, with the whole before/after story recorded:
    mirror and upsert syncs before, the erasure, the next mirror run, then a re-delivery of
    every landing file (plus a new ticket with the person's phone written another way)."""
    tmp_path = tmp_path_factory.mktemp("erasure")
    project = project_copy(built, tmp_path, with_syncs=True)
    person = pick_person(project)
    syncs = {d.name: d for d in load_syncs(project.root)}
    for declared in syncs.values():
        assert run_sync(project, declared).status == "success"
    mirror_file = project.root / "out" / "mirror.jsonl"
    mirror_before = read_rows(mirror_file, "jsonl")

    email = sorted(person.raw_emails)[0]
    cli = cdp(
        "erase",
        "--email",
        email,
        "--reason",
        "GDPR art. 17",
        "--project-dir",
        str(project.root),
        "--warehouse",
        str(project.warehouse),
        cwd=project.root,
    )
    state_sql = (
        "select sync_name, key, cast(payload as varchar) from activation.sync_state where key = ? order by 1"
    )
    state_after_erase = fetch(project, state_sql, [person.customer_id])
    assert run_sync(project, syncs["everyone_mirror"]).status == "success"
    mirror_after = read_rows(mirror_file, "jsonl")
    state_after_sync = fetch(project, state_sql, [person.customer_id])
    hits_after_erase = scan(project, person.tokens())

    landing = redeliver(sample.out_dir, tmp_path / "redelivered")
    phone = sorted(person.phones)[0]  # +CC...: written as 00CC ... with spaces, a format staging also reads
    new_ticket = landing / "support_tickets" / "part-99999.parquet"
    with duckdb.connect() as con:
        con.execute(
            f"""copy (select 'T-ERASURE-TEST' as ticket_id, 'someone.else@example.org' as requester_email,
                     'Someone' as requester_name, '00 {phone[1:4]} {phone[4:]}' as requester_phone,
                     'email' as channel, 'hello' as subject, 'open' as status,
                     '2024-01-01T00:00:00Z' as created_at)
                to '{new_ticket}' (format parquet)"""
        )
    report = load_landing(landing, project.warehouse, raw_tables(project.root))
    new_ticket_withheld = next(f.withheld for f in report.files if f.file == new_ticket)
    withheld: dict[str, int] = {}
    for file in report.files:
        if file.withheld:
            withheld[file.table] = withheld.get(file.table, 0) + file.withheld
    withheld_logged = dict(
        fetch(project, "select raw_table, sum(rows_withheld) from privacy.withheld_rows group by 1")
    )
    rebuilt = run_dbt(project, ["build"], quiet=True)
    assert rebuilt.ok, dict(rebuilt.statuses)
    hits_after_reload = scan(project, person.tokens() | {"T-ERASURE-TEST"})
    return Erased(
        project,
        person,
        cli,
        mirror_before,
        state_after_erase,
        mirror_after,
        state_after_sync,
        hits_after_erase,
        withheld,
        withheld_logged,
        hits_after_reload,
        report.rows_loaded,
        new_ticket_withheld,
    )


def test_the_scan_finds_the_person_before_erasure(built: Project, erased: Erased) -> None:
    # Guards the scan itself: the same tokens hit raw, staging, identity and marts before.
    hits = scan(built, erased.person.tokens())
    expected = {
        "raw.shop_orders",
        "staging.stg_shop__orders",
        "identity.customer_records",
        "identity.customer_id_assignments",
        "customer.customer_360",
    }
    assert expected <= set(hits), hits


def test_erase_by_email_removes_the_person_from_every_table_and_view(erased: Erased) -> None:
    assert erased.cli.returncode == 0, erased.cli.stderr
    assert erased.hits_after_erase == {}


def test_the_cli_prints_a_one_line_summary(erased: Erased) -> None:
    lines = erased.cli.stdout.strip().splitlines()
    assert len(lines) == 1, erased.cli.stdout
    assert re.match(r"erasure [0-9a-f]{32}: completed, 1 customer\(s\), [1-9][\d,]* rows removed", lines[0])
    assert "everyone_upsert" in lines[0]  # an upsert sync cannot delete downstream: said so


def test_the_request_is_recorded_with_hashes_only(erased: Erased) -> None:
    rows = fetch(
        erased.project,
        """select subject_type, subject_sha256, customer_ids_sha256, status, completed_at is not null,
                  cast(rows_removed as varchar), syncs_not_deleted, reason from privacy.erasure_requests""",
    )
    assert len(rows) == 1
    subject_type, subject_sha, ids_sha, status, completed, removed, not_deleted, reason = rows[0]
    assert subject_type == "email" and status == "completed" and completed and reason == "GDPR art. 17"
    assert subject_sha == hashlib.sha256(erased.person.email.encode()).hexdigest()
    assert ids_sha == [hashlib.sha256(erased.person.customer_id.encode()).hexdigest()]
    assert json.loads(removed)["raw.shop_orders"] >= 2
    assert not_deleted == ["everyone_upsert"]
    kinds = dict(fetch(erased.project, "select kind, count(*) from privacy.erasure_tombstones group by 1"))
    assert {"email", "phone", "record:shop_orders"} <= set(kinds), kinds


def test_mirror_sync_deletes_the_person_downstream_and_drops_the_state_row(erased: Erased) -> None:
    cid = erased.person.customer_id
    assert cid in {row["customer_id"] for row in erased.mirror_before}
    # After erasure the snapshot row holds only the key, until the mirror run deletes it.
    assert erased.state_after_erase == [
        ("everyone_mirror", cid, json.dumps({"customer_id": cid}, separators=(",", ":")))
    ]
    assert cid not in {row["customer_id"] for row in erased.mirror_after}
    assert len(erased.mirror_after) == len(erased.mirror_before) - 1
    assert erased.state_after_sync == []


def test_redelivered_files_are_withheld_counted_and_do_not_resurrect_the_person(erased: Erased) -> None:
    assert erased.reloaded_rows > 0  # the other people's rows did load again (as duplicates)
    assert erased.withheld.get("shop_orders", 0) >= 2
    assert erased.withheld.get("support_tickets", 0) >= 1
    assert erased.new_ticket_withheld == 1  # the new ticket, matched by its phone alone
    assert erased.withheld_logged == erased.withheld
    assert erased.hits_after_reload == {}


def test_erase_by_customer_id(built: Project, erased: Erased, tmp_path: Path) -> None:
    project = project_copy(built, tmp_path)
    person = pick_person(project, exclude=[erased.person.customer_id])
    result = erase(project, SubjectRef("customer_id", person.customer_id))
    assert result.status == "completed" and result.customer_ids == [person.customer_id]
    assert scan(project, person.tokens()) == {}
    assert fetch(project, "select subject_type, status from privacy.erasure_requests") == [
        ("customer_id", "completed")
    ]


def test_unknown_subject_exits_1_changes_nothing_and_is_recorded_not_found(
    built: Project, tmp_path: Path
) -> None:
    project = project_copy(built, tmp_path)
    counts = "select count(*) from raw.crm_contacts union all select count(*) from identity.customer_records"
    before = fetch(project, counts)
    result = cdp(
        "erase",
        "--email",
        "Nobody.Here@Example.org",
        "--project-dir",
        str(project.root),
        "--warehouse",
        str(project.warehouse),
        cwd=project.root,
    )
    assert result.returncode == 1
    assert "no customer" in result.stderr and "nothing was erased" in result.stderr
    assert "recorded as not_found" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert fetch(project, counts) == before
    rows = fetch(
        project,
        "select subject_type, subject_sha256, status, customer_ids_sha256 from privacy.erasure_requests",
    )
    assert rows == [("email", hashlib.sha256(b"nobody.here@example.org").hexdigest(), "not_found", [])]
    assert fetch(project, "select count(*) from privacy.erasure_tombstones") == [(0,)]


def test_python_normalisation_matches_staging_for_every_email_and_phone(built: Project) -> None:
    # The loader screens with these functions; any drift from the dbt macros would let rows in.
    normalizer = project_normalizer(PROJECT_ROOT)
    checks = [
        ("crm_contacts", "stg_crm__contacts", "email", "phone", "r.country", "email_canonical", "phone_e164"),
        (
            "shop_customers",
            "stg_shop__customers",
            "email",
            "phone",
            "r.country",
            "email_canonical",
            "phone_e164",
        ),
        (
            "support_tickets",
            "stg_support__tickets",
            "requester_email",
            "requester_phone",
            "null",
            "requester_email_canonical",
            "requester_phone_e164",
        ),
    ]
    for raw, staged, email, phone, country, canonical, e164 in checks:
        rows = fetch(
            built,
            f"""select r.{email}, r.{phone}, {country}, s.{canonical}, s.{e164}
                from raw.{raw} r join staging.{staged} s using (_source_file, _source_row)""",
        )
        assert rows
        wrong = [
            r
            for r in rows
            if (normalizer.canonical_email(r[0]), normalizer.phone_e164(r[1], r[2])) != (r[3], r[4])
        ]
        assert wrong == [], f"{raw}: {wrong[:5]}"


def test_a_shared_inbox_is_refused_recorded_ambiguous_and_nothing_changes(
    built: Project, tmp_path: Path
) -> None:
    project = project_copy(built, tmp_path)
    # An email identity stopped linking (a household inbox) carried by records of several customers.
    shared = fetch(
        project,
        """select substr(i.identifier_key, length('email:') + 1)
           from identity.int_identity__record_identifiers i
           join identity.customer_records r using (source_table, record_id)
           where i.identifier_type = 'email' and i.identifier_key not in
               (select identifier_key from identity.customer_identifiers where identifier_type = 'email')
           group by 1 having count(distinct r.customer_id) > 1 order by 1 limit 1""",
    )[0][0]
    counts = "select count(*) from raw.crm_contacts union all select count(*) from raw.shop_orders"
    before = fetch(project, counts)
    result = cdp(
        "erase",
        "--email",
        shared,
        "--project-dir",
        str(project.root),
        "--warehouse",
        str(project.warehouse),
        cwd=project.root,
    )
    assert result.returncode == 1
    assert "shared by" in result.stderr and "--customer-id" in result.stderr
    assert "recorded as ambiguous" in result.stderr
    assert fetch(project, counts) == before
    assert fetch(project, "select status from privacy.erasure_requests") == [("ambiguous",)]
    assert fetch(project, "select count(*) from privacy.erasure_tombstones") == [(0,)]
