"""Escalation end to end: incidents grow, notices go out by email (a real aiosmtpd server) and
to group robots (a loopback HTTP receiver), unacknowledged notices are repeated and escalated
up the chain, and an acknowledgement through the signed link stops them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select
from starlette.testclient import TestClient

from responder import clock
from responder.db import Database
from responder.delivery.outbox import drain, enqueue
from responder.demo.mailsink import MailSink
from responder.intake.mentions import MentionRecord, store
from responder.models import (
    AuditEntry,
    DeliveryAttempt,
    Incident,
    Judgement,
    Notice,
    OutboxMessage,
)
from responder.notices.acks import ack_link
from responder.notices.escalation import notify_all
from responder.running.cycle import Cycle
from responder.settings import Settings, load_settings
from responder.web import create_app
from tests.robot import Robot
from tests.webclient import client_as, ensure_user

REPORT_FIELDS = ("时间", "地点", "原因", "事件详情", "损失情况", "影响范围", "发展趋势", "处置措施")
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai
PEOPLE = {
    "duty": "wangmin@example.org",
    "deputy": "liu@example.org",
    "head": "chen@example.org",
    "upper": "upper@example.org",
    "government": "gov@example.org",
}


@pytest.fixture
def robot() -> Iterator[Robot]:
    server = Robot()
    yield server
    server.stop()


def make_settings(robot: Robot, **escalation: Any) -> Settings:
    return load_settings(
        overrides={
            "webhooks": {"duty_group": {"kind": "wecom", "url": robot.url("/cgi-bin/webhook")}},
            "duty": {
                "people": [
                    {"name": "王敏", "email": PEOPLE["duty"], "webhook": "duty_group"},
                    {"name": "李强", "email": "liqiang@example.org"},
                ],
                "order": ["王敏", "李强"],
                "start": "2026-11-23",
                "escalation": {
                    "ack_minutes": 15,
                    "repeats": 1,
                    "max_rounds": 2,
                    "chain": [
                        {"name": "刘副局长", "email": PEOPLE["deputy"]},
                        {"name": "陈局长", "email": PEOPLE["head"]},
                    ],
                    **escalation,
                },
            },
            "recipients": {
                "leadership": [{"name": "陈局长", "email": PEOPLE["head"]}],
                "upper_office": [{"name": "江州市统计局舆情办", "email": PEOPLE["upper"]}],
                "government": [{"name": "县政府办", "email": PEOPLE["government"]}],
            },
        }
    )


@pytest.fixture
def world(data_dir, ports, robot) -> Iterator[tuple[Settings, Database, MailSink]]:  # type: ignore[no-untyped-def]
    settings = make_settings(robot)
    db = Database(settings)
    sink = MailSink(settings.data_dir / "mailbox", port=settings.mail.smtp_port).start()
    yield settings, db, sink
    sink.stop()
    db.dispose()


def read_mail(sink: MailSink) -> list[EmailMessage]:
    return [message_from_bytes(p.read_bytes(), policy=policy.default) for p in sink.messages()]  # type: ignore[misc]


def mail_to(sink: MailSink, who: str) -> list[EmailMessage]:
    return [m for m in read_mail(sink) if m["X-Envelope-To"] == PEOPLE[who]]


def add_mention(
    db: Database,
    n: int,
    text: str,
    at: datetime,
    outlet: str = "",
    reposts: int = 0,
    category: str = "privacy_leak",
) -> None:
    """A stored mention with its machine judgement, as a crawl and classification leave it."""
    with db.transaction() as session:
        mention = store(
            session,
            MentionRecord(
                url=f"http://news.example/{n}",
                title=text[:24],
                text=text,
                outlet=outlet,
                published_at=at,
                reposts=reposts,
            ),
        )
        assert mention is not None
        session.add(
            Judgement(
                mention=mention,
                sentiment="negative",
                sentiment_score=0.9,
                category=category,
                category_score=0.9,
            )
        )


STORY = "网传临江县统计局第七次人口普查登记信息泄露，普查员手机号和住户名单外流"


def test_a_growing_incident_goes_from_iv_to_ii_and_the_right_people_are_told(world, robot):
    settings, db, sink = world
    cycle = Cycle(settings, db)
    add_mention(db, 1, STORY + "，有居民表示担心。", T0)

    first = cycle.run(crawl=False, now=T0)

    assert first.incidents["IV"] == 1
    # A 一般 incident waits for the cycle's digest instead of paging the duty officer.
    [digest] = mail_to(sink, "duty")
    assert digest["Subject"].startswith("【舆情摘要】") and "1起一般舆情" in digest["Subject"]
    assert "/incidents/" in digest.get_content()
    assert not mail_to(sink, "head") and not mail_to(sink, "upper")
    [(_, card)] = robot.posts
    # The robot gets a WeCom card: the digest's title, its entry and the link to the incident.
    content = card["markdown"]["content"]
    assert card["msgtype"] == "markdown" and content.startswith("**【舆情摘要】")
    assert "/incidents/" in content and "- " in content

    later = T0 + timedelta(hours=2)
    for n in range(2, 9):
        add_mention(
            db,
            n,
            f"{STORY}，数万条个人信息被倒卖、挂网出售，有住户被骗受伤住院。转发第{n}次。",
            later,
            outlet="人民网" if n == 2 else "",
            reposts=3000,
        )
    second = cycle.run(crawl=False, now=later)

    assert second.incidents["II"] == 1
    with db.sessions() as session:
        incident = session.scalars(select(Incident)).one()
        assert (incident.machine_level, incident.mention_count) == ("II", 8)
    initial = [m for m in read_mail(sink) if "【舆情初报】" in m["Subject"]]
    assert {m["X-Envelope-To"] for m in initial} == {PEOPLE["head"], PEOPLE["upper"]}
    body = initial[0].get_content()
    for number, name in enumerate(REPORT_FIELDS):
        assert f"{'一二三四五六七八'[number]}、{name}：" in body
    assert "待核实" in body  # the cause is not known yet
    assert "http://news.example/" in body  # evidence links
    assert "/ack/" in body
    assert not mail_to(sink, "government")  # level I only
    duty_alerts = [m["Subject"] for m in mail_to(sink, "duty")]
    assert any(s.startswith("【舆情预警】重大（II级）") for s in duty_alerts)
    assert len(robot.posts) == 2  # the duty officer's robot heard about the rise too

    third = cycle.run(crawl=False, now=later + timedelta(minutes=5))
    assert third.emails_sent == 0  # nothing is sent twice


def ack_url(message: EmailMessage) -> str:
    found = re.search(r"http://127\.0\.0\.1:\d+(/ack/[\w.\-]+)", message.get_content())
    assert found, "no acknowledgement link"
    return found.group(1)


def open_incident(db: Database, title: str, category: str, level: str) -> None:
    with db.transaction() as session:
        session.add(
            Incident(
                title=title, category=category, first_seen=T0, last_seen=T0, machine_level=level
            )
        )


def open_level_iii(db: Database) -> None:
    """A level-III incident ready to be notified: its notices wait for an acknowledgement."""
    open_incident(db, "普查员入户被拒后与住户发生冲突", "field_safety", "III")


def test_no_acknowledgement_repeats_then_escalates_until_someone_acknowledges(world):
    settings, db, sink = world
    cycle = Cycle(settings, db)
    open_level_iii(db)

    cycle.tick(T0)
    cycle.tick(T0 + timedelta(minutes=10))  # not due yet
    assert [m["Subject"][:6] for m in mail_to(sink, "duty")] == ["【舆情预警】"]

    cycle.tick(T0 + timedelta(minutes=16))
    repeat = [m for m in mail_to(sink, "duty") if "【第2次提醒】" in m["Subject"]]
    assert len(repeat) == 1 and "尚无人确认" in repeat[0].get_content()
    assert not mail_to(sink, "deputy")

    cycle.tick(T0 + timedelta(minutes=32))
    [escalated] = mail_to(sink, "deputy")
    assert escalated["Subject"].startswith("【逾时未确认】【舆情预警】")
    assert "现按升级链报送您" in escalated.get_content()
    assert "王敏" in escalated.get_content()

    # Opening the link only shows the notice (mail scanners fetch links); the button acks.
    client = TestClient(create_app(settings, db))
    url = ack_url(escalated)
    page = client.get(url)
    assert page.status_code == 200 and "确认收到" in page.text
    with db.sessions() as session:
        assert session.scalars(select(Notice)).one().acknowledged_at is None
    done = client.post(url)
    assert done.status_code == 200 and "刘副局长" in done.text and "已确认" in done.text

    cycle.tick(T0 + timedelta(minutes=50))
    cycle.tick(T0 + timedelta(hours=3))
    assert not mail_to(sink, "head")  # the chain stopped at the acknowledgement
    assert len(mail_to(sink, "duty")) == 2 and len(mail_to(sink, "deputy")) == 1
    with db.sessions() as session:
        notice = session.scalars(select(Notice)).one()
        assert (notice.acknowledged_by, notice.step, notice.next_step_at) == ("刘副局长", 2, None)
        actions = [a.action for a in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions.count("notice.repeat") == 1 and actions.count("notice.escalate") == 1
    assert actions[-1] == "notice.ack"
    # The incident page shows who acknowledged, and every message with its attempts.
    shown = client_as(settings, db).get(f"/incidents/{notice.incident_id}").text
    assert "刘副局长 于" in shown and "确认" in shown
    assert shown.count("wangmin@example.org") == 2 and "逾时升级" in shown


def test_an_acknowledgement_by_the_duty_officer_stops_the_repeats_at_once(world):
    settings, db, sink = world
    cycle = Cycle(settings, db)
    open_level_iii(db)
    cycle.tick(T0)
    client = TestClient(create_app(settings, db))
    [alert] = mail_to(sink, "duty")

    assert client.post(ack_url(alert)).status_code == 200
    again = client.post(ack_url(alert))  # a second click changes nothing

    assert "王敏" in again.text
    for minutes in (16, 32, 48, 64):
        cycle.tick(T0 + timedelta(minutes=minutes))
    assert len(read_mail(sink)) == 1


def test_an_unacknowledged_notice_climbs_the_whole_chain_and_then_stops(world):
    settings, db, sink = world
    cycle = Cycle(settings, db)
    open_level_iii(db)

    for minutes in range(0, 200, 16):
        cycle.tick(T0 + timedelta(minutes=minutes))

    assert len(mail_to(sink, "duty")) == 2  # first send and one repeat
    assert len(mail_to(sink, "deputy")) == 1 and len(mail_to(sink, "head")) == 1
    with db.sessions() as session:
        assert session.scalars(select(Notice)).one().next_step_at is None


def test_a_low_level_notice_carries_a_link_but_is_not_repeated(world):
    settings, db, sink = world
    cycle = Cycle(settings, db)
    open_incident(db, "网友询问统计数据发布时间", "procedure", "IV")
    for minutes in (0, 16, 32, 48):
        cycle.tick(T0 + timedelta(minutes=minutes))
    [alert] = read_mail(sink)
    assert "/ack/" in alert.get_content()


def test_a_tampered_or_expired_link_is_refused_with_a_clear_page(world):
    settings, db, sink = world
    open_level_iii(db)
    Cycle(settings, db).tick(T0)
    client = TestClient(create_app(settings, db))
    url = ack_url(mail_to(sink, "duty")[0])

    tampered = client.post(url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB"))
    assert tampered.status_code == 400 and "确认链接无效" in tampered.text

    with db.sessions() as session:
        notice_id = session.scalars(select(Notice.id)).one()
    with time_machine.travel(clock.now() - timedelta(hours=settings.web.ack_link_hours + 1)):
        old_link = ack_link(settings, notice_id, PEOPLE["duty"])
    expired = client.post(old_link.removeprefix(settings.web.base_url))
    assert expired.status_code == 400 and "已过期" in expired.text
    with db.sessions() as session:
        assert session.scalars(select(Notice)).one().acknowledged_at is None


def test_follow_ups_go_out_on_the_cadence_and_the_final_report_on_closing(data_dir, ports, robot):
    settings = make_settings(robot, followup_hours=4)
    db = Database(settings)
    sink = MailSink(settings.data_dir / "mailbox", port=settings.mail.smtp_port).start()
    try:
        cycle = Cycle(settings, db)
        open_incident(db, "普查数据被指造假", "data_fraud", "II")
        for hours in (0, 1, 3, 4.1, 5, 8.2):
            # Everyone acknowledges at once, so only the follow-ups add mail.
            cycle.tick(T0 + timedelta(hours=hours))
            with db.transaction() as session:
                for notice in session.scalars(select(Notice)):
                    notice.acknowledged_at = notice.acknowledged_at or T0
                    notice.next_step_at = None
        subjects = [m["Subject"] for m in mail_to(sink, "head")]
        assert sum("【舆情初报】" in s for s in subjects) == 1
        assert sum("【舆情续报】" in s for s in subjects) == 2

        with db.transaction() as session:
            incident = session.scalars(select(Incident)).one()
            incident.status, incident.closed_at = "closed", T0 + timedelta(hours=9)
            incident.close_reason = "已发布权威数据澄清，网民情绪平稳"
        cycle.tick(T0 + timedelta(hours=9))
        cycle.tick(T0 + timedelta(hours=20))
        finals = [m for m in read_mail(sink) if "【舆情终报】" in m["Subject"]]
        assert {m["X-Envelope-To"] for m in finals} == {
            PEOPLE["head"],
            PEOPLE["upper"],
            PEOPLE["duty"],
        }
        assert "已发布权威数据澄清" in finals[0].get_content()
        assert sum("【舆情续报】" in m["Subject"] for m in mail_to(sink, "head")) == 2
    finally:
        sink.stop()
        db.dispose()


def test_smtp_down_for_a_while_delays_the_notice_and_it_arrives_once(data_dir, ports, robot):
    settings = make_settings(robot)
    db = Database(settings)
    open_level_iii(db)
    try:
        with db.transaction() as session:
            notify_all(session, settings, T0)
        down = drain(db.sessions, settings.mail, webhooks=settings.webhooks)
        assert down.sent == 1 and down.deferred == 1  # the robot got it; email waits
        with db.sessions() as session:
            retry_at = session.scalars(
                select(OutboxMessage.next_attempt_at).where(OutboxMessage.channel == "email")
            ).one()

        sink = MailSink(settings.data_dir / "mailbox", port=settings.mail.smtp_port).start()
        try:
            for later in (1, 60, 3600):
                drain(
                    db.sessions,
                    settings.mail,
                    now=retry_at + timedelta(seconds=later),
                    webhooks=settings.webhooks,
                )
        finally:
            sink.stop()
        [message] = read_mail(sink)
        assert message["X-Envelope-To"] == PEOPLE["duty"]
        with db.sessions() as session:
            attempts = session.scalars(
                select(DeliveryAttempt.outcome)
                .join(OutboxMessage, OutboxMessage.id == DeliveryAttempt.message_id)
                .where(OutboxMessage.channel == "email")
                .order_by(DeliveryAttempt.id)
            ).all()
        assert attempts == ["deferred", "sent"]
    finally:
        db.dispose()


@pytest.fixture
def phone_ackers(world) -> None:  # type: ignore[no-untyped-def]
    """The accounts `yuqing ack --by` names: acknowledging needs an enabled account whose
    role may acknowledge."""
    _, db, _ = world
    ensure_user(db, "王敏（电话确认）", "duty")
    ensure_user(db, "李强", "leader")


def test_yuqing_notices_lists_what_waits_and_yuqing_ack_records_a_phone_acknowledgement(
    world, phone_ackers
):
    from typer.testing import CliRunner

    from responder.cli import app

    settings, db, sink = world
    open_level_iii(db)
    Cycle(settings, db).tick(T0)
    runner = CliRunner()

    waiting = runner.invoke(app, ["notices", "--waiting", "--json"])
    [row] = json.loads(waiting.stdout)
    assert (row["stage"], row["level"], row["acknowledged_by"]) == ("duty_alert", "III", None)

    done = runner.invoke(app, ["ack", str(row["id"]), "--by", "王敏（电话确认）"])
    assert done.exit_code == 0, done.output
    again = runner.invoke(app, ["ack", str(row["id"]), "--by", "李强"])
    missing = runner.invoke(app, ["ack", "999", "--by", "李强"])

    assert "already" in again.output
    assert missing.exit_code == 2 and "no notice #999" in missing.output
    assert json.loads(runner.invoke(app, ["notices", "--waiting", "--json"]).stdout) == []
    with db.sessions() as session:
        assert session.scalars(select(Notice)).one().acknowledged_by == "王敏（电话确认）"


def test_a_chain_member_naming_an_unknown_robot_is_a_configuration_error(data_dir):
    from responder.settings import ConfigError

    with pytest.raises(ConfigError, match="escalation chain '刘副局长'.*'nope'"):
        load_settings(
            overrides={
                "duty": {
                    "escalation": {
                        "chain": [{"name": "刘副局长", "email": "l@x.org", "webhook": "nope"}]
                    }
                }
            }
        )


def test_a_robot_post_refused_for_good_reaches_the_duty_officer_by_email(data_dir, ports, robot):
    settings = load_settings(
        overrides={
            "webhooks": {"duty_group": {"kind": "wecom", "url": robot.url("/cgi-bin/webhook")}},
            "duty": {
                "people": [{"name": "王敏", "email": PEOPLE["duty"], "webhook": "duty_group"}],
                "order": ["王敏"],
                "start": clock.today(ZoneInfo("Asia/Shanghai")).isoformat(),
            },
        }
    )
    db = Database(settings)
    sink = MailSink(settings.data_dir / "mailbox", port=settings.mail.smtp_port).start()
    robot.reply = (200, {"errcode": 93000, "errmsg": "invalid webhook url"})
    try:
        with db.transaction() as session:
            enqueue(
                session,
                "alert-1",
                "duty_group",
                "王敏",
                "【舆情预警】测试",
                "正文",
                "duty_alert",
                channel="webhook",
            )
        Cycle(settings, db).tick(clock.now())
        Cycle(settings, db).tick(clock.now())  # told once, not again
        told = [m for m in read_mail(sink) if m["Subject"].startswith("【投递失败】")]
        assert len(told) == 1 and told[0]["X-Envelope-To"] == PEOPLE["duty"]
        assert "【舆情预警】测试" in told[0].get_content() and "93000" in told[0].get_content()
    finally:
        sink.stop()
        db.dispose()


def test_only_an_enabled_account_whose_role_may_acknowledge_acknowledges_outside_a_link(world):
    from typer.testing import CliRunner

    from responder.accounts import set_disabled
    from responder.cli import app
    from responder.notices.acks import NotPermitted, acknowledge

    settings, db, _ = world
    open_level_iii(db)
    Cycle(settings, db).tick(T0)
    ensure_user(db, "周停", "duty")
    ensure_user(db, "宣传员", "press")
    ensure_user(db, "刘局", "leader")
    with db.transaction() as session:
        set_disabled(session, "周停", True, "test")
        notice_id = session.scalars(select(Notice)).one().id
    refused = {
        "无此人": ("没有用户 无此人", "there is no account named '无此人'"),
        "周停": ("用户 周停 已停用", "the account '周停' is disabled"),
        "宣传员": ("只有值班员", "the account '宣传员' has the role press"),
    }

    for who, (chinese, english) in refused.items():
        with pytest.raises(NotPermitted, match=chinese), db.transaction() as session:
            acknowledge(session, session.get(Notice, notice_id), who, T0, via="web")
        done = CliRunner().invoke(app, ["ack", str(notice_id), "--by", who])
        assert done.exit_code == 2 and done.stderr.startswith("error: ") and english in done.stderr
        with db.sessions() as session:
            assert session.get(Notice, notice_id).acknowledged_at is None  # type: ignore[union-attr]

    done = CliRunner().invoke(app, ["ack", str(notice_id), "--by", "刘局"])
    assert done.exit_code == 0, done.output
    with db.sessions() as session:
        assert session.get(Notice, notice_id).acknowledged_by == "刘局"  # type: ignore[union-attr]
