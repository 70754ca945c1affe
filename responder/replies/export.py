"""Approved drafts leave the system: copied, downloaded as .txt or .docx, or emailed to a media
contact through the outbox. Only approved drafts; each export is recorded on the draft and
audited."""

from __future__ import annotations

import io
import re

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt
from sqlalchemy.orm import Session

from responder import audit
from responder.accounts import require_role
from responder.audit import AuditAction
from responder.delivery.outbox import enqueue
from responder.labels import label
from responder.models import Draft, DraftEvent
from responder.replies.drafts import (
    REVIEWERS,
    DraftError,
    NotAllowed,
    NotApproved,
    get_draft,
    revision,
)
from responder.settings import Settings
from responder.statuses import DraftEventKind, DraftStatus

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _approved(session: Session, draft_id: int) -> Draft:
    draft = get_draft(session, draft_id)
    if draft.status != DraftStatus.APPROVED:
        raise NotApproved(
            f"只有已批准的草稿才能导出或发送（草稿 #{draft.id} 当前状态："
            f"{label('draft_status', draft.status)}）"
        )
    return draft


def _exported(session: Session, draft: Draft, actor: str, kind: DraftEventKind, how: str) -> None:
    session.add(DraftEvent(draft_id=draft.id, kind=kind, actor=actor, comment=how))
    audit.record(
        session,
        actor,
        AuditAction.DRAFT_EMAIL if kind == DraftEventKind.EMAILED else AuditAction.DRAFT_EXPORT,
        "draft",
        draft.id,
        after={"revision": revision(session, draft)},
        detail=how,
    )


def file_stem(draft: Draft) -> str:
    """A download name from the incident title, with anything but letters and digits dropped
    (titles are crawled text)."""
    title = re.sub(r"[^\w-]+", "", draft.incident.title)[:30]
    return f"应答口径-{title or '事件'}-草稿{draft.id}"


def record_copy(session: Session, draft_id: int, actor: str) -> None:
    """Copying to the clipboard happens in the browser; the page reports it so it is traced."""
    _exported(session, _approved(session, draft_id), actor, DraftEventKind.EXPORTED, "复制到剪贴板")


def export_text(session: Session, draft_id: int, actor: str) -> bytes:
    """UTF-8 with a BOM and CRLF line ends, so older Windows Notepad shows the Chinese right."""
    draft = _approved(session, draft_id)
    _exported(session, draft, actor, DraftEventKind.EXPORTED, "下载 .txt")
    return ("\ufeff" + draft.body.replace("\n", "\r\n")).encode("utf-8")


def export_docx(session: Session, draft_id: int, actor: str) -> bytes:
    """The first line as a centred title; a short closing block (office, date) right-aligned,
    as on an official letter."""
    draft = _approved(session, draft_id)
    _exported(session, draft, actor, DraftEventKind.EXPORTED, "下载 .docx")
    lines = _NOT_XML.sub("", draft.body).strip().split("\n")
    document = Document()
    normal = document.styles["Normal"]
    normal.font.name = "FangSong"
    normal.font.size = Pt(14)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "仿宋")
    document.core_properties.title = lines[0][:200]
    document.core_properties.author = actor
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(lines[0].strip())
    run.bold = True
    run.font.size = Pt(18)
    rest = lines[1:]
    last_blank = max((i for i, line in enumerate(rest) if not line.strip()), default=-1)
    closing = rest[last_blank + 1 :]
    signed = 0 < len(closing) <= 3 and all(len(line) <= 25 for line in closing)
    for i, line in enumerate(rest):
        if not line.strip():
            continue
        paragraph = document.add_paragraph(line.strip())
        if signed and i > last_blank:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        else:
            paragraph.paragraph_format.first_line_indent = Pt(28)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def email_to_media(
    session: Session, settings: Settings, draft_id: int, contact_email: str, actor: str
) -> bool:
    """Queue the approved text to a configured media contact; False when this revision was
    already queued for them (nothing is sent twice)."""
    require_role(session, actor, REVIEWERS, "向媒体发送应答口径", NotAllowed)
    draft = _approved(session, draft_id)
    contact = next((m for m in settings.recipients.media if m.email == contact_email), None)
    if contact is None:
        raise DraftError("请选择已配置的媒体联系人（recipients.yaml 的 media）")
    rev = revision(session, draft)
    subject = draft.body.strip().split("\n", 1)[0][:200]
    added = enqueue(
        session,
        f"media_reply:draft:{draft.id}:rev:{rev}:{contact.email}",
        contact.email,
        contact.name,
        subject,
        draft.body,
        "media_reply",
        incident_id=draft.incident_id,
    )
    if added:
        _exported(
            session,
            draft,
            actor,
            DraftEventKind.EMAILED,
            f"发送给 {contact.name} <{contact.email}>",
        )
    return added
