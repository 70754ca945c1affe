"""The mention search index: every pair of neighbouring characters of a mention's title and
text, so that a search for a word finds the mentions containing it without reading them all.

Written here because no tokenizer at hand indexes Chinese for substring search. SQLite FTS5's
unicode61 tokenizer keeps a run of Chinese characters as one token, and its trigram tokenizer,
like PostgreSQL's pg_trgm, cannot look up a two-character word (普查, 诈骗), the most common
kind of search. jieba's segmentation would miss a word that straddles two of its words. Pairs
of characters are what CJK search engines index (Lucene's CJK bigrams).

A search term of two or more characters is the phrase of its pairs: pair i and pair i+1 of the
term are neighbours in the text exactly where the term occurs, so the index answers exactly
what a substring match (LIKE) would, with case and width folded per character: "：" and ":",
"？" and "?" are one character to the search, so a term typed with either finds both (pages keep
their full-width punctuation as published; people type half-width). A one-character term has no
pair and falls back to LIKE over its ASCII and full-width forms. Each pair is written as a
token of ASCII letters and hex digits (`4eba` `g` `53e3`), so neither backend's tokenizer or
locale can split or drop it.

Storage: SQLite, a contentless FTS5 table (the index only; the words stay in `mentions`), with
the mention id as rowid. PostgreSQL, a table of tsvectors with a GIN index. A tsvector keeps
positions only up to 16383, so a text with more pairs than that is marked `overflow` and
searched with ILIKE instead. The index is written in the same transaction as the mention
(`index_rows` for bulk inserts, mapper events for the ORM), so it never lags the table.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    cast,
    column,
    event,
    inspect,
    literal,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Mapper

from responder.models import Mention

log = logging.getLogger(__name__)

TABLE = "mention_search"
# PostgreSQL's tsvector position limit (MAXENTRYPOS - 1); positions beyond it are clamped,
# which would break phrase matching, so such texts are searched without the index.
MAX_POSITION = 16383
BACKFILL_BATCH = 5000
# The index's table as queries see it; outside the models, as the migration creates it per
# backend and Alembic's comparison cannot describe an FTS5 table.
_SQLITE = table(TABLE)
_PG = table(TABLE, column("mention_id"), column("terms"), column("overflow"))


class _Hex(dict[str, str]):
    """A character's token part: the hex code of its lower case, remembered (a dict lookup is a
    third of the cost of working it out, and indexing runs for every mention stored)."""

    LIMIT = 65_536  # hostile text could hold every code point; remember the common ones

    def __missing__(self, char: str) -> str:
        folded = width_folded(char)
        lower = folded.lower()
        # A character whose lower case is longer (İ) keeps its case: pairs must stay aligned
        # with the characters of the text.
        code = format(ord(lower if len(lower) == 1 else folded), "x")
        if len(self) < self.LIMIT:
            # Under the character as written: remembered under its folded form, full-width
            # punctuation (every "，") was worked out anew each time.
            self[char] = code
        return code


_HEX = _Hex()
# The Halfwidth and Fullwidth Forms block mirrors printable ASCII at this distance.
_FULL_WIDTH = 0xFEE0


def width_folded(char: str) -> str:
    """One character in its compatibility form (NFKC: "：" → ":", "Ａ" → "A"), unless that form
    is longer than one character, which would put the pairs out of step with the text."""
    folded = unicodedata.normalize("NFKC", char)
    return folded if len(folded) == 1 else char


def pairs(words: str) -> list[str]:
    """The tokens of `words`: one per pair of neighbouring characters, case folded."""
    codes = [_HEX[c] for c in words]
    return [f"{a}g{b}" for a, b in zip(codes, codes[1:], strict=False)]


class _Twice(dict[str, str]):
    """A character's token part twice, space between ("7edf 7edf"), remembered like `_HEX`."""

    def __missing__(self, char: str) -> str:
        code = _HEX[char]
        twice = f"{code} {code}"
        if len(self) < _Hex.LIMIT:
            self[char] = twice
        return twice


_TWICE = _Twice()


def pair_text(words: str) -> str:
    """`pairs(words)` joined by spaces, as SQLite's index takes them, without making a string
    per pair (that was a third of the cost of storing a crawled mention): pair i is code i,
    "g", code i+1, so the whole is the codes joined by "g", each inner code written twice."""
    if len(words) < 2:
        return ""
    inner = map(_TWICE.__getitem__, words[1:-1])
    return "g".join([_HEX[words[0]], *inner, _HEX[words[-1]]])


# --- writing ---------------------------------------------------------------------------------


def create(connection: Connection) -> None:
    """Create the index's table on `connection`'s backend (used by the migration)."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(
            f"CREATE VIRTUAL TABLE {TABLE} USING fts5(title, text, content='', columnsize=0)"
        )
    else:
        connection.exec_driver_sql(
            f"CREATE TABLE {TABLE} ("
            " mention_id INTEGER PRIMARY KEY REFERENCES mentions (id) ON DELETE CASCADE,"
            " terms TSVECTOR NOT NULL,"
            " overflow BOOLEAN NOT NULL DEFAULT false)"
        )
        connection.exec_driver_sql(f"CREATE INDEX ix_{TABLE}_terms ON {TABLE} USING gin (terms)")
        connection.exec_driver_sql(
            f"CREATE INDEX ix_{TABLE}_overflow ON {TABLE} (mention_id) WHERE overflow"
        )


def drop(connection: Connection) -> None:
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {TABLE}")


def _tsvector(title: str, body: str) -> tuple[str, bool]:
    """A tsvector literal of the title's pairs then the text's, one position apart so that
    no phrase spans the two; and whether it overflowed the position limit."""
    first, second = pairs(title), pairs(body)
    if len(first) + len(second) + 1 > MAX_POSITION:
        return "", True
    positions: dict[str, list[int]] = {}
    for n, token in enumerate(first, start=1):
        positions.setdefault(token, []).append(n)
    for n, token in enumerate(second, start=len(first) + 2):
        positions.setdefault(token, []).append(n)
    literal = " ".join(f"{t}:{','.join(map(str, p))}" for t, p in positions.items())
    return literal, False


def index_rows(connection: Connection, rows: Iterable[tuple[int, str, str]]) -> None:
    """Add (mention id, title, text) rows to the index."""
    if connection.dialect.name == "sqlite":
        values = [(i, pair_text(t), pair_text(b)) for i, t, b in rows]
        if values:
            connection.exec_driver_sql(
                f"INSERT INTO {TABLE} (rowid, title, text) VALUES (?, ?, ?)", values
            )
        return
    pg_values = []
    for i, t, b in rows:
        terms, overflow = _tsvector(t, b)
        pg_values.append({"id": i, "terms": terms, "overflow": overflow})
    if pg_values:
        connection.execute(
            text(
                f"INSERT INTO {TABLE} (mention_id, terms, overflow)"
                " VALUES (:id, CAST(:terms AS tsvector), :overflow)"
            ),
            pg_values,
        )


def reindex(
    connection: Connection, mention_id: int, old: tuple[str, str], new: tuple[str, str]
) -> None:
    """The mention's title and text changed from `old` to `new` (masking, say)."""
    if connection.dialect.name == "sqlite":
        # A contentless FTS5 table forgets a row given the very tokens it was indexed with.
        connection.exec_driver_sql(
            f"INSERT INTO {TABLE} ({TABLE}, rowid, title, text) VALUES ('delete', ?, ?, ?)",
            (mention_id, pair_text(old[0]), pair_text(old[1])),
        )
    else:
        connection.execute(text(f"DELETE FROM {TABLE} WHERE mention_id = :id"), {"id": mention_id})
    index_rows(connection, [(mention_id, *new)])


def backfill(connection: Connection) -> int:
    """Index every stored mention (the migration that creates the index); returns how many."""
    done = 0
    last = 0
    total = connection.exec_driver_sql("SELECT count(*) FROM mentions").scalar() or 0
    while True:
        rows: Sequence[Any] = connection.execute(
            text("SELECT id, title, text FROM mentions WHERE id > :last ORDER BY id LIMIT :n"),
            {"last": last, "n": BACKFILL_BATCH},
        ).all()
        if not rows:
            break
        index_rows(connection, [(r[0], r[1] or "", r[2] or "") for r in rows])
        last = rows[-1][0]
        done += len(rows)
        if done % 100_000 < BACKFILL_BATCH:
            log.info("search index: %d of %d mentions indexed", done, total)
    return done


@event.listens_for(Mention, "after_insert")
def _indexed_on_insert(mapper: Mapper[Any], connection: Connection, mention: Mention) -> None:
    index_rows(connection, [(mention.id, mention.title or "", mention.text or "")])


@event.listens_for(Mention, "after_update")
def _indexed_on_update(mapper: Mapper[Any], connection: Connection, mention: Mention) -> None:
    state = inspect(mention)
    title, body = state.attrs.title.history, state.attrs.text.history
    if not (title.deleted or body.deleted):
        return
    old = (
        title.deleted[0] if title.deleted else mention.title,
        body.deleted[0] if body.deleted else mention.text,
    )
    reindex(connection, mention.id, (old[0] or "", old[1] or ""), (mention.title, mention.text))


# --- searching -------------------------------------------------------------------------------


def _like(term: str) -> ColumnElement[bool]:
    return or_(
        Mention.title.icontains(term, autoescape=True),
        Mention.text.icontains(term, autoescape=True),
    )


def _like_any_width(char: str) -> ColumnElement[bool]:
    """A one-character term in any of its widths (the index folds them; LIKE cannot)."""
    folded = width_folded(char)
    forms = {char, folded}
    if 0x21 <= ord(folded) <= 0x7E:
        forms.add(chr(ord(folded) + _FULL_WIDTH))
    return or_(*(_like(form) for form in sorted(forms)))


def containing(terms: list[str], dialect: str) -> list[ColumnElement[bool]]:
    """Conditions for mentions whose title or text contains every one of `terms` (case
    folded): the terms of two or more characters through one lookup of the index, those of
    one character by LIKE."""
    indexed = [term for term in terms if len(term) > 1]
    where = [_like_any_width(term) for term in terms if len(term) == 1]
    if not indexed:
        return where
    phrases = [pairs(term) for term in indexed]
    if dialect == "sqlite":
        query = " AND ".join('"' + " ".join(phrase) + '"' for phrase in phrases)
        match = literal_column(TABLE).op("MATCH")(literal(query))
        rowids: Select[Any] = select(literal_column("rowid")).select_from(_SQLITE).where(match)
        return [*where, Mention.id.in_(rowids)]
    # All terms in one tsquery: the GIN index answers their AND at once, where one lookup per
    # term had the planner read every tsvector for the commoner one (6 s at a million).
    tsquery = cast(literal(" & ".join(f"({' <-> '.join(p)})" for p in phrases)), TSQUERY)
    # One IN, so that the planner can make it a semi-join: walk the time index and stop at a
    # page's fifty for a common word, or start from the GIN index for a rare one. An IN on
    # either side of an OR is not one; it made a search of a common word take minutes.
    candidates = select(_PG.c.mention_id).where(or_(_PG.c.terms.op("@@")(tsquery), _PG.c.overflow))
    overflowed = select(_PG.c.mention_id).where(_PG.c.overflow)
    words = and_(*(_like(term) for term in indexed))
    return [*where, Mention.id.in_(candidates), or_(Mention.id.not_in(overflowed), words)]
