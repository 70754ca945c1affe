"""An incident's title, summary and fact sheet: the title and the summary come from the most
authoritative sources, 损失情况 only from statements of loss, and people complete the sheet —
role-checked, audited, shown as 已核实 — and a changed field of a reported incident goes out
in a 续报."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from responder import clock
from responder.incidents.actions import override_level
from responder.incidents.facts import (
    CONFIRMED,
    MACHINE,
    PENDING,
    NotPermitted,
    set_fact,
    set_title,
    sheet,
)
from responder.incidents.summary import choose_title, summarise
from responder.incidents.triage import refresh
from responder.models import AuditEntry, Incident, Mention, Notice, OutboxMessage
from responder.notices.escalation import notify_all
from tests.test_web_incidents import LEAK, log_in, make_incident
from tests.webclient import ensure_user


def mention(n: int, title: str, text: str, outlet: str = "", author: str = "") -> Mention:
    return Mention(
        id=n, title=title, text=text, outlet=outlet, author=author, url=f"http://x.example/{n}"
    )


FORUM = mention(
    1,
    "有人在群里卖咱们临江县的普查登记信息？？",
    "刚才在群里看到有人卖普查登记信息。这算不算信息泄露啊？有没有懂行的说说该找谁举报",
    outlet="临江论坛",
)
LOCAL = mention(
    2,
    "临江县普查登记信息遭倒卖 居民接到诈骗电话",
    "临江县一份普查登记居民信息表格在网上被倒卖，多名居民接到诈骗电话。",
    outlet="临江新闻网",
)
PROVINCIAL = mention(
    3,
    "临江县约3万条普查居民信息疑遭倒卖 多名居民被骗",
    "本报讯（记者 郑雅琴）临江县一份涉及约3万条居民信息的普查登记表格在网上被公开叫卖。"
    "其中一名七旬老人被骗走积蓄四万余元。",
    outlet="东川日报",
)
CENTRAL_QUESTION = mention(
    4,
    "追问临江县普查信息泄露：居民个人信息是如何流出的？",
    "临江县一份涉及约3万条居民信息的普查登记表格近日在网上被公开叫卖。已有多名居民被骗。",
    outlet="新华网",
)


def test_the_title_is_the_most_authoritative_informative_headline_not_the_first_post(settings):
    mentions = [FORUM, LOCAL, PROVINCIAL, CENTRAL_QUESTION]

    # The central outlet asks a question, so the provincial paper's headline tells the event.
    assert choose_title(mentions, settings) == "临江县约3万条普查居民信息疑遭倒卖 多名居民被骗"
    assert choose_title([FORUM, LOCAL], settings) == "临江县普查登记信息遭倒卖 居民接到诈骗电话"
    # Only a question: nothing informative, the incident keeps its title.
    assert choose_title([FORUM], settings) is None


def test_the_summary_leads_with_authoritative_sources_and_says_each_thing_once(settings):
    summary = summarise([FORUM, LOCAL, PROVINCIAL, CENTRAL_QUESTION], settings)

    texts = [s.text for s in summary]
    assert 1 <= len(summary) <= 5
    assert summary[0].source == "新华网"
    # The provincial lead repeats the central one (the dateline stripped): said once.
    assert sum("3万条居民信息" in t for t in texts) == 1
    assert not any("？" in t or "本报讯" in t for t in texts)
    assert any(s.source == "东川日报" and "四万余元" in s.text for s in summary)


def test_a_person_set_title_is_never_overwritten(settings, db):
    ensure_user(db, "王敏", "duty")
    with db.transaction() as session:
        incident = make_incident(session, settings, LEAK)
        incident.title_by = None
        refresh(session, settings, incident)
        # The machine's choice: a headline of the mentions, not the spec's words.
        assert incident.title != LEAK[0]

        assert set_title(session, incident.id, "住户信息泄露核查", "王敏")
        refresh(session, settings, incident)
        assert (incident.title, incident.title_by) == ("住户信息泄露核查", "王敏")
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "incident.title")
        ).one()
        assert entry.actor == "王敏" and entry.after == {
            "title": "住户信息泄露核查",
            "title_by": "王敏",
        }


def test_losses_come_only_from_statements_of_loss_never_from_questions(settings, db):
    with db.transaction() as session:
        incident = make_incident(
            session,
            settings,
            (
                "普查信息泄露",
                "privacy_leak",
                [
                    "这算不算信息泄露啊？我的信息会不会被卖了？",
                    "网传临江县普查信息泄露，据说有好几万条，转发扩散！",
                ],
            ),
        )
        mentions = list(session.scalars(select(Mention).where(Mention.incident_id == incident.id)))
        facts = {f.field: f for f in sheet(session, settings, incident, mentions, False)}
        assert facts["losses"].state == PENDING and facts["losses"].value == "待核实"

        stated = make_incident(
            session,
            settings,
            ("泄露", "privacy_leak", ["临江县约3万条普查登记信息被倒卖，一名老人被骗走四万余元。"]),
        )
        mentions = list(session.scalars(select(Mention).where(Mention.incident_id == stated.id)))
        losses = {f.field: f for f in sheet(session, settings, stated, mentions, False)}["losses"]
        assert losses.state == MACHINE
        assert "3万条" in losses.value and "四万余元" in losses.value
        assert losses.evidence.startswith("据信息 #")


def test_a_duty_officer_confirms_a_field_it_reads_verified_with_its_author_and_is_audited(
    settings, db
):
    ensure_user(db, "王敏", "duty")
    with db.transaction() as session:
        incident_id = make_incident(session, settings, LEAK).id
    with db.transaction() as session:
        set_fact(session, incident_id, "cause", "外包公司员工私自拷贝普查数据出售", "王敏")
    with db.sessions() as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        mentions = list(session.scalars(select(Mention).where(Mention.incident_id == incident_id)))
        cause = {f.field: f for f in sheet(session, settings, incident, mentions, False)}["cause"]
        assert (cause.state, cause.state_label) == (CONFIRMED, "已核实")
        assert cause.value == "外包公司员工私自拷贝普查数据出售"
        assert cause.author == "王敏" and cause.at is not None and cause.at <= clock.now()
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "incident.fact")
        ).one()
        assert entry.actor == "王敏" and entry.object_id == str(incident_id)
        assert entry.after == {"原因": "外包公司员工私自拷贝普查数据出售"}


def test_a_leader_may_not_change_the_fact_sheet(settings, db):
    ensure_user(db, "陈局长", "leader")
    with db.transaction() as session:
        incident_id = make_incident(session, settings, LEAK).id
    with pytest.raises(NotPermitted, match="核实事件要素"), db.transaction() as session:
        set_fact(session, incident_id, "cause", "不明", "陈局长")
    with db.sessions() as session:
        assert not session.scalars(
            select(AuditEntry).where(AuditEntry.action == "incident.fact")
        ).all()


def test_a_changed_field_of_a_reported_incident_goes_out_in_a_followup(settings, db):
    ensure_user(db, "王敏", "duty")
    with db.transaction() as session:
        incident = make_incident(session, settings, LEAK)
        override_level(session, settings, incident.id, "II", "王敏", "省级媒体已关注")
        incident_id = incident.id
        notify_all(session, settings, clock.now())
        assert session.scalars(
            select(Notice).where(Notice.incident_id == incident_id, Notice.stage == "initial")
        ).one()
    with db.transaction() as session:
        # Nothing changed: no 续报.
        notify_all(session, settings, clock.now())
        assert not session.scalars(select(Notice).where(Notice.stage == "followup")).all()
        set_fact(session, incident_id, "measures", "已报警，公安机关立案侦查", "王敏")
        notify_all(session, settings, clock.now())
    with db.sessions() as session:
        followup = session.scalars(select(Notice).where(Notice.stage == "followup")).one()
        assert followup.changes == ["处置措施：已报警，公安机关立案侦查（王敏核实）"]
        bodies = session.scalars(
            select(OutboxMessage.body).where(OutboxMessage.notice_id == followup.id)
        ).all()
        assert bodies
        for body in bodies:
            assert "本次核实更新" in body
            assert "八、处置措施：已报警，公安机关立案侦查（已核实，王敏）" in body
        incident = session.get(Incident, incident_id)
        assert incident is not None and not incident.facts_pending
    with db.transaction() as session:
        # Carried once: the next run sends nothing more.
        notify_all(session, settings, clock.now())
        assert len(session.scalars(select(Notice).where(Notice.stage == "followup")).all()) == 1


@pytest.mark.slow
def test_in_the_browser_duty_completes_three_fields_and_reads_them_in_the_followup(
    settings, db, live_server, chromium, screens
):
    ensure_user(db, "王敏", "duty")
    with db.transaction() as session:
        incident = make_incident(session, settings, LEAK)
        override_level(session, settings, incident.id, "II", "王敏", "省级媒体已关注")
        incident_id = incident.id
        notify_all(session, settings, clock.now())
    url = live_server.url
    page = chromium.new_page()
    log_in(page, url, "王敏")
    page.goto(f"{url}/incidents/{incident_id}")
    filled = {
        "原因": "外包公司员工私自拷贝普查数据出售",
        "损失情况": "约3万条住户信息外流，2名居民被骗共计4.3万元",
        "处置措施": "已报警，公安机关立案侦查；已暂停外包单位数据访问权限",
    }
    for name, value in filled.items():
        page.locator("#facts-form").get_by_label(name, exact=True).fill(value)
    page.get_by_role("button", name="保存核实的要素").click()
    page.get_by_text("已核实原因、损失情况、处置措施").wait_for()
    screens(page, "facts-confirmed")
    for name in filled:
        row = page.locator("table.facts tr", has_text=name).first
        assert "已核实" in row.inner_text() and "王敏" in row.inner_text()
    page.close()

    with db.transaction() as session:
        notify_all(session, settings, clock.now())
    with db.sessions() as session:
        bodies = session.scalars(
            select(OutboxMessage.body).where(
                OutboxMessage.incident_id == incident_id, OutboxMessage.stage == "followup"
            )
        ).all()
    assert bodies
    for body in bodies:
        assert "【舆情续报】" not in body  # the subject line is not part of the body
        for name, value in filled.items():
            assert f"{name}：{value}（王敏核实）" in body
            assert f"{value}（已核实，王敏）" in body
