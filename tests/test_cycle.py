"""The whole cycle against the bundled demo world, with a real SMTP server receiving notices."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select

from responder.models import AuditEntry, CrawlRun, Draft, Incident, Mention, OutboxMessage
from responder.running.cycle import Cycle

pytestmark = pytest.mark.slow
REPORT_FIELDS = ("时间", "地点", "原因", "事件详情", "损失情况", "影响范围", "发展趋势", "处置措施")


def demo_world_items() -> list[dict]:  # type: ignore[type-arg]
    import yaml

    from responder.demo.world import WORLD_FILE

    return yaml.safe_load(WORLD_FILE.read_text(encoding="utf-8"))["items"]  # type: ignore[no-any-return]


def read_mail(sink) -> list[EmailMessage]:  # type: ignore[no-untyped-def]
    return [message_from_bytes(p.read_bytes(), policy=policy.default) for p in sink.messages()]


def test_a_cycle_turns_the_demo_world_into_incidents_drafts_and_notices(
    settings, db, demo_world, mail_sink
):
    summary = Cycle(settings, db).run()

    assert summary.new_mentions == summary.mentions >= 60
    assert summary.incidents["II"] + summary.incidents["I"] >= 1
    assert summary.drafts >= 1
    assert summary.emails_sent == len(mail_sink.messages()) >= 1
    with db.sessions() as session:
        runs = session.scalars(select(CrawlRun)).all()
        assert {r.source.name for r in runs} == {s.name for s in settings.sources}
        # A watched page's first read is its baseline and stores nothing (an empty run).
        assert all(
            r.failed == 0 and r.status == ("empty" if r.source.kind == "watch" else "ok")
            for r in runs
        )
        gbk = session.scalars(select(Mention).where(Mention.url.endswith("/news/n006.html"))).one()
        world_item = next(i for i in demo_world_items() if i["id"] == "n006")
        assert world_item["encoding"] == "gbk"
        assert gbk.title == world_item["title"]
        # The 局长信箱 letter came over IMAP, its GB2312 subject read, the phone number masked.
        letter = next(i for i in demo_world_items() if i["id"] == "m001")
        assert letter["encoding"] == "gb2312"
        mailed = session.scalars(select(Mention).where(Mention.title == letter["title"])).one()
        assert mailed.source.kind == "mailbox" and "138****5678" in mailed.text
        # The WeChat bridge gives a summary only: text, account and time are the article page's.
        article = next(i for i in demo_world_items() if i["id"] == "w001")
        wechat = session.scalars(select(Mention).where(Mention.title == article["title"])).one()
        assert wechat.outlet == "临江发布" and wechat.published_at is not None
        assert article["body"].split("\n")[0] in wechat.text
        major = session.scalars(select(Incident).where(Incident.machine_level == "II")).one()
        assert major.category == "privacy_leak"
        assert major.mention_count >= 10
        assert any(r["rule"] == "信源权威度" for r in major.fired_rules)
        assert session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "incident.open")
        ) == session.scalar(select(func.count(Incident.id)))
        unsent = session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.status != "sent")
        )
        assert unsent == 0


def test_leadership_receives_the_initial_report_with_all_eight_fields(
    settings, db, demo_world, mail_sink
):
    Cycle(settings, db).run()

    leaders = {r.email for r in settings.recipients.leadership + settings.recipients.upper_office}
    initial = [m for m in read_mail(mail_sink) if "【舆情初报】" in m["Subject"]]
    assert {m["X-Envelope-To"] for m in initial} == leaders
    body = initial[0].get_content()
    for number, name in enumerate(REPORT_FIELDS):
        assert f"{'一二三四五六七八'[number]}、{name}：" in body
    assert "临江县" in body
    assert "http://127.0.0.1" in body  # evidence links


def test_a_second_cycle_stores_nothing_new_and_sends_nothing_again(
    settings, db, demo_world, mail_sink
):
    first = Cycle(settings, db).run()
    second = Cycle(settings, db).run()

    assert second.new_mentions == 0
    assert second.emails_sent == 0
    assert second.mentions == first.mentions
    assert second.drafts == first.drafts
    assert len(mail_sink.messages()) == first.emails_sent


def test_the_mention_contradicting_the_bulletin_is_flagged_with_the_official_figure(
    settings, db, demo_world, mail_sink
):
    Cycle(settings, db).run()

    with db.sessions() as session:
        flagged = [
            m for m in session.scalars(select(Mention)).all() if m.judgement and m.judgement.misinfo
        ]
        reasons = [r for m in flagged for r in m.judgement.misinfo_reasons]
    kinds = {r["kind"] for r in reasons}
    assert {"contradicts_fact", "matches_debunk"} <= kinds
    fact = next(r for r in reasons if r["kind"] == "contradicts_fact")
    assert "12%" in fact["detail"] and "5.8%" in fact["detail"]
    assert "统计公报" in fact["evidence"]


def test_drafts_pin_the_approved_template_version_they_came_from(
    settings, db, demo_world, mail_sink
):
    Cycle(settings, db).run()

    with db.sessions() as session:
        drafts = session.scalars(select(Draft)).all()
        assert drafts
        for draft in drafts:
            assert draft.template_version.status == "approved"
            assert draft.status == "pending"
            assert settings.office_name in draft.body
            assert "{{" not in draft.body and "{%" not in draft.body
