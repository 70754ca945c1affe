"""`yuqing purge` removes set-aside page addresses and the images of old sent reports, says
what it would remove with --dry-run, and never touches mentions, judgements or the trail."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select
from typer.testing import CliRunner

from responder import clock
from responder.cli import app
from responder.delivery.outbox import enqueue
from responder.intake.mentions import MentionRecord, store
from responder.models import (
    AuditEntry,
    Judgement,
    Mention,
    OutboxAttachment,
    OutboxMessage,
    SeenPage,
)


def seed(db) -> None:  # type: ignore[no-untyped-def]
    now = clock.now()
    old = now - timedelta(days=200)
    with db.transaction() as session:
        session.add(
            SeenPage(canonical_url="http://a.example/old", outcome="irrelevant", seen_at=old)
        )
        session.add(SeenPage(canonical_url="http://a.example/new", outcome="old", seen_at=now))
        mention = store(session, MentionRecord(url="http://a.example/m", text="统计局发布公报"))
        assert mention is not None
        mention.fetched_at = old
        session.add(
            Judgement(
                mention=mention,
                sentiment="neutral",
                sentiment_score=0.5,
                category="general",
                category_score=0.5,
            )
        )
        for key in ("sent-old", "unsent-old"):
            enqueue(
                session,
                key,
                "a@b.org",
                "甲",
                "【舆情日报】",
                "正文",
                "daily_report",
                html="<img src='cid:c'>",
                images={"c": b"\x89PNG"},
            )
        for message in session.scalars(select(OutboxMessage)):
            message.created_at = old
            if message.dedupe_key == "sent-old":
                message.status, message.sent_at = "sent", old


def counts(db) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with db.sessions() as session:
        return {
            "seen": session.scalar(select(func.count(SeenPage.id))) or 0,
            "images": session.scalar(select(func.count(OutboxAttachment.id))) or 0,
            "html": session.scalar(
                select(func.count(OutboxMessage.id)).where(OutboxMessage.html.is_not(None))
            )
            or 0,
            "mentions": session.scalar(select(func.count(Mention.id))) or 0,
            "judgements": session.scalar(select(func.count(Judgement.id))) or 0,
            "messages": session.scalar(select(func.count(OutboxMessage.id))) or 0,
        }


def test_purge_says_what_would_go_then_removes_only_that(settings, db):
    seed(db)
    runner = CliRunner()
    before = counts(db)

    dry = runner.invoke(app, ["purge", "--dry-run", "--json"])
    assert json.loads(dry.stdout) == {
        "dry_run": True,
        "seen_pages": 1,
        "report_images": 1,
        "report_html": 1,
    }
    assert counts(db) == before

    done = runner.invoke(app, ["purge"])
    assert done.exit_code == 0 and "removed: 1 set-aside page addresses" in done.stdout
    after = counts(db)
    assert after == {**before, "seen": 1, "images": 1, "html": 1}  # the unsent report keeps its
    with db.sessions() as session:
        assert session.scalars(select(SeenPage.canonical_url)).all() == ["http://a.example/new"]
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "retention.purge")
        ).one()
        assert entry.after == {"seen_pages": 1, "report_images": 1, "report_html": 1}
    again = runner.invoke(app, ["purge", "--json"])
    assert json.loads(again.stdout)["seen_pages"] == 0
