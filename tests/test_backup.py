"""`yuqing backup` and `yuqing restore` on SQLite and PostgreSQL: a restored database holds
exactly what was backed up, a backup taken while the application writes is consistent, and
restore refuses what would lose data or is not a backup of this backend."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, func, select
from typer.testing import CliRunner

from responder.accounts import add_user
from responder.cli import app
from responder.db import Database
from responder.intake import search
from responder.intake.mentions import MentionRecord, store_many
from responder.models import Judgement, Mention
from responder.ops.backup import BackupError, backup, restore
from responder.settings import Settings, load_settings
from tests.schema import reflected


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def source(backend: str, request: pytest.FixtureRequest) -> Settings:
    return request.getfixturevalue("settings" if backend == "sqlite" else "pg_settings")  # type: ignore[no-any-return]


@pytest.fixture
def empty_target(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Settings]:
    """Settings of a second, empty database of the same backend."""
    if backend == "sqlite":
        yield load_settings(overrides={"data_dir": str(tmp_path / "restored")})
        return
    server = request.getfixturevalue("postgres_server")
    url = server.create_database()
    yield load_settings(overrides={"database": {"url": url}})
    server.drop_database(url)


def fill(db: Database, start: int, count: int) -> None:
    records = [
        MentionRecord(
            url=f"http://news.example/{n}",
            title=f"临江县统计数据第{n}号",
            text=f"网传临江县统计局第{n}份普查登记表信息泄露，居民表示担心。" * 3,
            outlet="人民网" if n % 7 == 0 else "",
            reposts=n,
        )
        for n in range(start, start + count)
    ]
    with db.transaction() as session:
        store_many(session, records)
        for mention in session.scalars(select(Mention).where(~Mention.judgements.any())):
            session.add(
                Judgement(
                    mention=mention,
                    sentiment="negative",
                    sentiment_score=0.75,
                    category="privacy_leak",
                    category_score=0.5,
                    misinfo_reasons=[{"kind": "rumour_cue", "detail": "网传"}],
                    terms={"category": ["信息泄露"]},
                )
            )


def contents(url: str) -> dict[str, tuple[int, str]]:
    """Every table's row count and a checksum of all its rows, in primary-key order."""
    engine = create_engine(url)
    try:
        meta = reflected(engine)
        found = {}
        with engine.connect() as conn:
            for table in meta.sorted_tables:
                if table.name == search.TABLE and engine.dialect.name == "sqlite":
                    continue  # FTS5 cannot list a contentless table; its shadow tables count
                rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
                digest = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
                found[table.name] = (len(rows), digest)
        return found
    finally:
        engine.dispose()


def test_a_restored_database_holds_exactly_what_was_backed_up(source, empty_target, tmp_path):
    db = Database(source)
    fill(db, 0, 40)
    with db.transaction() as session:
        add_user(session, "王敏", "duty", "wangmin@example.org", "口令-Secret-123", actor="test")
    db.dispose()
    before = contents(source.database_url)
    assert before["mentions"][0] == 40 and before["users"][0] == 1

    made = backup(source, tmp_path / "yuqing.backup")
    restored = restore(empty_target, made.path)

    assert made.tables == restored.tables >= len(before) - 1
    assert contents(empty_target.database_url) == before
    # The restored database is usable by the application as it is.
    again = Database(empty_target)
    fill(again, 40, 1)
    again.dispose()


def test_a_backup_taken_while_the_application_writes_is_consistent(source, empty_target, tmp_path):
    db = Database(source)
    fill(db, 0, 1500)
    stop = threading.Event()
    written = [0]

    def writer() -> None:
        # Each transaction adds a mention and its judgement together: a consistent copy has
        # as many judgements as mentions.
        # (Plain ORM inserts: store_many's SAVEPOINT is the first write of its transaction,
        # which pysqlite commits on release, so it cannot carry this invariant on SQLite.)
        n = 100_000
        while not stop.is_set():
            with db.transaction() as session:
                mention = Mention(
                    url=f"http://live.example/{n}",
                    canonical_url=f"http://live.example/{n}",
                    content_hash=f"{n:064d}",
                    text="写入中的新提及",
                )
                session.add(mention)
                session.add(
                    Judgement(
                        mention=mention,
                        sentiment="neutral",
                        sentiment_score=0.5,
                        category="other",
                        category_score=0.5,
                    )
                )
            n += 1
            written[0] += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while written[0] < 3:
            stop.wait(0.01)
        made = backup(source, tmp_path / "live.backup")
    finally:
        stop.set()
        thread.join(30)
        db.dispose()
    assert written[0] >= 3

    restore(empty_target, made.path)
    engine: Engine = create_engine(empty_target.database_url)
    try:
        with engine.connect() as conn:
            mentions = conn.execute(select(func.count(Mention.id))).scalar()
            judgements = conn.execute(select(func.count(Judgement.id))).scalar()
    finally:
        engine.dispose()
    assert mentions == judgements and mentions is not None and mentions >= 1500


def test_restore_refuses_a_database_holding_data_unless_forced(source, tmp_path):
    db = Database(source)
    fill(db, 0, 5)
    made = backup(source, tmp_path / "yuqing.backup")
    fill(db, 5, 5)
    db.dispose()

    with pytest.raises(BackupError, match="--force"):
        restore(source, made.path)
    restore(source, made.path, force=True)

    assert contents(source.database_url)["mentions"][0] == 5


def test_restore_names_a_missing_file_or_one_of_another_backend(source, tmp_path):
    with pytest.raises(BackupError, match="不存在"):
        restore(source, tmp_path / "nowhere.backup")
    other = tmp_path / "other.backup"
    other.write_bytes(
        b"PGDMP" if source.database_url.startswith("sqlite") else b"SQLite format 3\0"
    )
    with pytest.raises(BackupError, match="不是当前数据库"):
        restore(source, other)


def test_the_cli_backs_up_and_restores(source, empty_target, tmp_path, monkeypatch):
    db = Database(source)
    fill(db, 0, 3)
    db.dispose()
    runner = CliRunner()
    file = tmp_path / "cli.backup"

    made = runner.invoke(app, ["backup", "--output", str(file)], env=_env(source))
    assert made.exit_code == 0, made.output
    assert "已备份" in made.output and file.exists()
    refused = runner.invoke(app, ["restore", str(file)], env=_env(source))
    assert refused.exit_code == 2 and "--force" in refused.output
    restored = runner.invoke(app, ["restore", str(file)], env=_env(empty_target))
    assert restored.exit_code == 0, restored.output
    assert contents(empty_target.database_url) == contents(source.database_url)
    if not source.database_url.startswith("sqlite"):
        assert "@" not in made.output  # no connection string, let alone a password, printed


def _env(settings: Settings) -> dict[str, Any]:
    url = "" if settings.database_url.startswith("sqlite") else settings.database_url
    return {"YUQING_DATA": str(settings.data_dir), "YUQING_DATABASE__URL": url}
