"""Personal identifiers in text: find them and mask them.

Resident ID numbers (GB 11643 check digit and a real birth date), mainland mobile numbers,
landlines, bank card numbers (Luhn) and email addresses. A mask keeps enough to recognise what
it was (110101********1234, 138****5678, 6222 **** **** 1234, z***@example.com), is
deterministic (the same text always masks the same way, so de-duplication and reprint
grouping still match) and idempotent. Statistics figures are left alone: numbers need the
checksum, the Luhn digit or the mobile prefix, and a number followed by a unit (元, 亿, 人…)
is a figure, never a phone or a card.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

KINDS = ("email", "id_card", "bank_card", "mobile", "landline")
MASK = "*"

# A number must not be glued to other digits or Latin letters (order numbers, hashes, URLs),
# nor be part of a decimal figure.
_BEFORE = r"(?<![0-9A-Za-z])(?<![0-9][.,])"
_AFTER = r"(?![0-9A-Za-z])(?![.,][0-9])"
# A figure followed by a unit is a quantity, not an identifier.
_NO_UNIT = r"(?!\s*(?:元|亿|万|千|百|人|户|家|吨|个|次|件|项|台|辆|%|％|美元|平方|公里|千克|斤))"

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
    r"\.[A-Za-z]{2,}(?![A-Za-z0-9-])"
)
_ID_CARD = re.compile(_BEFORE + r"[1-9]\d{16}[0-9Xx]" + _AFTER)
_BANK_CARD = re.compile(
    _BEFORE + r"[3-6]\d{3}(?:[ -]?\d{4}){3}(?:[ -]?\d{1,3})?" + _AFTER + _NO_UNIT
)
_MOBILE = re.compile(
    r"(?<![0-9A-Za-z+])(?<![0-9][.,])(?:(?:\+|00)?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}"
    + _AFTER
    + _NO_UNIT
)
_LANDLINE = re.compile(
    _BEFORE
    + r"(?:[(（]0(?:10|2\d|[3-9]\d{2})[)）][ -]?|0(?:10|2\d|[3-9]\d{2})[ -])"
    + r"[2-9]\d{6,7}(?:(?:转|分机|-|ext\.?)\d{1,6})?"
    + _AFTER
    + _NO_UNIT
)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_check_digit(first17: str) -> str:
    """The GB 11643-1999 check character of the first 17 digits of a resident ID number."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def is_resident_id(number: str) -> bool:
    """An 18-character resident ID with a real birth date and the right check character."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if not 1900 <= born.year <= 2100:
        return False
    return id_check_digit(number[:17]) == number[17].upper()


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _keep(text: str, head: int, tail: int, start_at: int = 0) -> str:
    """Mask the digits (and X) of `text` from `start_at`, keeping the first `head` and last
    `tail` of them; separators stay where they are."""
    positions = [i for i, c in enumerate(text) if i >= start_at and (c.isdigit() or c in "Xx")]
    hidden = set(positions[head : len(positions) - tail])
    return "".join(MASK if i in hidden else c for i, c in enumerate(text))


def _mask_email(found: str) -> str:
    local, _, domain = found.partition("@")
    return f"{local[0]}***@{domain}"


def _mask_mobile(found: str) -> str:
    # Keep a +86/86 prefix as written: mask within the eleven national digits.
    national = len(found)
    count = 0
    for i in range(len(found) - 1, -1, -1):
        if found[i].isdigit():
            count += 1
            if count == 11:
                national = i
                break
    return _keep(found, 3, 4, start_at=national)


def _mask_landline(found: str) -> str:
    match = re.match(r"[(（]?0\d+[)）]?[ -]?", found)
    assert match is not None
    area = match.end()
    rest = found[area:]
    ext = re.search(r"(转|分机|-|ext\.?)\d+$", rest)
    local, tail = (rest[: ext.start()], rest[ext.start() :]) if ext else (rest, "")
    return found[:area] + _keep(local, 0, 4) + tail


@dataclass(frozen=True)
class Identifier:
    """One personal identifier found in a text."""

    kind: str
    start: int
    end: int
    text: str


_Rule = tuple[re.Pattern[str], Callable[[str], bool], Callable[[str], str]]
_RULES: dict[str, _Rule] = {
    "email": (_EMAIL, lambda s: True, _mask_email),
    "id_card": (_ID_CARD, is_resident_id, lambda s: _keep(s, 6, 4)),
    "bank_card": (
        _BANK_CARD,
        lambda s: 16 <= len(_digits(s)) <= 19 and luhn_ok(_digits(s)),
        lambda s: _keep(s, 4, 4),
    ),
    "mobile": (_MOBILE, lambda s: True, _mask_mobile),
    "landline": (_LANDLINE, lambda s: True, _mask_landline),
}


# What every match of a kind contains, without the look-arounds that make each full pattern be
# tried at every character of a text: a text without it holds no identifier of that kind, and
# checking it is ten to fifty times faster (masking was a twentieth of a crawl's time).
_CORES = {
    "email": re.compile("@"),
    "id_card": re.compile(r"[1-9]\d{16}[0-9Xx]"),
    "bank_card": re.compile(r"[3-6]\d{3}(?:[ -]?\d{4}){3}"),
    "mobile": re.compile(r"1[3-9]\d[ -]?\d{4}[ -]?\d{4}"),
    "landline": re.compile(r"[2-9]\d{6,7}"),
}


def find(text: str, kinds: Iterable[str] = KINDS) -> list[Identifier]:
    """The identifiers in `text`, in order; where two overlap, the kind earlier in KINDS wins
    (an ID number that also passes Luhn is an ID number)."""
    wanted = set(kinds)
    unknown = wanted - set(KINDS)
    if unknown:
        raise ValueError(f"unknown identifier kinds: {', '.join(sorted(unknown))}")
    taken: list[Identifier] = []
    for kind in KINDS:
        if kind not in wanted or not _CORES[kind].search(text):
            continue
        pattern, valid, _ = _RULES[kind]
        for m in pattern.finditer(text):
            if not valid(m.group()):
                continue
            if any(m.start() < t.end and t.start < m.end() for t in taken):
                continue
            taken.append(Identifier(kind, m.start(), m.end(), m.group()))
    return sorted(taken, key=lambda t: t.start)


def mask(text: str, kinds: Iterable[str] = KINDS) -> str:
    """`text` with every identifier of the given kinds masked; unchanged when there is none."""
    found = find(text, kinds)
    if not found:
        return text
    parts: list[str] = []
    at = 0
    for item in found:
        parts.append(text[at : item.start])
        parts.append(_RULES[item.kind][2](item.text))
        at = item.end
    parts.append(text[at:])
    return "".join(parts)
