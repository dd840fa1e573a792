"""Record ids that are unique and deterministic but reveal nothing about the person.

An id encodes (person index, record ordinal) through an invertible scramble of 48 bits,
so two records of one person do not look alike and ids never collide.
"""

_MASK = (1 << 48) - 1
_ORDINAL_BITS = 12


def _scramble(value: int, salt: int) -> int:
    value = (value * (0x9E3779B97F4A7C15 | 1) + salt) & _MASK
    value ^= value >> 19
    value = (value * 0xD6E8FEB86659FD93) & _MASK  # odd: a bijection modulo 2**48
    value ^= value >> 23
    return value


def record_id(table_salt: int, person_index: int, ordinal: int) -> int:
    """A unique 48-bit integer for the ``ordinal``-th record of one person in one table."""
    if ordinal >= 1 << _ORDINAL_BITS:
        raise ValueError(f"a person has more than {1 << _ORDINAL_BITS} records in one table")
    return _scramble((person_index << _ORDINAL_BITS) | ordinal, table_salt)


def hex_id(prefix: str, table_salt: int, person_index: int, ordinal: int) -> str:
    return f"{prefix}{record_id(table_salt, person_index, ordinal):012x}"
