"""The duty officer's attention: II/I incidents page at once on their own, the new III ones of
a cycle together, IV ones in a digest; every new incident is in exactly one of those messages,
even when mail is down for a while; and reply drafts only where a reply is needed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
import time_machine
from sqlalchemy import select

from responder import clock
from responder.db import Database
from responder.demo.mailsink import MailSink
from responder.intake.mentions import MentionRecord, store
from responder.models import Draft, Incident, Judgement, Notice
from responder.notices.batches import in_quiet_hours
from responder.running.cycle import Cycle
from responder.settings import Settings, load_settings
from tests.webclient import client_as, csrf

DUTY, HEAD = "wangmin@example.org", "chen@example.org"


def make_settings(**alerts: Any) -> Settings:
    return load_settings(
        overrides={
            "duty": {
                "people": [{"name": "王敏", "email": DUTY}],
                "order": ["王敏"],
                "start": clock.today(load_settings().tz).isoformat(),
                # Nobody is reminded within these tests: each message here is a first alert.
                "escalation": {"ack_minutes": 24 * 60},
            },
            "recipients": {"leadership": [{"name": "陈局长", "email": HEAD}]},
            "alerts": alerts,
        }
    )


@pytest.fixture
def world(data_dir, ports) -> Iterator[tuple[Settings, Database, MailSink]]:  # type: ignore[no-untyped-def]
    settings = make_settings()
    db = Database(settings)
    sink = MailSink(settings.data_dir / "mailbox", port=settings.mail.smtp_port).start()
    yield settings, db, sink
    sink.stop()
    db.dispose()


def open_incidents(db: Database, levels: list[str], prefix: str) -> list[int]:
    now = clock.now()
    with db.transaction() as session:
        rows = [
            Incident(
                title=f"{prefix}事件{n}（{level}）",
                category="staff_conduct",
                first_seen=now,
                last_seen=now,
                machine_level=level,
            )
            for n, level in enumerate(levels)
        ]
        session.add_all(rows)
        session.flush()
        return [r.id for r in rows]


def mail(sink: MailSink, to: str) -> list[EmailMessage]:
    messages = [message_from_bytes(p.read_bytes(), policy=policy.default) for p in sink.messages()]
    return [m for m in messages if m["X-Envelope-To"] == to]  # type: ignore[misc]


def listed(messages: list[EmailMessage]) -> list[int]:
    """The incident ids the messages link to, once per message that lists them."""
    return [
        int(n)
        for m in messages
        for n in dict.fromkeys(re.findall(r"/incidents/(\d+)", m.get_content()))
    ]


def test_a_cycle_pages_the_duty_officer_at_most_three_times(world):
    settings, db, sink = world
    ids = open_incidents(db, ["II", "III", "III", "III", "IV", "IV", "IV", "IV"], "首轮")
    Cycle(settings, db).tick(clock.now())

    to_duty = mail(sink, DUTY)
    subjects = sorted(m["Subject"] for m in to_duty)
    assert len(to_duty) == 3, subjects
    assert any(s.startswith("【舆情预警】重大（II级）") for s in subjects)
    assert any("新发现3起较大（III级）" in s for s in subjects)
    [digest] = [m for m in to_duty if m["Subject"].startswith("【舆情摘要】")]
    assert "4起一般舆情" in digest["Subject"]
    assert set(listed([digest])) == set(ids[4:])  # a IV item is in the digest
    assert "首轮事件4（IV）" in digest.get_content()
    assert len([m for m in mail(sink, HEAD) if "【舆情初报】" in m["Subject"]]) == 1


def test_every_new_incident_is_in_exactly_one_alert_across_cycles_with_mail_down(data_dir, ports):
    settings = make_settings()
    db = Database(settings)
    cycle = Cycle(settings, db)
    start = clock.now()

    def tick(minutes: int) -> None:
        # The outbox's retry backoff reads the clock, so the clock moves, not just `now`.
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            cycle.tick()

    sink = MailSink(settings.data_dir / "mailbox", port=settings.mail.smtp_port).start()
    first = open_incidents(db, ["III", "IV", "IV"], "甲")
    tick(0)
    sink.stop()  # the mail server goes down for two cycles
    second = open_incidents(db, ["III", "IV", "II"], "乙")
    tick(1)
    third = open_incidents(db, ["IV", "III"], "丙")
    tick(2)
    sink = MailSink(settings.data_dir / "mailbox", port=settings.mail.smtp_port).start()
    try:
        for minutes in range(3, 120, 5):  # the outbox retries with backoff
            tick(minutes)
        alerts = [
            m
            for m in mail(sink, DUTY)
            if m["Subject"].startswith(("【舆情预警】", "【舆情摘要】"))
            and "提醒" not in m["Subject"]
            and "逾时" not in m["Subject"]
        ]
    finally:
        sink.stop()
        db.dispose()
    assert sorted(listed(alerts)) == sorted(first + second + third)
    with db.sessions() as session:
        waiting = session.scalars(
            select(Notice).where(Notice.delivery != "own", Notice.carried_by.is_(None))
        ).all()
    assert waiting == []


def test_the_digest_waits_through_quiet_hours_but_an_immediate_alert_does_not(data_dir, ports):
    settings = make_settings(quiet_hours="00:00-23:59")
    db = Database(settings)
    sink = MailSink(settings.data_dir / "mailbox", port=settings.mail.smtp_port).start()
    try:
        now = clock.now().astimezone(settings.tz).replace(hour=12, minute=0)
        open_incidents(db, ["IV", "III"], "夜间")
        Cycle(settings, db).tick(now)
        subjects = [m["Subject"] for m in mail(sink, DUTY)]
        assert len(subjects) == 1 and "较大（III级）" in subjects[0]
        with db.sessions() as session:
            [digest_notice] = session.scalars(
                select(Notice).where(Notice.delivery == "digest")
            ).all()
        assert digest_notice.carried_by is None  # still waiting, not lost
    finally:
        sink.stop()
        db.dispose()


def test_quiet_hours_cross_midnight(data_dir):
    settings = make_settings(quiet_hours="22:00-07:00")
    at = clock.now().astimezone(settings.tz)
    assert in_quiet_hours(settings, at.replace(hour=23, minute=30))
    assert in_quiet_hours(settings, at.replace(hour=6, minute=59))
    assert not in_quiet_hours(settings, at.replace(hour=7, minute=0))
    assert not in_quiet_hours(settings, at.replace(hour=12, minute=0))


def test_drafts_are_made_only_where_a_reply_is_needed_or_asked_for(world):
    settings, db, sink = world
    ids = open_incidents(db, ["II", "III", "IV", "IV"], "草稿")
    with db.transaction() as session:
        # A 一般 incident whose mention repeats a false figure needs the office's answer too.
        mention = store(
            session,
            MentionRecord(
                url="http://x.example/1",
                title="网传临江县GDP增长12%",
                text="网传临江县GDP增长12%，是真的吗？",
            ),
        )
        assert mention is not None
        mention.incident_id, mention.triaged = ids[2], True
        session.add(
            Judgement(
                mention_id=mention.id,
                sentiment="negative",
                sentiment_score=0.9,
                category="data_doubt",
                category_score=0.9,
                misinfo=True,
            )
        )
    Cycle(settings, db).run(crawl=False, now=clock.now())
    with db.sessions() as session:
        drafted = {d.incident_id: d.reason for d in session.scalars(select(Draft))}
    assert drafted == {ids[0]: "level", ids[1]: "level", ids[2]: "misinfo"}

    client = client_as(settings, db, "duty")
    page = client.get(f"/incidents/{ids[3]}")
    assert "生成应答草稿" in page.text
    asked = client.post(
        f"/incidents/{ids[3]}/draft", data={"csrf_token": csrf(page.text)}, follow_redirects=False
    )
    assert asked.status_code == 303 and asked.headers["location"].startswith("/drafts/")
    queue = client_as(settings, db, "press").get("/drafts").text
    assert "人工申请" in queue and "含疑似失实信息" in queue and "事件级别需要回应" in queue


def spread_to(db: Database, incident_id: int, mentions: int) -> None:
    with db.transaction() as session:
        found = session.get(Incident, incident_id)
        assert found is not None
        found.mention_count = mentions


def test_a_jump_in_spread_alerts_the_duty_officer_again_in_the_same_thread(data_dir, ports):
    settings = make_settings(spread_factor=2.0, spread_min_new=10)
    db = Database(settings)
    cycle = Cycle(settings, db)
    sink = MailSink(settings.data_dir / "mailbox", port=settings.mail.smtp_port).start()
    try:
        [major] = open_incidents(db, ["II"], "扩散")
        spread_to(db, major, 8)
        cycle.tick()
        spread_to(db, major, 17)  # not doubled
        cycle.tick()
        spread_to(db, major, 30)  # doubled, 22 new
        cycle.tick()
        cycle.tick()  # told once per jump
        duty = mail(sink, DUTY)
    finally:
        sink.stop()
        db.dispose()
    first, again = duty
    assert "传播加快" not in first.get_content()
    assert "上次预警时有相关信息8条，现已增至30条" in again.get_content()
    assert f"/incidents/{major}" in again.get_content()
    # One thread: the same subject, and the re-alert answers the first alert.
    assert again["Subject"] == first["Subject"]
    assert again["In-Reply-To"] == first["Message-ID"]
    # The leadership heard of the II incident once (初报); growth alone is for the duty officer.
    assert len(mail(sink, HEAD)) == 1
    with db.sessions() as session:
        found = session.get(Incident, major)
        assert found is not None and found.notified_mentions == 30


def test_small_or_digest_incidents_do_not_re_alert_on_spread(data_dir):
    from responder.notices.follow import spread_jumped

    settings = make_settings(spread_factor=2.0, spread_min_new=10)
    alerts = settings.alerts

    def jumped(level: str, before: int | None, now: int, **changed: Any) -> bool:
        incident = Incident(
            machine_level=level,
            notified_level=level,
            notified_mentions=before,
            mention_count=now,
            status="open",
        )
        return spread_jumped(incident, alerts.model_copy(update=changed))

    assert jumped("III", 10, 20)
    assert not jumped("III", 2, 4)  # doubled, but only two new
    assert not jumped("III", 20, 39)  # nineteen new, not doubled
    assert not jumped("IV", 10, 40)  # a digest lists new incidents, not their growth
    assert not jumped("III", None, 40)  # never alerted
    assert not jumped("III", 10, 40, spread_factor=0)  # switched off
    assert jumped("III", 10, 25, spread_factor=1.5)
