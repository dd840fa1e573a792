"""Noise as real source systems produce it: each function renders one clean value the way
a particular system or person might have typed it. Rates live in ``NoiseRates``."""

from __future__ import annotations

import random
from dataclasses import dataclass

from cdp.generate.pools import NICKNAMES

JUNK_EMAILS = ("test@test.com", "noemail@example.com", "none@none.com", "a@a.com", "null")
JUNK_PHONES = ("0000000000", "1234567890", "999-999-9999", "null", "n/a")
JUNK_NAMES = ("Test", "null", "N/A", "asdf", "-")
BROKEN_EMAIL_SHAPES = (
    "{local}@",
    "{local}@@{domain}",
    "{local}.{domain}",
    "{local}@{domain}.",
    "@{domain}",
    "{local} @ {domain}",
)
BAD_DATES = ("2023-02-30", "not-a-date", "31/31/2023", "2021-13-01", "0000-00-00", "yesterday")
BAD_TIMESTAMPS = ("2023-02-30 10:00:00", "not-a-timestamp", "2024-06-31T25:61:00Z", "N/A", "13/13/2023")


@dataclass(frozen=True)
class NoiseRates:
    """Probabilities of each kind of noise, per rendered value or per row."""

    email_case_space: float = 0.15  # ' John.Smith@Gmail.COM '
    gmail_variant: float = 0.25  # dots moved / +tag / googlemail.com, of gmail renders
    name_typo: float = 0.04  # swapped, dropped or doubled letter
    nickname: float = 0.25  # of first names that have a nickname
    junk_value: float = 0.015  # test@test.com, 0000000000, 'null'
    broken_email: float = 0.005  # 'john@@gmail.com'
    malformed_row: float = 0.004  # bad date, negative amount, unknown code
    duplicate_row: float = 0.015  # exact re-delivery of the same row
    late_event: float = 0.03  # received hours or days after it happened
    moved_address: float = 0.10  # of people: older systems keep the previous address
    shared_household_email: float = 0.03  # of people: use a partner's email address
    shared_store_device: float = 0.02  # of web sessions: on an in-store kiosk


def email_variant(rng: random.Random, email: str, rates: NoiseRates) -> str:
    """Render ``email`` with the case, whitespace and gmail quirks people introduce."""
    local, domain = email.split("@")
    if domain == "gmail.com" and rng.random() < rates.gmail_variant:
        choice = rng.randrange(3)
        if choice == 0:
            tag = rng.choice(("shop", "news", "promo", "2024"))
            local = f"{local}+{tag}"
        elif choice == 1:
            bare = local.replace(".", "")
            cut = rng.randint(1, max(1, len(bare) - 1))
            local = f"{bare[:cut]}.{bare[cut:]}"
        else:
            domain = "googlemail.com"
    rendered = f"{local}@{domain}"
    if rng.random() < rates.email_case_space:
        rendered = rng.choice((rendered.upper(), rendered.title(), f" {rendered} ", f"{rendered}\t"))
    return rendered


def broken_email(rng: random.Random, email: str) -> str:
    local, domain = email.split("@")
    return rng.choice(BROKEN_EMAIL_SHAPES).format(local=local, domain=domain)


def typo(rng: random.Random, name: str) -> str:
    """One keyboard slip: swap two adjacent letters, drop one, or double one."""
    if len(name) < 4:
        return name
    i = rng.randrange(1, len(name) - 2)
    kind = rng.randrange(3)
    if kind == 0:
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    if kind == 1:
        return name[:i] + name[i + 1 :]
    return name[:i] + name[i] + name[i:]


def first_name_variant(rng: random.Random, first_name: str, rates: NoiseRates) -> str:
    nicknames = NICKNAMES.get(first_name)
    if nicknames and rng.random() < rates.nickname:
        return rng.choice(nicknames)
    return name_variant(rng, first_name, rates)


def name_variant(rng: random.Random, name: str, rates: NoiseRates) -> str:
    roll = rng.random()
    if roll < rates.name_typo:
        return typo(rng, name)
    if roll < rates.name_typo + 0.05:
        return rng.choice((name.upper(), name.lower(), f" {name}", f"{name}  "))
    return name


def phone_variant(rng: random.Random, renderings: dict[str, str], national_ok: bool) -> str:
    """Render a number as people type it: E.164, international, national, digits, 00-prefix.

    ``renderings`` holds the number's E164/INTERNATIONAL/NATIONAL forms. ``national_ok`` is
    False where the source has no country column to resolve a national rendering with.
    """
    choice = rng.randrange(6 if national_ok else 3)
    if choice == 0:
        return renderings["E164"]
    if choice == 1:
        return renderings["INTERNATIONAL"]
    if choice == 2:
        return "00" + renderings["E164"][1:]
    national = renderings["NATIONAL"]
    if choice == 3:
        return national
    digits = "".join(ch for ch in national if ch.isdigit())
    if choice == 4:
        return digits
    return national.replace(" ", ".").replace("(", "").replace(")", "").replace("-", ".")
