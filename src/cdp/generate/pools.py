"""Value pools the generator samples from: names, addresses and phone numbers per country.

Faker is slow per call, so we draw fixed-size pools once per run (seeded, so the same
seed gives the same pools) and sample from them with a fast ``random.Random``.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

import faker
import phonenumbers

# country -> (Faker locale, share of people)
COUNTRIES: dict[str, tuple[str, float]] = {
    "US": ("en_US", 0.40),
    "GB": ("en_GB", 0.20),
    "DE": ("de_DE", 0.15),
    "FR": ("fr_FR", 0.10),
    "NL": ("nl_NL", 0.08),
    "ES": ("es_ES", 0.07),
}

# Real mobile/geographic prefixes, so generated numbers are valid for libphonenumber.
_US_AREA_CODES = ["212", "312", "415", "617", "206", "303", "512", "404", "305", "702", "713", "602"]
_MOBILE_PREFIXES = {
    "GB": ["77", "78", "79", "74"],  # +44 7x xxxx xxxx
    "DE": ["151", "160", "170", "176"],
    "FR": ["6", "7"],
    "NL": ["6"],
    "ES": ["6", "7"],
}
_NSN_LENGTH = {"GB": 10, "DE": 11, "FR": 9, "NL": 9, "ES": 9}

# Common English nicknames: CRM agents and shoppers type these instead of the legal name.
NICKNAMES: dict[str, list[str]] = {
    "William": ["Bill", "Will", "Billy"],
    "Robert": ["Bob", "Rob", "Bobby"],
    "Richard": ["Rick", "Dick", "Rich"],
    "James": ["Jim", "Jimmy"],
    "John": ["Johnny", "Jack"],
    "Michael": ["Mike", "Mikey"],
    "Elizabeth": ["Liz", "Beth", "Lizzie"],
    "Katherine": ["Kate", "Kathy"],
    "Catherine": ["Cathy", "Kate"],
    "Margaret": ["Maggie", "Peggy"],
    "Jennifer": ["Jen", "Jenny"],
    "Christopher": ["Chris"],
    "Daniel": ["Dan", "Danny"],
    "Matthew": ["Matt"],
    "Anthony": ["Tony"],
    "Joseph": ["Joe", "Joey"],
    "Thomas": ["Tom", "Tommy"],
    "Charles": ["Charlie", "Chuck"],
    "Patricia": ["Pat", "Patty", "Trish"],
    "Susan": ["Sue", "Susie"],
    "Rebecca": ["Becky"],
    "Alexander": ["Alex"],
    "Samuel": ["Sam"],
    "Benjamin": ["Ben"],
    "Nicholas": ["Nick"],
    "Jonathan": ["Jon"],
    "Deborah": ["Debbie", "Deb"],
    "Victoria": ["Vicky", "Tori"],
    "Stephanie": ["Steph"],
    "Johannes": ["Hannes"],
    "Alexandra": ["Alex", "Sasha"],
}

EMAIL_DOMAINS: dict[str, list[tuple[str, float]]] = {
    "US": [
        ("gmail.com", 0.45),
        ("yahoo.com", 0.15),
        ("outlook.com", 0.15),
        ("icloud.com", 0.1),
        ("hotmail.com", 0.1),
        ("aol.com", 0.05),
    ],
    "GB": [
        ("gmail.com", 0.4),
        ("hotmail.co.uk", 0.2),
        ("outlook.com", 0.15),
        ("btinternet.com", 0.1),
        ("yahoo.co.uk", 0.15),
    ],
    "DE": [("gmail.com", 0.3), ("web.de", 0.25), ("gmx.de", 0.25), ("t-online.de", 0.1), ("outlook.de", 0.1)],
    "FR": [
        ("gmail.com", 0.4),
        ("orange.fr", 0.2),
        ("free.fr", 0.15),
        ("hotmail.fr", 0.15),
        ("laposte.net", 0.1),
    ],
    "NL": [
        ("gmail.com", 0.45),
        ("hotmail.nl", 0.2),
        ("ziggo.nl", 0.15),
        ("kpnmail.nl", 0.1),
        ("outlook.com", 0.1),
    ],
    "ES": [
        ("gmail.com", 0.5),
        ("hotmail.es", 0.2),
        ("yahoo.es", 0.1),
        ("telefonica.net", 0.1),
        ("outlook.es", 0.1),
    ],
}


@dataclass(frozen=True)
class CountryPool:
    """Names and addresses typical of one country."""

    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    streets: tuple[str, ...]
    cities: tuple[tuple[str, str], ...]  # (city, postcode)


@functools.lru_cache(maxsize=2)  # pure in seed; each worker process builds it once
def build_pools(seed: int, size: int = 400) -> dict[str, CountryPool]:
    """Draw ``size`` names/streets/cities per country from Faker, deterministically."""
    pools: dict[str, CountryPool] = {}
    for index, (country, (locale, _share)) in enumerate(sorted(COUNTRIES.items())):
        fake = faker.Faker(locale)
        fake.seed_instance(seed * 1000 + index)
        english = locale.startswith("en")
        # English pools get nickname-bearing names often enough for the nickname noise to show.
        firsts = [fake.first_name() for _ in range(size)]
        if english:
            firsts += list(NICKNAMES) * 3
        pools[country] = CountryPool(
            first_names=tuple(firsts),
            last_names=tuple(fake.last_name() for _ in range(size)),
            streets=tuple(fake.street_name() for _ in range(size)),
            cities=tuple((fake.city(), fake.postcode()) for _ in range(size // 2)),
        )
    return pools


def random_phone(rng: random.Random, country: str) -> phonenumbers.PhoneNumber:
    """A valid mobile (or US geographic) number of ``country``: drawn until libphonenumber
    accepts it, since not every block behind a mobile prefix is assigned."""
    calling_code = phonenumbers.country_code_for_region(country)
    for _attempt in range(100):
        if country == "US":
            area = rng.choice(_US_AREA_CODES)
            national = f"{area}{rng.randint(2, 9)}{rng.randint(0, 99):02d}{rng.randint(0, 9999):04d}"
        else:
            prefix = rng.choice(_MOBILE_PREFIXES[country])
            rest = _NSN_LENGTH[country] - len(prefix)
            national = prefix + "".join(str(rng.randint(0, 9)) for _ in range(rest))
        # Built directly: phonenumbers.parse is far slower and the parts are known.
        number = phonenumbers.PhoneNumber(country_code=calling_code, national_number=int(national))
        if phonenumbers.is_valid_number(number):
            return number
    raise RuntimeError(f"no valid {country} phone number drawn in 100 attempts: check _MOBILE_PREFIXES")
