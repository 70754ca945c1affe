"""PostgreSQL as the production database: the same Alembic migrations build exactly the
models, upgrades from every earlier schema version keep the data (on SQLite too), and the
stored → triaged → notified → delivered flow runs on a real server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from typing import Any

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Engine, func, inspect, select
from sqlalchemy import types as sqltypes

from responder.db import MIGRATIONS_DIR, Database, build_engine, upgrade
from responder.demo.mailsink import MailSink
from responder.intake import search
from responder.intake.mentions import MentionRecord, store, store_many
from responder.models import (
    Base,
    DeliveryAttempt,
    Incident,
    Judgement,
    Mention,
    Notice,
    OutboxMessage,
)
from responder.running.cycle import Cycle
from responder.settings import Settings, load_settings
from tests.schema import EXPRESSION_INDEXES, expression_indexes, reflected, schema_diff

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai


def revisions() -> list[str]:
    """Every revision from the first to the newest."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return [
        s.revision for s in reversed(list(ScriptDirectory.from_config(config).walk_revisions()))
    ]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend_settings(request: pytest.FixtureRequest) -> Settings:
    name = "settings" if request.param == "sqlite" else "pg_settings"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


@pytest.mark.postgres
def test_migrations_build_exactly_the_models_on_postgresql(pg_settings):
    db = Database(pg_settings)
    try:
        assert db.engine.dialect.name == "postgresql"
        assert set(Base.metadata.tables) <= set(inspect(db.engine).get_table_names())
        assert schema_diff(db.engine) == []
        assert expression_indexes(db.engine) == EXPRESSION_INDEXES
    finally:
        db.dispose()


# Representative rows, made from the schema as it stood at a revision: every column filled
# (nullable ones too), foreign keys pointing at rows inserted before, a self-reference on the
# second row, Chinese text, JSON, binary data and times. Made from reflection so that a new
# migration is covered without editing this test.


def sample(column: Column[Any], n: int) -> Any:
    kind = column.type
    if isinstance(kind, sqltypes.JSON):
        return {"词": ["统计", n], "n": n}
    if isinstance(kind, sqltypes.Boolean):
        return n == 1
    if isinstance(kind, sqltypes.DateTime):
        return datetime(2026, 11, 1, 8, 30, n)
    if isinstance(kind, sqltypes.Date):
        return date(2026, 11, 1 + n)
    if isinstance(kind, sqltypes.Integer):
        return 10 + n
    if isinstance(kind, sqltypes.Float | sqltypes.Numeric):
        return 0.5 + n
    if isinstance(kind, sqltypes._Binary):
        return bytes([n, 0, 255, 7]) * 4
    length = getattr(kind, "length", None) or 200
    return f"{n}{column.name}·统计局公报"[:length]


def seed(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Two rows in every table; returns them by table, with their ids."""
    meta = reflected(engine)
    rows: dict[str, list[dict[str, Any]]] = {}
    with engine.begin() as conn:
        for table in meta.sorted_tables:
            # The search index (and SQLite's FTS5 shadow tables) is derived from the mentions by
            # responder.intake.search, not written by the application; test_search.py checks it.
            if table.name == "alembic_version" or table.name.startswith(search.TABLE):
                continue
            rows[table.name] = []
            for n in range(2):
                values: dict[str, Any] = {}
                for column in table.columns:
                    if column.primary_key:
                        continue
                    targets = [fk.column.table.name for fk in column.foreign_keys]
                    if not targets:
                        values[column.name] = sample(column, n)
                    elif targets[0] == table.name:
                        values[column.name] = rows[table.name][0]["id"] if n else None
                    else:
                        parents = rows[targets[0]]
                        values[column.name] = parents[n % len(parents)]["id"]
                key = conn.execute(table.insert().values(values)).inserted_primary_key
                assert key is not None
                rows[table.name].append({**values, "id": key[0]})
    return rows


def assert_kept(engine: Engine, rows: dict[str, list[dict[str, Any]]]) -> None:
    meta = reflected(engine)
    with engine.connect() as conn:
        for name, expected in rows.items():
            table = meta.tables[name]
            kept = [
                {c: row._mapping[c] for c in expected[0]}
                for row in conn.execute(select(table).order_by(table.c.id))
            ]
            assert kept == expected, f"rows of {name} changed by the upgrade"
            for column in table.columns:
                if not column.nullable:
                    nulls = select(func.count()).select_from(table).where(column.is_(None))
                    stored = conn.execute(nulls).scalar()
                    assert stored == 0, f"{name}.{column.name} is NULL after the upgrade"


@pytest.mark.parametrize("start", revisions()[:-1])
def test_upgrading_from_every_earlier_revision_keeps_the_data(backend_settings, start):
    engine = build_engine(backend_settings)
    try:
        upgrade(engine, start)
        rows = seed(engine)
        upgrade(engine)
        assert_kept(engine, rows)
    finally:
        engine.dispose()

    # The upgraded database takes new rows from the application (sequences, defaults).
    db = Database(backend_settings)
    try:
        with db.transaction() as session:
            mention = store(
                session, MentionRecord(url="http://a.example/new", text="统计局发布公报")
            )
            assert mention is not None and mention.id not in {r["id"] for r in rows["mentions"]}
        if db.engine.dialect.name == "sqlite":
            with db.engine.connect() as conn:  # the upgrade turned them off for a while
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        db.dispose()


# The flow a bureau runs every few minutes, on PostgreSQL.

STORY = "网传临江县统计局第七次人口普查登记信息泄露，普查员手机号和住户名单外流"


@pytest.fixture
def pg_world(pg_settings: Settings) -> Iterator[tuple[Settings, Database, MailSink]]:
    settings = load_settings(
        overrides={
            "duty": {
                "people": [{"name": "王敏", "email": "wangmin@example.org"}],
                "order": ["王敏"],
                "start": "2026-11-23",
            },
            "recipients": {
                "leadership": [{"name": "陈局长", "email": "chen@example.org"}],
                "upper_office": [{"name": "江州市统计局舆情办", "email": "upper@example.org"}],
            },
        }
    )
    assert settings.database_url == pg_settings.database_url
    db = Database(settings)
    sink = MailSink(settings.data_dir / "mailbox", port=settings.mail.smtp_port).start()
    yield settings, db, sink
    sink.stop()
    db.dispose()


def judge(db: Database, mentions: list[int]) -> None:
    with db.transaction() as session:
        for mention_id in mentions:
            session.add(
                Judgement(
                    mention_id=mention_id,
                    sentiment="negative",
                    sentiment_score=0.9,
                    category="privacy_leak",
                    category_score=0.9,
                    terms={"category": ["信息泄露"]},
                )
            )


@pytest.mark.postgres
def test_mentions_become_an_incident_and_notices_are_delivered_on_postgresql(pg_world):
    settings, db, sink = pg_world
    with db.transaction() as session:
        first = store(
            session,
            # Published at T0 like the later reports of the same event: grouping joins
            # mentions close in time, and an undated one counts from when it was fetched.
            MentionRecord(
                url="http://news.example/1",
                title=STORY[:24],
                text=STORY + "，居民担心。",
                published_at=T0,
            ),
        )
        assert first is not None
        assert store(session, MentionRecord(url="http://news.example/1", text=STORY)) is None
        first_id = first.id
    judge(db, [first_id])
    cycle = Cycle(settings, db)

    summary = cycle.run(crawl=False, now=T0)

    assert summary.incidents["IV"] == 1 and summary.emails_sent >= 1
    later = T0 + timedelta(hours=2)
    records = [
        MentionRecord(
            url=f"http://news.example/{n}",
            title=STORY[:24],
            text=f"{STORY}，数万条个人信息被倒卖、挂网出售，有住户被骗受伤住院。转发第{n}次。",
            outlet="人民网" if n == 2 else "",
            published_at=later,
            reposts=3000,
        )
        for n in range(2, 9)
    ]
    with db.transaction() as session:
        stored, duplicates = store_many(session, records + records[:2])
    assert (stored, len(duplicates)) == (7, 2)
    with db.sessions() as session:
        judge(db, list(session.scalars(select(Mention.id).where(Mention.id != first_id))))

    second = cycle.run(crawl=False, now=later)
    third = cycle.run(crawl=False, now=later + timedelta(minutes=5))

    assert second.incidents["II"] == 1 and second.emails_sent >= 1
    assert third.emails_sent == 0  # the outbox's unique keys hold on PostgreSQL too
    with db.sessions() as session:
        incident = session.scalars(select(Incident)).one()
        assert (incident.machine_level, incident.mention_count) == ("II", 8)
        assert session.scalar(select(func.count(Notice.id))) >= 2
        statuses = set(session.scalars(select(OutboxMessage.status)))
        assert statuses == {"sent"}
        sent = session.scalar(select(func.count(OutboxMessage.id)))
        assert session.scalar(select(func.count(DeliveryAttempt.id))) == sent
    mail = [message_from_bytes(p.read_bytes(), policy=policy.default) for p in sink.messages()]
    assert len(mail) == sent
    assert any("【舆情初报】" in m["Subject"] for m in mail)
