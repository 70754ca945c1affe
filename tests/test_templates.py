"""Meta-tests: every reply and notice template renders; user templates stay in the sandbox."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from jinja2.exceptions import SecurityError

from responder.models import Incident
from responder.notices.report import Report
from responder.paths import TEMPLATES_DIR
from responder.rendering import render_string, render_text, split_subject
from responder.replies.approved import REPLIES_DIR
from responder.replies.drafts import draft_missing

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


def sample_incident(category: str) -> Incident:
    return Incident(
        title="示例事件",
        category=category,
        first_seen=NOW,
        last_seen=NOW,
        machine_level="II",
        score=80.0,
        fired_rules=[],
    )


@pytest.mark.parametrize("path", sorted(REPLIES_DIR.glob("[!_]*.txt.j2")), ids=lambda p: p.name)
def test_every_reply_template_renders_with_a_sample_context(path):
    text = render_string(
        path.read_text(encoding="utf-8"),
        office="临江县统计局",
        incident=sample_incident(path.name.removesuffix(".txt.j2")),
        category="信息泄露",
        level="重大（II级）",
        today="2026年11月21日",
        facts_contradicted=[
            {
                "kind": "contradicts_fact",
                "detail": "文中称GDP增长12%，官方数据为5.8%",
                "evidence": "2025年统计公报：原文",
            }
        ],
        debunks_matched=[
            {"kind": "matches_debunk", "detail": "相似", "evidence": "辟谣声明：不采集存款信息"}
        ],
    )
    assert "临江县统计局" in text and "示例事件" in text
    assert "官方数据为5.8%" in text and "不采集存款信息" in text


# Notices about several incidents, or about a message that failed, carry no report.
LIST_NOTICES = {"duty_batch.txt.j2", "digest.txt.j2", "delivery_failed.txt.j2"}
# Incident notices; the source-health ones (source_*) are tested in test_source_health.py.
INCIDENT_NOTICES = sorted(
    p.name
    for p in (TEMPLATES_DIR / "notices").glob("[!_]*")
    if not p.name.startswith("source_") and p.name not in LIST_NOTICES
)


@pytest.mark.parametrize("name", sorted(LIST_NOTICES))
def test_every_list_notice_has_a_subject_and_names_what_it_lists(name):
    item = {
        "level": "较大（III级）",
        "title": "示例事件",
        "category": "信息泄露",
        "mentions": 3,
        "first_seen": "2026-11-21 09:00",
        "link": "http://127.0.0.1/incidents/1",
        "ack_link": "http://127.0.0.1/ack/token",
    }
    subject, body = split_subject(
        render_text(
            f"notices/{name}",
            recipient="王敏",
            office="临江县统计局",
            items=[item],
            level_names="较大（III级）",
            since="2026-11-21 08:00",
            incidents_link="http://127.0.0.1/incidents",
            ack_hours="72",
            subject="【舆情预警】示例事件",
            target="duty_group",
            channel="群机器人",
            error="webhook duty_group: error 93000",
            created_at="2026-11-21 09:00",
            sent_at="2026-11-21 16:00",
        )
    )
    assert subject.startswith("【") and "王敏" in body and "临江县统计局" in body
    assert "示例事件" in subject + body


@pytest.mark.parametrize("name", INCIDENT_NOTICES)
def test_every_notice_template_has_a_subject_and_the_eight_report_fields(name):
    report = Report(
        time="t",
        place="p",
        cause="c",
        details="d",
        losses="l",
        scope="s",
        trend="tr",
        measures="m",
        level="重大（II级）",
        score=80,
        rules=["r"],
        official=["o"],
        links=["http://x.example/1"],
    )
    subject, body = split_subject(
        render_text(
            f"notices/{name}",
            recipient="陈局长",
            office="临江县统计局",
            incident=sample_incident("privacy_leak"),
            report=report,
            link="http://127.0.0.1/i/1",
            duty="王敏",
            sent_at="2026-11-21 16:00",
            ack_link="http://127.0.0.1/ack/token",
            ack_hours="72",
            reminder=None,
            spread=None,  # a re-alert on spread: (mentions at the last alert, mentions now)
            closed_at="",
            close_reason="",
        )
    )
    assert "示例事件" in subject
    assert "http://127.0.0.1/ack/token" in body
    for field in (
        "时间",
        "地点",
        "原因",
        "事件详情",
        "损失情况",
        "影响范围",
        "发展趋势",
        "处置措施",
    ):
        assert f"{field}：" in body


@pytest.mark.parametrize(
    "attack",
    [
        "{{ incident.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ incident._sa_instance_state }}",
    ],
)
def test_template_sandbox_refuses_escape_attempts(attack):
    with pytest.raises(SecurityError):
        render_string(attack, incident=sample_incident("general"))


def test_packaged_templates_seed_one_approved_version_per_category(settings, db):
    from sqlalchemy import select

    from responder.models import ResponseTemplate, TemplateVersion

    with db.transaction() as session:
        draft_missing(session, settings)
        draft_missing(session, settings)
        templates = session.scalars(select(ResponseTemplate)).all()
        versions = session.scalars(select(TemplateVersion)).all()
    assert len(templates) == len(list(REPLIES_DIR.glob("[!_]*.txt.j2"))) == len(versions)
    assert all(v.status == "approved" and v.version == 1 for v in versions)
