"""Alembic owns the schema: migrations build exactly what the models declare."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from responder.db import Database
from responder.models import Base


def test_migrations_create_every_table_the_models_declare(settings):
    db = Database(settings)
    try:
        tables = set(inspect(db.engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        assert "alembic_version" in tables
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
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
