"""The true people behind the sample data: who they are and how they behave."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property

import phonenumbers

from cdp.generate.noise import NoiseRates
from cdp.generate.pools import COUNTRIES, EMAIL_DOMAINS, CountryPool, random_phone

HISTORY_DAYS = 3 * 365


@dataclass
class Address:
    street: str
    city: str
    postcode: str


@dataclass
class Person:
    index: int
    person_id: str
    household_id: str
    country: str
    first_name: str
    last_name: str
    date_of_birth: date
    email: str
    phone: phonenumbers.PhoneNumber
    address: Address
    previous_address: Address | None
    first_seen: datetime
    active_until: datetime
    orders_per_year: float
    basket_size: float
    devices: list[str] = field(default_factory=list)

    @cached_property
    def phone_renderings(self) -> dict[str, str]:
        """E164, INTERNATIONAL and NATIONAL forms, formatted once: formatting is costly."""
        fmt = phonenumbers.PhoneNumberFormat
        return {
            name: phonenumbers.format_number(self.phone, getattr(fmt, name))
            for name in ("E164", "INTERNATIONAL", "NATIONAL")
        }

    @property
    def phone_e164(self) -> str:
        return self.phone_renderings["E164"]


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _email_for(rng: random.Random, index: int, first: str, last: str, country: str) -> str:
    """A mailbox of this person alone: the digits are the person's index, so two people
    share an address only when a household does (real mailboxes are unique; without the
    digits, 'jjones@gmail.com' would belong to every J. Jones of a large sample)."""
    domains, weights = zip(*EMAIL_DOMAINS[country], strict=True)
    domain = rng.choices(domains, weights)[0]
    first_a, last_a = _ascii(first).replace(" ", ""), _ascii(last).replace(" ", "")
    local = rng.choice(
        (
            f"{first_a}.{last_a}{index}",
            f"{first_a}{last_a}{index}",
            f"{first_a[0]}{last_a}{index}",
            f"{first_a}.{last_a}.{index}",
            f"{first_a}{index}",
        )
    )
    return f"{local}@{domain}"


def _address(rng: random.Random, pool: CountryPool) -> Address:
    city, postcode = rng.choice(pool.cities)
    return Address(f"{rng.randint(1, 250)} {rng.choice(pool.streets)}", city, postcode)


def make_person(
    rng: random.Random,
    index: int,
    pools: dict[str, CountryPool],
    as_of: datetime,
    rates: NoiseRates,
    partner: Person | None,
) -> Person:
    """One person; with probability ``shared_household_email`` they share ``partner``'s home."""
    shares_home = partner is not None and rng.random() < rates.shared_household_email
    country = (
        partner.country
        if shares_home
        else rng.choices(list(COUNTRIES), [share for _locale, share in COUNTRIES.values()])[0]
    )
    pool = pools[country]
    first = rng.choice(pool.first_names)
    last = partner.last_name if shares_home and rng.random() < 0.6 else rng.choice(pool.last_names)
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
    first_seen = as_of - timedelta(days=rng.randrange(7, HISTORY_DAYS), seconds=rng.randrange(86400))
    churned = rng.random() < 0.3
    active_until = first_seen + (as_of - first_seen) * rng.random() if churned else as_of
    person = Person(
        index=index,
        person_id=f"P{index:09d}",
        household_id=partner.household_id if shares_home else f"H{index:09d}",
        country=country,
        first_name=first,
        last_name=last,
        date_of_birth=born,
        email=partner.email if shares_home else _email_for(rng, index, first, last, country),
        phone=random_phone(rng, country),
        address=partner.address if shares_home else _address(rng, pool),
        previous_address=_address(rng, pool) if rng.random() < rates.moved_address else None,
        first_seen=first_seen,
        active_until=active_until,
        orders_per_year=rng.gammavariate(0.8, 2.0),
        basket_size=rng.gammavariate(4.0, 0.5),
    )
    return person
