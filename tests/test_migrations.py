"""Alembic owns the schema: migrations build exactly what the models declare."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import inspect, select, text

from responder.db import Database
from responder.models import MENTION_TIME, Base, Mention
from tests.schema import EXPRESSION_INDEXES, expression_indexes, schema_diff


def test_migrations_create_every_table_the_models_declare(settings):
    db = Database(settings)
    try:
        tables = set(inspect(db.engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        assert "alembic_version" in tables
        assert schema_diff(db.engine) == []
        assert expression_indexes(db.engine) == EXPRESSION_INDEXES
    finally:
        db.dispose()


def test_lists_narrow_and_order_by_the_mention_time_index(settings):
    """The dashboard and the mentions list filter and sort on when a mention counts; without
    the index the planner scans every stored mention."""
    db = Database(settings)
    try:
        newest = (
            select(Mention.id)
            .where(MENTION_TIME >= datetime(2026, 11, 1, tzinfo=UTC))
            .order_by(MENTION_TIME.desc())
            .limit(50)
        )
        with db.engine.connect() as conn:
            sql = str(newest.compile(conn, compile_kwargs={"literal_binds": True}))
            plan = " ".join(str(row) for row in conn.execute(text("EXPLAIN QUERY PLAN " + sql)))
        assert "USING INDEX ix_mentions_time" in plan, plan
    finally:
        db.dispose()


def test_upgrading_twice_is_harmless_and_keeps_data(settings):
    from responder.mentions import MentionRecord, store

    db = Database(settings)
    with db.transaction() as session:
        store(session, MentionRecord(url="http://a.example/1", text="统计局发布公报"))
    db.dispose()

    again = Database(settings)
    try:
        with again.sessions() as session:
            from responder.models import Mention

            assert session.query(Mention).count() == 1
    finally:
        again.dispose()


def test_sqlite_runs_in_wal_mode(db):
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_the_seen_page_trail_migration_keeps_pages_seen_before_it(settings):
    """0009 adds the URL and title of a set-aside page; rows from before keep their reason and
    still make crawls skip their page."""
    from responder.db import build_engine, upgrade

    engine = build_engine(settings)
    try:
        upgrade(engine, "0008")
        now = datetime.now(UTC).replace(tzinfo=None)
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO sources (name, kind, url, created_at) VALUES (:n, :k, :u, :t)"),
                {"n": "s", "k": "site", "u": "http://a.example/", "t": now},
            )
            conn.execute(
                text(
                    "INSERT INTO seen_pages (canonical_url, source_id, outcome, seen_at)"
                    " VALUES ('http://a.example/1', 1, 'irrelevant', :t)"
                ),
                {"t": now},
            )
        upgrade(engine)
        with engine.connect() as conn:
            row = conn.execute(text("SELECT outcome, url, title FROM seen_pages")).one()
        assert tuple(row) == ("irrelevant", None, None)
        assert schema_diff(engine) == []
    finally:
        engine.dispose()
