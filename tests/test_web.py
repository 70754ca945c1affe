"""The read-only web pages render stored data in Chinese and escape what they show."""

from __future__ import annotations

from datetime import UTC, datetime

from responder.intake.mentions import MentionRecord, store
from responder.models import Incident, Judgement
from tests.webclient import client_as

XSS = '<script>alert("x")</script>'


def seed(db) -> int:  # type: ignore[no-untyped-def]
    now = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    with db.transaction() as session:
        incident = Incident(
            title=f"普查信息泄露{XSS}",
            category="privacy_leak",
            first_seen=now,
            last_seen=now,
            machine_level="II",
            mention_count=1,
        )
        session.add(incident)
        session.flush()
        mention = store(
            session,
            MentionRecord(
                url="http://x.example/1",
                title=f"泄露{XSS}",
                text="普查登记信息被倒卖",
                published_at=now,
            ),
        )
        assert mention is not None
        mention.incident_id = incident.id
        session.add(
            Judgement(
                mention_id=mention.id,
                sentiment="negative",
                sentiment_score=0.9,
                category="privacy_leak",
                category_score=0.9,
                misinfo=False,
                terms={"sentiment": ["太气人"], "category": ["<b>信息泄露</b>"]},
            )
        )
        return incident.id


def test_pages_render_in_chinese_and_escape_crawled_html(settings, db):
    incident_id = seed(db)
    client = client_as(settings, db)

    for path in ("/", "/mentions", "/incidents", f"/incidents/{incident_id}", "/drafts"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert "舆情监测" in page.text
        assert "<script>" not in page.text
    mentions = client.get("/mentions").text
    assert "&lt;script&gt;" in mentions and "负面" in mentions and "信息泄露" in mentions
    # Why the machine decided, escaped like everything crawled.
    assert "倾向依据：太气人" in mentions
    assert "类别依据：&lt;b&gt;信息泄露&lt;/b&gt;" in mentions
    assert "重大（II级）" in client.get(f"/incidents/{incident_id}").text


def test_an_unknown_incident_is_a_chinese_404(settings, db):
    page = client_as(settings, db).get("/incidents/999")
    assert page.status_code == 404
    assert "没有这个事件" in page.text


def test_no_page_loads_anything_from_the_internet(settings, db):
    seed(db)
    client = client_as(settings, db)
    for path in ("/", "/mentions", "/incidents", "/drafts"):
        text = client.get(path).text
        assert "<script src" not in text and "<link" not in text


def test_the_mentions_page_shows_reprints_and_how_often_a_story_was_reprinted(settings, db):
    now = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    with db.transaction() as session:
        original = store(
            session,
            MentionRecord(
                url="http://a.example/1",
                title="原文",
                text="临江县统计局发布公报",
                published_at=now,
            ),
        )
        assert original is not None
        for n in range(2):
            copy = store(
                session,
                MentionRecord(
                    url=f"http://b.example/{n}",
                    title=f"转载{n}",
                    text=f"临江县统计局发布公报（转自{n}号网站）",
                    published_at=now,
                ),
            )
            assert copy is not None
            copy.reprint_of = original.id
        original_id = original.id
    page = client_as(settings, db).get("/mentions").text
    assert "被转载 2 次" in page
    assert page.count(f"转载（原文 #{original_id}）") == 2
