"""The database engine and sessions, built from the settings; schema changes go through Alembic."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from responder.errors import MigrationError
from responder.settings import Settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

log = logging.getLogger(__name__)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web UI read while a crawl writes; NORMAL is durable across process crashes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def build_engine(settings: Settings) -> Engine:
    url = settings.database_url
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for a database Alembic never stamped."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` in one transaction: a crash at any point keeps the old
    revision whole, and the next upgrade starts it again."""
    before = current_revision(engine)
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    if before is not None and before != head and revision == "head":
        # An upgrade of stored data is worth a line; creating a new database is not news.
        log.info("database schema at revision %s: upgrading to %s", before, head)
    try:
        if engine.dialect.name == "sqlite":
            _upgrade_sqlite(engine, revision)
        else:
            # PostgreSQL's DDL is transactional: one transaction holds the whole upgrade.
            with engine.begin() as connection:
                cfg = alembic_config(engine)
                cfg.attributes["connection"] = connection
                command.upgrade(cfg, revision)
    except DBAPIError as exc:
        raise MigrationError(_advice(engine, before, exc)) from exc


def _advice(engine: Engine, before: str | None, exc: DBAPIError) -> str:
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    try:
        kept = current_revision(engine)
    except DBAPIError:
        kept = before
    at = f"revision {kept}" if kept else "no revision (empty schema)"
    return (
        f"the schema migration did not complete ({reason}); the database is still at {at}, "
        "as migrations are atomic. Run `yuqing migrate` again. If it fails the same way, "
        "the database was left half-migrated by a yuqing release whose migrations were not "
        "atomic: restore the last backup with `yuqing restore FILE` (or, for a database "
        "without data, remove it) and run `yuqing migrate`."
    )


def _upgrade_sqlite(engine: Engine, revision: str) -> None:
    cfg = alembic_config(engine)
    # SQLite alters a table by rebuilding it (copy, drop, rename). With foreign keys enforced,
    # dropping a table whose rows others reference fails, so upgrading a database holding data
    # broke. SQLite's documented procedure: keys off (outside a transaction), change, verify
    # with foreign_key_check, keys back on.
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
        # pysqlite begins a transaction only before INSERT/UPDATE/DELETE, so CREATE TABLE and
        # friends ran in autocommit and a killed migration left half a schema behind. The
        # SQLAlchemy recipe: the driver stops managing transactions and we say BEGIN ourselves
        # (IMMEDIATE: a second process starting at the same time waits, then finds the work
        # done). COMMIT and ROLLBACK still go through the driver, which issues them whenever
        # SQLite is inside a transaction.
        raw.isolation_level = None
        try:
            with connection.begin():
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                cfg.attributes["connection"] = connection
                command.upgrade(cfg, revision)
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise MigrationError(f"migration left dangling foreign keys: {broken[:5]}")
            raw.isolation_level = ""
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
        except BaseException:
            # Never hand a connection with foreign keys off back to the pool.
            connection.invalidate()
            raise


def begin_writes(session: Session) -> None:
    """Make sure the session's SQLite transaction has begun before a SAVEPOINT.

    pysqlite begins a transaction only before INSERT/UPDATE/DELETE. A SAVEPOINT that comes
    first is then a transaction of its own, and releasing it commits: the work after it would
    no longer be atomic with it. Other backends begin on the first statement anyway.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    raw = connection.connection.driver_connection
    if raw is not None and not raw.in_transaction:
        connection.exec_driver_sql("BEGIN")


class Database:
    """The engine plus a session factory; `transaction()` commits or rolls back as one unit."""

    def __init__(self, settings: Settings, migrate: bool = True) -> None:
        self.engine = build_engine(settings)
        if migrate:
            upgrade(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self.sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
