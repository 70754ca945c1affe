"""The mention search index (responder/intake/search.py) answers exactly what a substring match
would, on SQLite and PostgreSQL, for mentions stored in bulk, one by one, changed by masking,
and stored before the index existed; and the mentions list uses it."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from responder.db import Database, build_engine, upgrade
from responder.intake import search
from responder.intake.mentions import MentionRecord, store, store_many
from responder.intake.privacy import mask_stored
from responder.models import Mention
from responder.settings import Settings

# Few distinct characters, so that terms drawn from them often occur; cases that fold, one
# whose lower case is two characters (İ), LIKE's wildcards, punctuation in both widths and
# white space.
ALPHABET = "统计局普查数据人口诈骗aAbBİıß5%_，。：:？? \n"
words = st.text(alphabet=ALPHABET, min_size=0, max_size=40)
terms = st.text(alphabet=ALPHABET.replace(" ", "").replace("\n", ""), min_size=2, max_size=6)
counter = itertools.count()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend_settings(request: pytest.FixtureRequest) -> Settings:
    name = "settings" if request.param == "sqlite" else "pg_settings"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


@pytest.fixture
def store_db(backend_settings: Settings) -> Iterator[Database]:
    db = Database(backend_settings)
    yield db
    db.dispose()


def fold(words: str) -> str:
    """Width and case folded one character at a time (what the search promises), written out
    here so the test does not trust the code it checks."""
    wide = {"：": ":", "？": "?", "，": ",", "％": "%"}
    narrow = "".join(wide.get(c, c) for c in words)
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in narrow)


def found(db: Database, *terms: str) -> set[int]:
    with db.sessions() as session:
        dialect = session.get_bind().dialect.name
        where = search.containing(list(terms), dialect)
        return set(session.scalars(select(Mention.id).where(*where)))


def expected(db: Database, *terms: str) -> set[int]:
    with db.sessions() as session:
        rows = session.execute(select(Mention.id, Mention.title, Mention.text)).all()
    return {
        i
        for i, title, body in rows
        if all(fold(term) in fold(title) or fold(term) in fold(body) for term in terms)
    }


def record(title: str, body: str) -> MentionRecord:
    return MentionRecord(url=f"http://search.example/{next(counter)}", title=title, text=body)


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    title=words,
    body=words,
    term=terms,
    one_by_one=st.booleans(),
    pick=st.integers(0, 40),
    more=st.lists(st.text(alphabet=ALPHABET.strip(), min_size=1, max_size=4), max_size=2),
)
@example(title="数据 人口", body="", term="据人", one_by_one=False, pick=0, more=[])  # a space
@example(title="人口", body="普查", term="口普", one_by_one=True, pick=0, more=[])  # title|text
@example(title="GDP增速", body="", term="gdp增", one_by_one=False, pick=0, more=[])
@example(title="İstanbul", body="", term="İs", one_by_one=False, pick=0, more=[])
@example(title="100%_完成", body="", term="%_", one_by_one=False, pick=0, more=[])
@example(title="普查数据", body="人口", term="普查", one_by_one=False, pick=0, more=["人口", "据"])
def test_the_index_finds_exactly_what_contains_every_term(
    store_db: Database,
    title: str,
    body: str,
    term: str,
    one_by_one: bool,
    pick: int,
    more: list[str],
) -> None:
    with store_db.transaction() as session:
        # Distinct content each time: store skips a text it already holds.
        unique = f"{body}〔{next(counter)}〕"
        if one_by_one:
            store(session, record(title, unique))
        else:
            store_many(session, [record(title, unique)])
    # Half the time the term is cut from the text just stored, so that it occurs.
    if pick % 2 and len(title) >= 2:
        start = pick % (len(title) - 1)
        cut = title[start : start + 2 + pick % 3]
        if len(cut) >= 2 and not any(c.isspace() for c in cut):
            term = cut
    assert found(store_db, term) == expected(store_db, term)
    # With more words, every one must occur; words of one character are read by LIKE.
    words = [term, *(w for w in more if w.strip() == w)]
    assert found(store_db, *words) == expected(store_db, *words)


def test_a_batch_stored_at_once_is_indexed_under_each_mention_s_own_id(
    store_db: Database,
) -> None:
    titles = ["人口普查", "工业产值", "粮食产量", "就业人数", "居民收入"]
    with store_db.transaction() as session:
        store_many(session, [record(title, f"关于{title}的说明") for title in titles])
    for title in titles:
        hits = found(store_db, title)
        assert len(hits) == 1 and hits == expected(store_db, title)


def test_half_and_full_width_punctuation_find_each_other(store_db: Database) -> None:
    """Pages keep "：" and "？" as published; people type ":" and "?" (and the other way)."""
    with store_db.transaction() as session:
        store_many(
            session,
            [record("临江县统计局：系冒充诈骗", "普查员上门？"), record("统计局:通报", "数据?")],
        )
    assert len(found(store_db, "统计局:")) == 2
    assert len(found(store_db, "统计局：系")) == 1
    assert len(found(store_db, "上门?")) == 1
    assert len(found(store_db, "？")) == 2  # one character: LIKE over both widths
    assert len(found(store_db, "：")) == 2


def test_a_one_character_term_is_matched_without_the_index(store_db: Database) -> None:
    with store_db.transaction() as session:
        store_many(session, [record("统计", "数据"), record("普查", "人口")])
    assert len(found(store_db, "统")) == 1
    assert len(found(store_db, "%")) == 0


def test_masking_moves_the_index_to_the_masked_words(
    store_db: Database, backend_settings: Settings
) -> None:
    with store_db.transaction() as session:
        store_many(session, [record("普查员电话", "联系普查员 13812345678 咨询")])
    assert len(found(store_db, "13812345678")) == 1
    with store_db.transaction() as session:
        assert mask_stored(session, backend_settings.privacy) == 1
    assert found(store_db, "13812345678") == set()
    assert found(store_db, "12345678") == set()
    assert len(found(store_db, "联系普查员")) == 1
    with store_db.sessions() as session:
        masked = session.scalars(select(Mention.text)).one()
    assert len(found(store_db, masked.split()[1])) == 1


@pytest.mark.postgres
def test_a_text_too_long_for_a_tsvector_is_still_found(pg_settings: Settings) -> None:
    db = Database(pg_settings)
    try:
        long_text = "统计" * (search.MAX_POSITION // 2) + "末尾的诈骗电话"
        with db.transaction() as session:
            store_many(session, [record("长文", long_text), record("短文", "诈骗")])
        with db.sessions() as session:
            overflow = session.scalars(text("SELECT overflow FROM mention_search")).all()
        assert sorted(overflow) == [False, True]
        assert len(found(db, "末尾的诈骗")) == 1
        assert len(found(db, "诈骗")) == 2
    finally:
        db.dispose()


def test_mentions_stored_before_the_index_are_found_after_the_upgrade(
    backend_settings: Settings,
) -> None:
    engine = build_engine(backend_settings)
    try:
        upgrade(engine, "0007")
        with engine.begin() as conn:
            for n, words in enumerate(["县统计局人口普查", "网传普查数据造假", "天气晴"]):
                conn.execute(
                    Mention.__table__.insert().values(
                        url=f"http://old.example/{n}",
                        canonical_url=f"http://old.example/{n}",
                        content_hash=f"{n:064x}",
                        title="",
                        text=words,
                        fetched_at=datetime(2026, 11, 1, tzinfo=UTC),
                        keywords_matched=[],
                        triaged=True,
                    )
                )
    finally:
        engine.dispose()
    db = Database(backend_settings)  # upgrades to the newest revision
    try:
        assert len(found(db, "普查")) == 2
        assert len(found(db, "晴")) == 1
        with db.transaction() as session:
            store_many(session, [record("", "普查员上门")])
        assert len(found(db, "普查")) == 3
    finally:
        db.dispose()


def test_a_search_reads_the_index_not_every_mention(settings: Settings) -> None:
    db = Database(settings)
    try:
        where = search.containing(["普查", "数据"], "sqlite")
        query: Any = select(func.count(Mention.id)).where(*where)
        with db.engine.connect() as conn:
            sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
            plan = " ".join(str(r) for r in conn.execute(text("EXPLAIN QUERY PLAN " + sql)))
        assert "VIRTUAL TABLE INDEX" in plan and "SCAN mentions" not in plan, plan
    finally:
        db.dispose()
