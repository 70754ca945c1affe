"""Review of reply drafts: edits keep a diff, the last editor cannot approve, only press
approves, only approved drafts leave (.txt, .docx, email), overdue drafts are flagged, and a
template that breaks out of the sandbox makes no draft."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime, timedelta

import pytest
from docx import Document
from sqlalchemy import func, select

from responder.intake.mentions import MentionRecord, store
from responder.models import (
    AuditEntry,
    Draft,
    DraftEvent,
    Incident,
    Judgement,
    OutboxMessage,
    ResponseTemplate,
    TemplateVersion,
)
from responder.replies import drafts
from responder.replies import export as draft_export
from responder.replies.approved import seed_templates
from responder.replies.diffs import diff_lines
from responder.replies.drafts import (
    DraftError,
    DraftRenderError,
    NotAllowed,
    NotApproved,
    StaleDraft,
)
from tests.webclient import ensure_user

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
XSS = '<script>alert("x")</script>'


def make_incident(db, title: str = "网传临江县普查登记信息被倒卖", mentions: int = 2) -> int:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        incident = Incident(
            title=title,
            category="privacy_leak",
            first_seen=NOW,
            last_seen=NOW,
            machine_level="II",
            mention_count=mentions,
        )
        session.add(incident)
        session.flush()
        for n in range(mentions):
            mention = store(
                session,
                MentionRecord(
                    url=f"http://x.example/{incident.id}/{n}",
                    title=f"{title}（{n}）",
                    text=f"有网友称临江县普查登记信息被倒卖，第{n}条相关帖子",
                    published_at=NOW,
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
                )
            )
        return incident.id


def make_draft(db, settings, title: str = "网传临江县普查登记信息被倒卖") -> int:  # type: ignore[no-untyped-def]
    incident_id = make_incident(db, title)
    with db.transaction() as session:
        made = drafts.draft_missing(session, settings)
        return next(d.id for d in made if d.incident_id == incident_id)


@pytest.fixture
def people(db):  # type: ignore[no-untyped-def]
    for name, role in [
        ("赵雪", "press"),
        ("钱明", "press"),
        ("王敏", "duty"),
        ("陈局长", "leader"),
        ("管理员", "admin"),
    ]:
        ensure_user(db, name, role)


def edited(db, draft_id: int, body: str, editor: str = "赵雪") -> None:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        drafts.edit(session, draft_id, body, editor)


def approved(db, settings, editor: str = "赵雪", reviewer: str = "钱明") -> int:  # type: ignore[no-untyped-def]
    draft_id = make_draft(db, settings)
    with db.transaction() as session:
        body = session.get(Draft, draft_id).body
    edited(db, draft_id, body + "\n联系电话：0000-12345678\n", editor)
    with db.transaction() as session:
        drafts.approve(session, draft_id, reviewer)
    return draft_id


def test_a_draft_pins_the_approved_template_version_it_was_made_from(settings, db):
    draft_id = make_draft(db, settings)
    with db.sessions() as session:
        draft = session.get(Draft, draft_id)
        assert draft.template_version.status == "approved"
        assert draft.template_version.template.category == "privacy_leak"
        assert "网传临江县普查登记信息被倒卖" in draft.body and "临江县统计局" in draft.body
        assert [e.kind for e in draft.events] == ["created"]


def test_an_edit_keeps_a_diff_and_names_the_last_editor(settings, db, people):
    draft_id = make_draft(db, settings)
    with db.transaction() as session:
        old = session.get(Draft, draft_id).body
        new = old.replace("高度重视", "高度重视并已报警", 1)
        # A browser sends CRLF: it must not show as every line changed.
        drafts.edit(session, draft_id, new.replace("\n", "\r\n"), "赵雪", note="补充报警情况")

    with db.sessions() as session:
        draft = session.get(Draft, draft_id)
        event = draft.events[-1]
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "draft.edit")).one()
    assert draft.body == new and draft.last_editor == "赵雪" and draft.status == "pending"
    assert event.kind == "edited" and event.actor == "赵雪" and event.comment == "补充报警情况"
    changed = [line[0] for line in event.diff.splitlines()[2:] if line[:1] in "+-"]
    assert event.diff.startswith("--- 修改前\n+++ 修改后") and changed == ["-", "+"]
    assert "+" + next(line for line in new.splitlines() if "已报警" in line) in event.diff
    assert audit.actor == "赵雪" and audit.object_id == str(draft_id)
    rows = diff_lines(event.diff)
    assert [r.kind for r in rows if r.kind in ("add", "remove")] == ["remove", "add"]
    added = next(r for r in rows if r.kind == "add")
    assert (True, "并已报警") in added.parts  # the changed characters, not the whole paragraph


def test_draft_cannot_be_approved_by_its_last_editor(settings, db, people):
    draft_id = make_draft(db, settings)
    edited(db, draft_id, "关于网传信息的说明\n\n经核实，该信息不实。\n")

    with db.transaction() as session, pytest.raises(NotAllowed, match="最后修改人"):
        drafts.approve(session, draft_id, "赵雪")

    with db.transaction() as session:
        assert session.get(Draft, draft_id).status == "pending"
        drafts.approve(session, draft_id, "钱明", "同意")
    with db.sessions() as session:
        draft = session.get(Draft, draft_id)
        assert draft.status == "approved"
        assert [e.kind for e in draft.events] == ["created", "edited", "approved"]
        assert draft.events[-1].actor == "钱明" and draft.events[-1].comment == "同意"


@pytest.mark.parametrize("who", ["王敏", "陈局长", "管理员", "无此人"])
def test_only_press_approves(settings, db, people, who):
    draft_id = make_draft(db, settings)
    with db.transaction() as session, pytest.raises(NotAllowed, match="宣传/审核"):
        drafts.approve(session, draft_id, who)
    with db.sessions() as session:
        assert session.get(Draft, draft_id).status == "pending"


def test_duty_may_edit_but_a_leader_may_not(settings, db, people):
    draft_id = make_draft(db, settings)
    edited(db, draft_id, "值班员修改后的正文\n", editor="王敏")
    with db.transaction() as session, pytest.raises(NotAllowed):
        drafts.edit(session, draft_id, "领导改的\n", "陈局长")
    with db.sessions() as session:
        assert session.get(Draft, draft_id).body == "值班员修改后的正文\n"


def test_editing_an_approved_draft_sends_it_back_to_review(settings, db, people):
    draft_id = approved(db, settings)
    edited(db, draft_id, "又改了一遍\n", editor="钱明")
    with db.sessions() as session:
        draft = session.get(Draft, draft_id)
        assert draft.status == "pending" and draft.last_editor == "钱明"
        assert "重新进入审核" in draft.events[-1].comment
    with db.transaction() as session, pytest.raises(NotApproved):
        draft_export.export_text(session, draft_id, "钱明")


def test_bad_edits_and_rejections_change_nothing(settings, db, people):
    draft_id = make_draft(db, settings)
    with db.sessions() as session:
        body = session.get(Draft, draft_id).body
    for text, message in [("   \n", "不能为空"), (body, "没有变化"), ("x" * 60_000, "过长")]:
        with db.transaction() as session, pytest.raises(DraftError, match=message):
            drafts.edit(session, draft_id, text, "赵雪")
    with db.transaction() as session, pytest.raises(DraftError, match="意见"):
        drafts.reject(session, draft_id, "钱明", "  ")
    with db.sessions() as session:
        assert session.get(Draft, draft_id).body == body
        assert session.scalar(select(func.count(DraftEvent.id))) == 1


def test_a_form_made_before_someone_elses_edit_changes_nothing(settings, db, people):
    draft_id = make_draft(db, settings)
    edited(db, draft_id, "赵雪的版本\n")  # revision 1; the reviewer's page showed revision 0

    with db.transaction() as session, pytest.raises(StaleDraft, match="赵雪"):
        drafts.approve(session, draft_id, "钱明", seen=0)
    with db.transaction() as session, pytest.raises(StaleDraft):
        drafts.edit(session, draft_id, "钱明覆盖\n", "钱明", seen=0)
    with db.transaction() as session:
        drafts.reject(session, draft_id, "钱明", "请补充处置措施", seen=1)
    with db.sessions() as session:
        draft = session.get(Draft, draft_id)
        assert draft.status == "rejected" and draft.body == "赵雪的版本\n"


def test_only_approved_drafts_are_exported_or_emailed(settings, db, people):
    draft_id = make_draft(db, settings)
    for export in (
        lambda s: draft_export.export_text(s, draft_id, "赵雪"),
        lambda s: draft_export.export_docx(s, draft_id, "赵雪"),
        lambda s: draft_export.record_copy(s, draft_id, "赵雪"),
        lambda s: draft_export.email_to_media(
            s, settings, draft_id, settings.recipients.media[0].email, "赵雪"
        ),
    ):
        with db.transaction() as session, pytest.raises(NotApproved, match="只有已批准"):
            export(session)
    with db.sessions() as session:
        assert session.scalar(select(func.count(OutboxMessage.id))) == 0
        assert session.scalar(select(func.count(DraftEvent.id))) == 1


def test_txt_and_docx_carry_the_approved_text_as_text(settings, db, people):
    draft_id = make_draft(db, settings, title=f"泄露{XSS}\x0b事件")
    with db.transaction() as session:
        body = session.get(Draft, draft_id).body
    edited(db, draft_id, body + f"\n附：{XSS}\n")
    with db.transaction() as session:
        drafts.approve(session, draft_id, "钱明")
        text = draft_export.export_text(session, draft_id, "钱明").decode("utf-8-sig")
        docx = draft_export.export_docx(session, draft_id, "钱明")

    assert XSS in text and "\r\n" in text
    paragraphs = [p.text for p in Document(io.BytesIO(docx)).paragraphs]
    assert paragraphs[0].startswith("关于")  # the title line
    assert f"附：{XSS}" in paragraphs and "临江县统计局" in paragraphs
    assert not any("\x0b" in p for p in paragraphs)  # XML cannot hold it; dropped, not a crash
    with db.sessions() as session:
        kinds = session.scalars(
            select(DraftEvent.comment).where(DraftEvent.kind == "exported")
        ).all()
        assert kinds == ["下载 .txt", "下载 .docx"]
        assert (
            session.scalar(
                select(func.count(AuditEntry.id)).where(AuditEntry.action == "draft.export")
            )
            == 2
        )


def test_email_to_media_queues_once_per_revision_and_contact(settings, db, people):
    draft_id = approved(db, settings)
    contact = settings.recipients.media[0]
    with db.transaction() as session:
        assert draft_export.email_to_media(session, settings, draft_id, contact.email, "赵雪")
        assert not draft_export.email_to_media(session, settings, draft_id, contact.email, "钱明")
        with pytest.raises(DraftError, match="媒体联系人"):
            draft_export.email_to_media(session, settings, draft_id, "evil@example.org", "钱明")
        with pytest.raises(NotAllowed):
            draft_export.email_to_media(session, settings, draft_id, contact.email, "王敏")
    with db.sessions() as session:
        message = session.scalars(select(OutboxMessage)).one()
        draft = session.get(Draft, draft_id)
        last = draft.events[-1]
    assert message.stage == "media_reply" and message.recipient == contact.email
    assert message.body == draft.body and message.incident_id == draft.incident_id
    assert message.subject.startswith("关于")
    assert last.kind == "emailed" and contact.name in last.comment

    # A new revision, approved again, may go out again.
    edited(db, draft_id, draft.body + "补充一句。\n", editor="钱明")
    with db.transaction() as session:
        drafts.approve(session, draft_id, "赵雪")
        assert draft_export.email_to_media(session, settings, draft_id, contact.email, "赵雪")


def test_an_unapproved_draft_is_overdue_after_the_configured_hours(settings, db):
    draft = Draft(status="pending", created_at=NOW)
    hours = settings.drafts.overdue_hours
    assert not drafts.overdue(draft, settings, NOW + timedelta(hours=hours) - timedelta(minutes=1))
    assert drafts.overdue(draft, settings, NOW + timedelta(hours=hours))
    draft.status = "rejected"
    assert drafts.overdue(draft, settings, NOW + timedelta(days=2))
    draft.status = "approved"
    assert not drafts.overdue(draft, settings, NOW + timedelta(days=2))
    assert drafts.age_text(NOW, NOW + timedelta(hours=5, minutes=20)) == "5小时20分钟"
    assert drafts.age_text(NOW, NOW + timedelta(days=1, hours=3)) == "1天3小时"


@pytest.mark.parametrize(
    "attack",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ incident.registry.mappers }}",  # the ORM object would lead here; the view has none
    ],
)
def test_a_template_that_escapes_the_sandbox_makes_no_draft(settings, db, attack, caplog):
    """A version put in force without the library's checks (straight into the database)."""
    incident_id = make_incident(db)
    with db.transaction() as session:
        seed_templates(session)
        template = session.scalar(
            select(ResponseTemplate).where(ResponseTemplate.category == "privacy_leak")
        )
        for version in template.versions:
            version.status = "retired"
        session.add(
            TemplateVersion(
                template_id=template.id,
                version=2,
                body=f"关于{{{{ incident.title }}}}的说明 {attack}",
                status="approved",
                author="x",
                approved_by="y",
            )
        )
    with db.transaction() as session, pytest.raises(DraftRenderError, match="无法为事件"):
        drafts.create_draft(session, settings, session.get(Incident, incident_id))

    with caplog.at_level(logging.ERROR, logger="responder.replies.drafts"):
        with db.transaction() as session:
            assert drafts.draft_missing(session, settings) == []
    assert f"no draft for incident {incident_id}" in caplog.text
    with db.sessions() as session:
        assert session.scalar(select(func.count(Draft.id))) == 0


def test_an_author_cannot_approve_after_someone_else_edits_last(settings, db, people):
    # 赵雪 rewrites the draft, 王敏 (duty) only appends "。": 赵雪 still wrote the text.
    draft_id = make_draft(db, settings)
    edited(db, draft_id, "关于网传信息的说明\n\n经核实，该信息不实\n", "赵雪")
    edited(db, draft_id, "关于网传信息的说明\n\n经核实，该信息不实。\n", "王敏")

    with db.transaction() as session, pytest.raises(NotAllowed, match="修改过这份草稿"):
        drafts.approve(session, draft_id, "赵雪")

    with db.transaction() as session:
        drafts.approve(session, draft_id, "钱明", "同意")
        assert session.get(Draft, draft_id).status == "approved"
