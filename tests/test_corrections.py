"""A person's correction of a mention's judgement: a new judgement in force, audited, its
incident re-assessed, and exported for retraining."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import aliased
from typer.testing import CliRunner

from responder.cli import app
from responder.db import Database
from responder.incidents.triage import reassess
from responder.intake.export import correction_rows
from responder.intake.mentions import MentionRecord, store
from responder.judging.corrections import CorrectionError, correct, history, in_force
from responder.models import AuditEntry, Incident, Judgement, Mention, User
from responder.settings import Settings
from tests.webclient import ensure_user

T0 = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def correctors(db) -> None:  # type: ignore[no-untyped-def]
    """The duty officers who correct here: correcting needs an enabled account whose role may
    correct."""
    # Made directly, so no audit row of theirs mixes with the corrections' own.
    with db.transaction() as session:
        session.add_all([User(name=name, role="duty") for name in ("王敏", "李强")])


def add_mention(
    db: Database,
    n: int,
    title: str,
    sentiment: str = "neutral",
    category: str = "general",
    incident_id: int | None = None,
    misinfo: bool = False,
) -> int:
    with db.transaction() as session:
        mention = store(
            session,
            MentionRecord(
                url=f"http://news.example/{n}",
                title=title,
                text=f"{title}。临江县统计局相关情况第{n}条。",
                outlet="临江新闻网",
                published_at=T0 + timedelta(minutes=n),
            ),
        )
        assert mention is not None
        mention.incident_id = incident_id
        mention.triaged = True
        session.add(
            Judgement(
                mention=mention,
                sentiment=sentiment,
                sentiment_score=0.8,
                category=category,
                category_score=0.7,
                misinfo=misinfo,
                terms={"sentiment": ["数据好看"], "category": ["统计局"]},
            )
        )
        session.flush()
        return mention.id


def add_incident(db: Database) -> int:
    with db.transaction() as session:
        incident = Incident(
            title="网传临江县普查数据造假",
            category="data_fraud",
            first_seen=T0,
            last_seen=T0,
            sentiment="negative",
        )
        session.add(incident)
        session.flush()
        return incident.id


def test_a_correction_is_a_new_judgement_in_force_and_the_machines_stays(
    settings: Settings, db: Database
) -> None:
    mid = add_mention(db, 1, "临江县统计局发布第三季度经济数据", sentiment="negative")

    with db.transaction() as session:
        correct(session, settings, mid, "positive", "general", False, "王敏", "正常发布，非负面")

    with db.sessions() as session:
        mention = session.get(Mention, mid)
        assert mention is not None
        assert [j.origin for j in mention.judgements] == ["machine", "correction"]
        assert mention.judgement is not None
        assert mention.judgement.sentiment == "positive" and mention.judgement.actor == "王敏"
        [entry] = history(session, mid)
        assert entry.actor == "王敏" and entry.action == "judgement.correct"
        assert entry.before == {"sentiment": "negative", "category": "general", "misinfo": False}
        assert entry.after == {"sentiment": "positive", "category": "general", "misinfo": False}
        assert entry.detail == "正常发布，非负面"


@pytest.mark.parametrize(
    ("sentiment", "category", "message"),
    [
        ("positive", "weather", "未知的类别"),
        ("angry", "general", "未知的情感倾向"),
        ("", "general", "未知的情感倾向"),
    ],
)
def test_an_unknown_label_is_refused_in_chinese_and_nothing_is_stored(
    settings: Settings, db: Database, sentiment: str, category: str, message: str
) -> None:
    mid = add_mention(db, 1, "普查员入户登记")

    with pytest.raises(CorrectionError, match=message), db.transaction() as session:
        correct(session, settings, mid, sentiment, category, False, "王敏")

    with db.sessions() as session:
        assert session.scalars(select(Judgement.origin)).all() == ["machine"]
        assert session.scalars(select(AuditEntry)).all() == []


def test_a_correction_that_changes_nothing_or_names_no_mention_is_refused(
    settings: Settings, db: Database
) -> None:
    mid = add_mention(db, 1, "普查员入户登记", sentiment="neutral", category="general")
    with pytest.raises(CorrectionError, match="相同"), db.transaction() as session:
        correct(session, settings, mid, "neutral", "general", False, "王敏")
    with pytest.raises(CorrectionError, match="没有信息 #999"), db.transaction() as session:
        correct(session, settings, 999, "neutral", "general", False, "王敏")
    with pytest.raises(CorrectionError, match="说明过长"), db.transaction() as session:
        correct(session, settings, mid, "negative", "general", False, "王敏", "长" * 501)


def test_correcting_a_mention_of_an_incident_reassesses_the_incident(
    settings: Settings, db: Database
) -> None:
    incident_id = add_incident(db)
    mid = add_mention(db, 1, "网传临江县普查数据造假", "negative", "data_fraud", incident_id)
    add_mention(db, 2, "临江县普查数据被指注水", "negative", "data_fraud", incident_id)

    with db.transaction() as session:
        judgement = correct(
            session, settings, mid, "negative", "data_fraud", True, "王敏", "与公报不符"
        )
        reassess(session, settings, judgement.mention, "王敏")

    with db.sessions() as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        # refresh() read the person's judgement: the incident now counts misinformation.
        assert incident.misinfo is True and incident.mention_count == 2


def test_a_mention_corrected_into_something_noteworthy_is_triaged_again(
    settings: Settings, db: Database
) -> None:
    mid = add_mention(db, 1, "普查员上门态度恶劣")

    with db.transaction() as session:
        judgement = correct(session, settings, mid, "negative", "staff_conduct", False, "王敏")
        reassess(session, settings, judgement.mention, "王敏")

    with db.sessions() as session:
        assert session.scalar(select(Mention.triaged).where(Mention.id == mid)) is False


def test_the_sql_judgement_in_force_agrees_with_the_mentions_property(
    settings: Settings, db: Database
) -> None:
    first = add_mention(db, 1, "统计局发布数据", sentiment="neutral")
    second = add_mention(db, 2, "统计局数据遭质疑", sentiment="negative")
    with db.transaction() as session:
        correct(session, settings, first, "negative", "data_doubt", False, "王敏")
        correct(session, settings, first, "positive", "general", False, "李强")
        # A newer machine judgement does not override a person's correction.
        session.add(
            Judgement(
                mention_id=first,
                sentiment="neutral",
                sentiment_score=0.5,
                category="general",
                category_score=0.5,
            )
        )
    force = aliased(Judgement)
    with db.sessions() as session:
        rows = session.execute(select(force.mention_id, force.id).where(in_force(force))).all()
        chosen = dict(rows)
        assert len(rows) == len(chosen) == 2  # exactly one judgement in force per mention
        for mention in session.scalars(select(Mention)):
            assert mention.judgement is not None
            assert chosen[mention.id] == mention.judgement.id
        assert session.get(Judgement, chosen[first]).actor == "李强"  # type: ignore[union-attr]
        assert session.get(Judgement, chosen[second]).origin == "machine"  # type: ignore[union-attr]


def test_yuqing_export_corrections_hands_the_correction_to_training(
    settings: Settings, db: Database, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    mid = add_mention(db, 1, "临江县统计局辟谣普查数据造假传言", sentiment="negative")
    add_mention(db, 2, "普查员入户登记")  # not corrected: not exported
    with db.transaction() as session:
        correct(session, settings, mid, "positive", "data_fraud", False, "王敏", "辟谣，非负面")
    out = tmp_path / "corrections.jsonl"

    result = CliRunner().invoke(app, ["export", "corrections", "--output", str(out)])

    assert result.exit_code == 0, result.output
    [row] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert row["text"].startswith("临江县统计局辟谣普查数据造假传言。")
    assert (row["sentiment"], row["category"], row["misinfo"]) == ("positive", "data_fraud", False)
    assert row["corrected_by"] == "王敏"
    with db.sessions() as session:
        assert [r["url"] for r in correction_rows(session)] == ["http://news.example/1"]


@pytest.mark.parametrize(
    ("who", "why"),
    [("无此人", "没有用户 无此人"), ("周停", "用户 周停 已停用"), ("刘局", "只有值班员")],
)
def test_only_an_enabled_account_whose_role_may_correct_can_correct(db, settings, who, why):
    from responder.accounts import set_disabled
    from responder.judging.corrections import NotPermitted

    ensure_user(db, "周停", "duty")
    ensure_user(db, "刘局", "leader")
    with db.transaction() as session:
        set_disabled(session, "周停", True, "test")
    mid = add_mention(db, 1, "临江县统计局发布第五次全国经济普查公报")

    with pytest.raises(NotPermitted, match=why), db.transaction() as session:
        correct(session, settings, mid, "positive", "general", False, who)

    with db.sessions() as session:
        assert (
            session.scalars(select(Judgement).where(Judgement.origin == "correction")).all() == []
        )
    with db.transaction() as session:
        correct(session, settings, mid, "positive", "general", False, "王敏")
