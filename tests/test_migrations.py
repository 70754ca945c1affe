"""Alembic owns the schema: migrations build exactly what the models declare."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import inspect, select, text

from responder.db import Database, build_engine, upgrade
from responder.models import MENTION_TIME, Base, Mention
from responder.settings import Settings
from tests.schema import EXPRESSION_INDEXES, expression_indexes, schema_diff
from tests.test_postgres import assert_kept, seed


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
    from responder.intake.mentions import MentionRecord, store

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


# A SIGKILL at any point of `yuqing migrate` (a systemd timeout, the OOM killer, a power cut)
# must leave a database the next `yuqing migrate` completes. The child process kills itself
# just before its Nth SQL statement, so the points are exact and the same on every run.

KILLED_AT = """
import os, signal, sys
from sqlalchemy import event
from sqlalchemy.engine import Engine

at, seen = int(sys.argv[1]), 0


@event.listens_for(Engine, "before_cursor_execute")
def _count(*args):
    global seen
    seen += 1
    if seen == at:
        os.kill(os.getpid(), signal.SIGKILL)


sys.argv = ["yuqing", "migrate"]
from responder.cli import main
try:
    main()
finally:
    print("statements", seen, file=sys.stderr)
"""


def migrate(at: int = 0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", KILLED_AT, str(at)], capture_output=True, text=True, timeout=300
    )


def wipe(settings: Settings) -> None:
    """Back to an empty database, on either backend."""
    if settings.database_url.startswith("sqlite"):
        for path in settings.data_dir.glob("yuqing.db*"):
            path.unlink()
        return
    engine = build_engine(settings)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


def prepare(settings: Settings, start: str | None) -> dict[str, list[dict[str, Any]]]:
    """A database at `start` holding rows in every table (or none at all for a fresh one)."""
    wipe(settings)
    if start is None:
        return {}
    engine = build_engine(settings)
    try:
        upgrade(engine, start)
        return seed(engine)
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend_settings(request: pytest.FixtureRequest) -> Settings:
    name = "settings" if request.param == "sqlite" else "pg_settings"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


@pytest.mark.parametrize("start", [None, "0001"], ids=["fresh", "upgrade-with-data"])
def test_migrate_killed_at_any_point_is_completed_by_the_next_migrate(backend_settings, start):
    prepare(backend_settings, start)
    counted = migrate()
    assert counted.returncode == 0, counted.stderr
    total = int(counted.stderr.rsplit("statements", 1)[1])
    points = sorted({2, total // 3, total * 2 // 3, total - 1})
    for at in points:
        rows = prepare(backend_settings, start)
        killed = migrate(at)
        assert killed.returncode == -signal.SIGKILL, (at, killed.stderr)
        again = migrate()
        assert again.returncode == 0, f"killed at statement {at} of {total}: {again.stderr}"
        engine = build_engine(backend_settings)
        try:
            assert schema_diff(engine) == [], at
            assert expression_indexes(engine) == EXPRESSION_INDEXES
            assert_kept(engine, rows)
        finally:
            engine.dispose()


def test_a_half_made_schema_says_what_to_do_at_start_up(settings):
    """A database a non-atomic release left half-migrated: the command names the way out."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = build_engine(settings)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE audit_log (id INTEGER PRIMARY KEY)")
    engine.dispose()
    done = migrate()
    assert done.returncode == 2
    assert "database error" in done.stderr and "yuqing restore" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_seen_page_trail_migration_keeps_pages_seen_before_it(settings):
    """0011 adds the URL and title of a set-aside page; rows from before keep their reason and
    still make crawls skip their page."""
    from responder.db import build_engine, upgrade

    engine = build_engine(settings)
    try:
        upgrade(engine, "0010")
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
