"""`yuqing purge` removes set-aside page addresses, the images of old sent reports, old hot-list
sightings that say nothing the kept ones do not, and the texts of pages no longer watched; says
what it would remove with --dry-run, and never touches mentions, judgements, the trail or the
baseline of a page a source still watches."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select
from typer.testing import CliRunner

from responder import clock
from responder.cli import app
from responder.delivery.outbox import enqueue
from responder.incidents.hotlists import hot_listings
from responder.intake.mentions import MentionRecord, source_for, store
from responder.models import (
    AuditEntry,
    HotRank,
    Judgement,
    Mention,
    OutboxAttachment,
    OutboxMessage,
    SeenPage,
    WatchedPage,
)
from responder.ops.retention import purge


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
        "hot_ranks": 0,
        "watched_pages": 0,
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
        assert entry.after == {
            "seen_pages": 1,
            "report_images": 1,
            "report_html": 1,
            "hot_ranks": 0,
            "watched_pages": 0,
        }
    again = runner.invoke(app, ["purge", "--json"])
    assert json.loads(again.stdout)["seen_pages"] == 0


WATCHED = "http://gov.example/tzgg/"  # a page the packaged settings do not watch


def test_old_hot_list_sightings_are_thinned_to_what_the_incident_page_shows(settings, db):
    now = clock.now()
    with db.transaction() as session:
        board = source_for(session, "微博热搜", "hotlist", "http://hot.example")
        mention = store(session, MentionRecord(url="http://hot.example/t", text="临江统计热搜"))
        assert mention is not None
        # Hourly sightings 200 days ago: place 9 rising to 2 and falling back, the heat peaking
        # one hour after the best place; then one recent sighting.
        places = [9, 7, 5, 2, 3, 4, 6, 8]
        heats = [10, 20, 30, 40, 90, 50, 30, 10]
        for hour, (rank, heat) in enumerate(zip(places, heats, strict=True)):
            seen = now - timedelta(days=200) + timedelta(hours=hour)
            session.add(
                HotRank(
                    source_id=board.id,
                    board="微博热搜",
                    canonical_url=mention.canonical_url,
                    rank=rank,
                    heat=heat,
                    seen_at=seen,
                )
            )
        session.add(
            HotRank(
                source_id=board.id,
                board="微博热搜",
                canonical_url=mention.canonical_url,
                rank=12,
                heat=5,
                seen_at=now - timedelta(days=1),
            )
        )
    with db.sessions() as session:
        before = hot_listings(session, [session.get(Mention, mention.id)])

    done = CliRunner().invoke(app, ["purge", "--json"])

    # The first sighting stays (the duration runs from it to the recent one, which is younger
    # than hot_ranks_days), and so do the best place and the top heat.
    assert json.loads(done.stdout)["hot_ranks"] == 8 - 3
    with db.sessions() as session:
        kept = session.scalars(select(HotRank.rank).order_by(HotRank.seen_at)).all()
        assert kept == [9, 2, 3, 12]
        assert hot_listings(session, [session.get(Mention, mention.id)]) == before


def test_a_watched_page_keeps_its_baseline_while_a_source_watches_it(settings, db):
    old = clock.now() - timedelta(days=400)
    watched = settings.model_copy(
        update={
            "sources": [
                *settings.sources,
                settings.sources[0].model_copy(
                    update={"name": "通知公告", "kind": "watch", "url": WATCHED}
                ),
            ]
        }
    )
    with db.transaction() as session:
        source = source_for(session, "通知公告", "watch", WATCHED)
        for url in (WATCHED, "http://gov.example/old-column/"):
            session.add(
                WatchedPage(
                    source_id=source.id,
                    canonical_url=url,
                    text="通知",
                    checked_at=old,
                    changed_at=old,
                )
            )

    with db.transaction() as session:
        summary = purge(session, watched, clock.now())

    assert summary.watched_pages == 1
    with db.sessions() as session:
        assert session.scalars(select(WatchedPage.canonical_url)).all() == [WATCHED]
    # Once no source watches it, its text ages out like the rest.
    with db.transaction() as session:
        assert purge(session, settings, clock.now()).watched_pages == 1
    with db.sessions() as session:
        assert session.scalar(select(func.count(WatchedPage.id))) == 0
