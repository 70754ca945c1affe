"""Keyword relevance: include words, exclude words and "A near B" co-occurrence."""

from __future__ import annotations

from nlp.text import normalise
from nlp.types import KeywordRules


def _near(text: str, a: str, b: str, max_chars: int) -> bool:
    # Most rules' first word is absent from most texts: then the second is not looked for.
    starts_a = _positions(text, a)
    if not starts_a:
        return False
    starts_b = _positions(text, b)
    return any(abs(pa - pb) <= max_chars for pa in starts_a for pb in starts_b)


def _positions(text: str, word: str) -> list[int]:
    found, i = [], text.find(word)
    while i != -1:
        found.append(i)
        i = text.find(word, i + 1)
    return found


def match_keywords(text: str, rules: KeywordRules) -> list[str]:
    """The include words and near rules that fire on `text` (exclusions not applied), matched
    on its normalised form (full-width, traditional characters), as stored text is not."""
    return _matches(normalise(text), rules)


def matches_normalised(text: str, rules: KeywordRules) -> list[str]:
    """`match_keywords` for a text that is already normalised (the classifier's)."""
    return _matches(text, rules)


def _matches(text: str, rules: KeywordRules) -> list[str]:
    hits = [w for w in rules.include if w in text]
    hits += [f"{a}~{b}" for a, b, n in rules.near if _near(text, a, b, n)]
    return hits


def is_relevant(text: str, rules: KeywordRules) -> bool:
    text = normalise(text)
    if any(w in text for w in rules.exclude):
        return False
    return bool(_matches(text, rules))
