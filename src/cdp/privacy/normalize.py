"""Email and phone normalisation in Python, mirroring the dbt macros (macros/normalize/*.sql)
step by step, so the loader can match incoming raw rows against erasure tombstones before
staging ever sees them. tests/test_erasure.py checks every staged email and phone of the
sample against these functions; a change to a macro must be made here too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from cdp.errors import ConfigError

# RE2's \s (the macros run on DuckDB) is ASCII whitespace without \v; Python's \s is wider.
_EDGE_SPACE = re.compile(r"^[\t\n\f\r ]+|[\t\n\f\r ]+$")
_EMAIL = re.compile(
    r"^[a-z0-9_%+-]+(\.[a-z0-9_%+-]+)*@[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,}$"
)
_INTERNATIONAL = re.compile(r"^[\t\n\f\r ]*[+]")
_UNKNOWN_CODE = re.compile(r"^[1-9][0-9]{7,14}$")


@dataclass(frozen=True)
class PhoneRule:
    calling_code: str
    trunk_prefix: str
    nsn_pattern: str


@dataclass(frozen=True)
class Normalizer:
    """The dbt vars the macros read: placeholders, phone rules (in declaration order), default country."""

    placeholders: frozenset[str]
    phone_rules: tuple[tuple[str, PhoneRule], ...]
    default_country: str

    def clean_text(self, value: str | None) -> str | None:
        if value is None:
            return None
        trimmed = _EDGE_SPACE.sub("", value)
        return None if trimmed.lower() in self.placeholders else trimmed

    def email(self, value: str | None) -> str | None:
        """cdp_normalize_email: lower-cased, trimmed, null unless a valid address."""
        cleaned = self.clean_text(value)
        lowered = cleaned.lower() if cleaned is not None else None
        return lowered if lowered is not None and _EMAIL.search(lowered) else None

    def canonical_email(self, value: str | None) -> str | None:
        """cdp_canonical_email of the normalised email: the mailbox identity matches on."""
        email = self.email(value)
        if email is None:
            return None
        parts = email.split("@")
        local, domain = parts[0], parts[1]
        untagged = local.split("+")[0]
        if domain in ("gmail.com", "googlemail.com"):
            return untagged.replace(".", "") + "@gmail.com"
        return f"{untagged}@{domain}"

    def phone_e164(self, value: str | None, country: str | None = None) -> str | None:
        """cdp_phone_dialable then cdp_e164 with the row's (cleaned, upper-cased) country."""
        dialable = _dialable(value)
        if dialable is None:
            return None
        if dialable.startswith("+"):
            return self._international(dialable[1:])
        code = (self.clean_text(country) or self.default_country).upper()
        for rule_country, rule in self.phone_rules:
            if rule_country == code:
                return _national(dialable, rule)
        return None

    def _international(self, digits: str) -> str | None:
        seen: set[str] = set()
        for _, rule in self.phone_rules:
            code = rule.calling_code
            if code in seen:
                continue
            seen.add(code)
            if digits.startswith(code):  # the first matching code decides, as SQL's case does
                rest = digits[len(code) :]
                if re.search(rule.nsn_pattern, rest):
                    return "+" + digits
                trunk = rule.trunk_prefix == "0" and rest.startswith("0")  # '+44 (0)20 ...'
                if trunk and re.search(rule.nsn_pattern, rest[1:]):
                    return f"+{code}{rest[1:]}"
                return None
        return "+" + digits if _UNKNOWN_CODE.search(digits) else None


def _dialable(value: str | None) -> str | None:
    if value is None:
        return None
    digits = re.sub(r"[^0-9]", "", value)
    if digits == "" or digits.replace(digits[0], "") == "":
        return None
    if _INTERNATIONAL.search(value):
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    return digits


def _national(digits: str, rule: PhoneRule) -> str | None:
    trunk = rule.trunk_prefix
    if trunk and digits.startswith(trunk) and re.search(rule.nsn_pattern, digits[len(trunk) :]):
        return f"+{rule.calling_code}{digits[len(trunk) :]}"
    if re.search(rule.nsn_pattern, digits):
        return f"+{rule.calling_code}{digits}"
    return None


@cache
def project_normalizer(project_root: Path) -> Normalizer:
    """The Normalizer configured by the vars of ``project_root``/dbt_project.yml."""
    path = project_root / "dbt_project.yml"
    try:
        variables = (yaml.safe_load(path.read_text()) or {}).get("vars") or {}
        rules = tuple(
            (country, PhoneRule(str(r["calling_code"]), str(r.get("trunk_prefix") or ""), r["nsn_pattern"]))
            for country, r in variables["cdp_phone_rules"].items()
        )
        return Normalizer(
            frozenset(str(p).lower() for p in variables["cdp_placeholder_text"]),
            rules,
            str(variables["cdp_default_country"]).upper(),
        )
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(
            f"{path}: cannot read vars cdp_phone_rules, cdp_placeholder_text and cdp_default_country "
            f"the erasure matching needs ({type(exc).__name__}: {exc})"
        ) from exc
