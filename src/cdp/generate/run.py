"""Drives generation chunk by chunk: same (people, seed, as-of) -> byte-identical files.

Chunks are independent (each has its own seeded RNG), so they run on all cores and are
written in order; memory is bounded by the few chunks in flight.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

import pyarrow as pa

from cdp.generate.noise import NoiseRates
from cdp.generate.people import Person, make_person
from cdp.generate.pools import build_pools
from cdp.generate.sources import Batch, Emitter, build_catalog
from cdp.generate.tables import PEOPLE_COLUMNS, RAW_TABLES, TRUTH_COLUMNS
from cdp.generate.writer import ParquetTableWriter, string_table

DEFAULT_AS_OF = datetime(2026, 11, 1)
CHUNK_PEOPLE = 5_000  # fixed, so output never depends on how the work is split
TRUTH_DIR = "_truth"
TRUTH_TABLES = {"record_truth": TRUTH_COLUMNS, "people": PEOPLE_COLUMNS}
MANIFEST = "_manifest.json"


def sample_as_of_env() -> dict[str, str]:
    """The environment that scores generated data as of its own last day (``CDP_AS_OF``),
    not the day dbt runs: a month on, the BG/NBD fit on the sample no longer converges."""
    return {"CDP_AS_OF": DEFAULT_AS_OF.date().isoformat()}


@dataclass(frozen=True)
class GenerationResult:
    out_dir: Path
    people: int
    seed: int
    as_of: str
    row_counts: dict[str, int]

    @property
    def total_rows(self) -> int:
        return sum(self.row_counts.values())


def generate(
    out_dir: Path,
    people: int,
    seed: int,
    as_of: datetime = DEFAULT_AS_OF,
    rates: NoiseRates | None = None,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
    first_person: int = 0,
) -> GenerationResult:
    """Write raw source tables to ``out_dir/<table>/`` and ground truth to ``out_dir/_truth/``.

    ``progress`` is called with the number of people done after every chunk.
    ``first_person`` > 0 writes only people ``first_person`` .. ``people - 1``: a later batch
    of new arrivals (ids, person ids and mailboxes derive from the person's index, so they
    never collide with those of a run for ``first_person`` people).
    """
    if people < 1:
        raise ValueError(f"--customers must be at least 1, got {people}")
    if not 0 <= first_person < people:
        raise ValueError(f"first_person must be in 0 .. {people - 1}, got {first_person}")
    rates = rates or NoiseRates()
    for stale in [*RAW_TABLES, TRUTH_DIR]:  # a re-run replaces, never mixes, old output
        shutil.rmtree(out_dir / stale, ignore_errors=True)
    starts = range(first_person, people, CHUNK_PEOPLE)
    work = partial(_chunk_tables, seed=seed, people=people, as_of=as_of, rates=rates)
    workers = workers or min(os.cpu_count() or 1, len(starts))
    raw = ParquetTableWriter(out_dir, RAW_TABLES, "part-00000.parquet")
    truth = ParquetTableWriter(out_dir / TRUTH_DIR, TRUTH_TABLES, "part-00000.parquet")
    with raw, truth, ProcessPoolExecutor(workers) as pool:
        for start, tables in zip(starts, pool.map(work, starts), strict=True):
            for name, table in tables.items():
                (truth if name in TRUTH_TABLES else raw).write(name, table)
            if progress:
                progress(min(start + CHUNK_PEOPLE, people))
    result = GenerationResult(out_dir, people, seed, as_of.date().isoformat(), raw.row_counts)
    manifest = {**asdict(result), "out_dir": str(out_dir), "noise": asdict(rates)}
    if first_person:
        manifest["first_person"] = first_person
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return result


def _chunk_tables(
    start: int, seed: int, people: int, as_of: datetime, rates: NoiseRates
) -> dict[str, pa.Table]:
    """All rows of people ``start`` .. ``start + CHUNK_PEOPLE`` as Arrow tables."""
    pools, catalog = build_pools(seed), build_catalog(seed)
    rng = random.Random(f"{seed}-{start}")
    batch = Batch()
    emitter = Emitter(rng, rates, as_of, catalog, batch)
    persons: list[Person] = []
    for index in range(start, min(start + CHUNK_PEOPLE, people)):
        person = make_person(rng, index, pools, as_of, rates, persons[-1] if persons else None)
        emitter.person(person)
        persons.append(person)
    # Collectors deliver events out of order.
    random.Random(f"{seed}-shuffle-{start}").shuffle(batch.rows.get("web_events", []))
    tables = {name: string_table(cols, batch.rows.get(name, [])) for name, cols in RAW_TABLES.items()}
    tables["record_truth"] = string_table(TRUTH_COLUMNS, batch.truth)
    tables["people"] = string_table(PEOPLE_COLUMNS, [_person_row(p) for p in persons])
    return tables


def _person_row(person: Person) -> tuple[str, ...]:
    return (
        person.person_id,
        person.household_id,
        person.country,
        person.first_name,
        person.last_name,
        person.email,
        person.phone_e164,
        person.date_of_birth.isoformat(),
    )
