"""Backups of the database and their restore, for both backends: SQLite through its online
backup API (a consistent snapshot while the application writes), PostgreSQL through
pg_dump's custom format and pg_restore.

Restoring SQLite copies the backup into the live database file through the same backup API,
in one write transaction, instead of swapping files: in WAL mode a replaced main file next to
an old -wal file is a corrupt database. Stop the scheduler and the web app before restoring
anyway, so that nothing keeps writing on top of the restored data.
"""

from __future__ import annotations

import glob
import logging
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, func, inspect, select, table
from sqlalchemy.engine import URL, make_url

from responder.errors import DomainError
from responder.models import Base
from responder.settings import Settings

log = logging.getLogger(__name__)

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


class BackupError(DomainError):
    """A backup or restore that cannot be done; the message says why."""


@dataclass
class BackupResult:
    backend: str  # sqlite | postgresql
    path: Path
    size: int
    tables: int


def backend_of(settings: Settings) -> str:
    name = make_url(settings.database_url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"不支持备份此类数据库：{name}（仅支持 SQLite 与 PostgreSQL）")
    return name


def backup(settings: Settings, output: Path) -> BackupResult:
    """Write a backup of the configured database to `output` (replaced if it exists)."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    backend = backend_of(settings)
    # Written next to the target and renamed at the end: a failed backup never leaves a
    # half-written file under the name.
    fd, temp_name = tempfile.mkstemp(prefix=".backup-", dir=output.parent)
    os.close(fd)
    temp = Path(temp_name)
    try:
        if backend == "sqlite":
            tables = _sqlite_backup(_sqlite_path(settings), temp)
        else:
            tables = _pg_dump(make_url(settings.database_url), temp)
        os.replace(temp, output)
    finally:
        temp.unlink(missing_ok=True)
    result = BackupResult(backend, output, output.stat().st_size, tables)
    log.info("backup of %s written to %s (%d bytes)", backend, output, result.size)
    return result


def restore(settings: Settings, source: Path, force: bool = False) -> BackupResult:
    """Load a backup into the configured database; refuses a database holding data unless
    `force`."""
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"备份文件不存在：{source}")
    backend = backend_of(settings)
    with source.open("rb") as handle:
        head = handle.read(16)
    expected = SQLITE_MAGIC if backend == "sqlite" else PGDUMP_MAGIC
    if not head.startswith(expected):
        kind = "SQLite" if backend == "sqlite" else "pg_dump -Fc"
        raise BackupError(f"{source} 不是当前数据库（{backend}）的备份：应为 {kind} 格式")
    if not force and (held := rows_held(settings)):
        raise BackupError(
            f"目标数据库已有数据（{held} 行）；确认要覆盖请加 --force（建议先备份当前数据库）"
        )
    if backend == "sqlite":
        tables = _sqlite_restore(source, _sqlite_path(settings))
    else:
        tables = _pg_restore(make_url(settings.database_url), source)
    log.info("restored %s from %s", backend, source)
    return BackupResult(backend, source, source.stat().st_size, tables)


def rows_held(settings: Settings) -> int:
    """How many rows the configured database holds outside Alembic's bookkeeping."""
    if backend_of(settings) == "sqlite" and not _sqlite_path(settings).exists():
        return 0
    engine = create_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            # The application's tables: the search index's are derived from mentions (and
            # SQLite's FTS5 table cannot be counted).
            names = [n for n in inspect(conn).get_table_names() if n in Base.metadata.tables]
            return sum(
                conn.execute(select(func.count()).select_from(table(n))).scalar() or 0
                for n in names
            )
    finally:
        engine.dispose()


def _sqlite_path(settings: Settings) -> Path:
    database = make_url(settings.database_url).database
    if not database or database == ":memory:":
        raise BackupError("内存中的 SQLite 数据库无法备份或恢复")
    return Path(database)


def _user_tables(conn: sqlite3.Connection) -> int:
    row = conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchone()
    return int(row[0])


def _sqlite_backup(database: Path, target: Path) -> int:
    if not database.exists():
        raise BackupError(f"数据库文件不存在：{database}")
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    copy = sqlite3.connect(target)
    try:
        # One step (pages=-1): a single read transaction, so the copy is one consistent
        # snapshot; in WAL mode writers go on meanwhile.
        source.backup(copy, pages=-1)
        # A self-contained file: no -wal beside the backup.
        copy.execute("PRAGMA journal_mode=DELETE")
        return _user_tables(copy)
    finally:
        copy.close()
        source.close()


def _sqlite_restore(source: Path, database: Path) -> int:
    backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        status = backup_db.execute("PRAGMA integrity_check").fetchone()
        if status is None or status[0] != "ok":
            raise BackupError(f"备份文件已损坏：{source}（{status}）")
        database.parent.mkdir(parents=True, exist_ok=True)
        live = sqlite3.connect(database, timeout=30)
        try:
            live.execute("PRAGMA journal_mode=WAL")
            # The whole copy is one write transaction on the live file: other connections see
            # the old database or the restored one, never a mix.
            backup_db.backup(live, pages=-1)
            return _user_tables(live)
        finally:
            live.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"无法读取备份文件 {source}：{exc}") from exc
    finally:
        backup_db.close()


def pg_tool(name: str) -> str:
    """pg_dump or pg_restore: on PATH (Debian's wrapper picks the right version), else the
    newest under /usr/lib/postgresql."""
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if found is None:
        raise BackupError(
            f"找不到 {name}：请安装 PostgreSQL 客户端（Debian 软件包 postgresql-client）"
        )
    return found


def _pg_connection(url: URL) -> tuple[list[str], dict[str, str]]:
    """libpq options and environment for the URL; the password goes only into PGPASSWORD,
    never onto the command line, where other users of the host can read it."""
    args = ["--no-password"]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    if not url.database:
        raise BackupError("database.url 未指定 PostgreSQL 数据库名")
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    for key, value in url.query.items():
        if key == "sslmode" and isinstance(value, str):
            env["PGSSLMODE"] = value
    return args, env


def _run(argv: list[str], env: dict[str, str], what: str) -> str:
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{what} 失败：{done.stderr.strip()}")
    return done.stdout


def _pg_dump(url: URL, target: Path) -> int:
    args, env = _pg_connection(url)
    _run(
        [pg_tool("pg_dump"), *args, "--format=custom", "--file", str(target), str(url.database)],
        env,
        "pg_dump",
    )
    return _pg_tables_in(target, env)


def _pg_tables_in(archive: Path, env: dict[str, str]) -> int:
    listing = _run([pg_tool("pg_restore"), "--list", str(archive)], env, "pg_restore --list")
    return sum(1 for line in listing.splitlines() if " TABLE DATA " in line)


def _pg_restore(url: URL, source: Path) -> int:
    args, env = _pg_connection(url)
    tables = _pg_tables_in(source, env)
    _run(
        [
            pg_tool("pg_restore"),
            *args,
            "--clean",
            "--if-exists",
            # Restorable into a database owned by another role than the one that was dumped.
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--dbname",
            str(url.database),
            str(source),
        ],
        env,
        "pg_restore",
    )
    return tables
