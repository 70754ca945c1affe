"""Reply drafts (应答口径) from the approved template version of the incident's category, and
their review: edits kept as diffs (修改痕迹), approval by a press user who is not the last
editor, and export (.txt, .docx, email to a media contact) of approved drafts only.

The packaged templates in `templates/replies/` are imported as approved version 1 of each
category's entry the first time they are needed; people version them afterwards
(`responder.replies.library`).
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from responder import accounts, audit, clock
from responder.accounts import require_role
from responder.audit import AuditAction
from responder.errors import DomainError
from responder.incidents.severity import level_rank
from responder.incidents.summary import summarise
from responder.labels import label
from responder.models import (
    Draft,
    DraftEvent,
    Incident,
    Judgement,
    Mention,
)
from responder.rendering import IncidentView, render_string
from responder.replies.approved import approved_version, seed_templates
from responder.replies.diffs import unified_diff
from responder.settings import Settings
from responder.statuses import DraftEventKind, DraftStatus, IncidentStatus

log = logging.getLogger(__name__)
EDITORS = accounts.EDIT_DRAFTS
REVIEWERS = accounts.REVIEW_DRAFTS
MAX_BODY = 50_000


class DraftError(DomainError, ValueError):
    """A change to a draft that cannot be made; nothing was changed."""


class NotAllowed(DraftError):
    """The person may not do this (role, or approving their own edit)."""


class NotApproved(DraftError):
    """Only approved drafts leave the building."""


class StaleDraft(DraftError):
    """Someone changed the draft after the person loaded it."""


class DraftRenderError(DraftError):
    """The approved template failed to render for this incident (sandbox refusal, bad data)."""


def reply_context(
    settings: Settings,
    incident: IncidentView,
    reasons: list[dict[str, object]],
    summary: list[str] | None = None,
) -> dict[str, object]:
    """The names a reply template sees; `template_library` renders proposals with a sample.
    `summary` is the incident's extractive summary, one "sentence（source）" each."""
    return {
        "office": settings.office_name,
        "incident": incident,
        "category": label("categories", incident.category),
        "level": label("levels", incident.level),
        "today": clock.now().astimezone(settings.tz).strftime("%Y年%m月%d日"),
        "facts_contradicted": [r for r in reasons if r["kind"] == "contradicts_fact"],
        "debunks_matched": [r for r in reasons if r["kind"] == "matches_debunk"],
        "summary": list(summary or []),
    }


def draft_context(
    settings: Settings, incident: Incident, mentions: list[Mention]
) -> dict[str, object]:
    reasons = [r for m in mentions if m.judgement for r in m.judgement.misinfo_reasons]
    summary = [s.cited for s in summarise(mentions, settings)]
    return reply_context(settings, IncidentView.of(incident, settings.tz), reasons, summary)


def tidy(text: str) -> str:
    """Rendered text without the runs of blank lines that empty `{% for %}` blocks leave."""
    return re.sub(r"\n[ \t]*(?:\n[ \t]*)+\n", "\n\n", text).strip("\n") + "\n"


def create_draft(
    session: Session,
    settings: Settings,
    incident: Incident,
    actor: str = "system",
    reason: str = "level",
) -> Draft:
    version = approved_version(session, incident.category)
    mentions = session.scalars(select(Mention).where(Mention.incident_id == incident.id)).all()
    try:
        body = tidy(
            render_string(version.body, **draft_context(settings, incident, list(mentions)))
        )
    except Exception as exc:
        # The template is code a person wrote. A sandbox refusal (SecurityError) means a
        # version got in without the library's checks; anything else is data the sample
        # incident did not have. Either way this incident gets no draft, and the reason.
        raise DraftRenderError(
            f"模板 v{version.version} 无法为事件 #{incident.id} 生成草稿：{exc}"
        ) from exc
    draft = Draft(
        incident_id=incident.id,
        template_version_id=version.id,
        body=body,
        last_editor=actor,
        reason=reason,
    )
    session.add(draft)
    session.flush()
    session.add(
        DraftEvent(
            draft_id=draft.id,
            kind=DraftEventKind.CREATED,
            actor=actor,
            comment=f"模板版本 v{version.version}",
        )
    )
    audit.record(
        session,
        actor,
        AuditAction.DRAFT_CREATE,
        "draft",
        draft.id,
        after={"incident_id": incident.id, "template_version_id": version.id},
    )
    return draft


def draft_reason(session: Session, settings: Settings, incident: Incident) -> str | None:
    """Why the incident needs a reply by itself: its level, or a misinformation finding (a
    rumour or false figure going round needs the office's answer at any level); None when it
    needs none unless someone asks (`request_draft`)."""
    if level_rank(incident.level) >= level_rank(settings.drafts.from_level):
        return "level"
    flagged = session.scalar(
        select(Judgement.id)
        .join(Mention, Mention.id == Judgement.mention_id)
        .where(Mention.incident_id == incident.id, Judgement.misinfo.is_(True))
        .limit(1)
    )
    return "misinfo" if flagged is not None else None


def draft_missing(session: Session, settings: Settings, actor: str = "system") -> list[Draft]:
    """A draft for every open incident that needs one and has none yet. An incident whose
    template does not render is logged and retried on the next run; it does not hold up the
    others."""
    seed_templates(session)
    without = session.scalars(
        select(Incident).where(
            Incident.status == IncidentStatus.OPEN,
            ~select(Draft.id).where(Draft.incident_id == Incident.id).exists(),
        )
    ).all()
    made = []
    for incident in without:
        reason = draft_reason(session, settings, incident)
        if reason is None:
            continue
        try:
            # Rendering comes before anything is added, so a failure leaves no half draft.
            made.append(create_draft(session, settings, incident, actor, reason))
        except DraftRenderError as exc:
            log.error("no draft for incident %s: %s", incident.id, exc)
    return made


def request_draft(session: Session, settings: Settings, incident_id: int, actor: str) -> Draft:
    """A draft asked for on the incident page (生成应答草稿), for an incident that has none."""
    require_role(session, actor, EDITORS, "生成应答草稿", NotAllowed)
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise DraftError(f"没有事件 #{incident_id}")
    if incident.status != IncidentStatus.OPEN:
        raise DraftError("事件已不在处置中，不能再生成应答草稿")
    if session.scalar(select(Draft.id).where(Draft.incident_id == incident_id).limit(1)):
        raise DraftError("该事件已有应答草稿")
    seed_templates(session)
    try:
        return create_draft(session, settings, incident, actor, "requested")
    except DraftRenderError as exc:
        raise DraftError(str(exc)) from exc


# --- review ---------------------------------------------------------------------------------


def get_draft(session: Session, draft_id: int) -> Draft:
    draft = session.get(Draft, draft_id)
    if draft is None:
        raise DraftError(f"没有草稿 #{draft_id}")
    return draft


def revision(session: Session, draft: Draft) -> int:
    """How many times the draft was edited: forms carry it so nobody approves, or overwrites,
    a text they have not seen."""
    return int(
        session.scalar(
            select(func.count(DraftEvent.id)).where(
                DraftEvent.draft_id == draft.id, DraftEvent.kind == DraftEventKind.EDITED
            )
        )
        or 0
    )


def _fresh(session: Session, draft: Draft, seen: int | None) -> None:
    if seen is not None and seen != revision(session, draft):
        raise StaleDraft(
            f"草稿已被 {draft.last_editor} 修改过，请查看最新内容后再操作（本次操作未生效）"
        )


def edit(
    session: Session,
    draft_id: int,
    body: str,
    editor: str,
    note: str = "",
    seen: int | None = None,
) -> DraftEvent:
    """Replace the text, keeping a unified diff; an approved or rejected draft goes back to
    review, since what was approved is no longer what would be sent."""
    draft = get_draft(session, draft_id)
    require_role(session, editor, EDITORS, "修改草稿", NotAllowed)
    _fresh(session, draft, seen)
    body = body.replace("\r\n", "\n").replace("\r", "\n").rstrip() + "\n"
    if not body.strip():
        raise DraftError("草稿内容不能为空")
    if len(body) > MAX_BODY:
        raise DraftError(f"草稿过长（{len(body)} 字），上限 {MAX_BODY} 字")
    if body == draft.body:
        raise DraftError("内容没有变化，未保存")
    before = {"status": draft.status, "last_editor": draft.last_editor}
    diff = unified_diff(draft.body, body)
    draft.body = body
    draft.last_editor = editor
    note = note.strip()
    if draft.status != DraftStatus.PENDING:
        note = f"{note}（{label('draft_status', draft.status)}的草稿修改后重新进入审核）".lstrip()
        draft.status = DraftStatus.PENDING
    event = DraftEvent(
        draft_id=draft.id, kind=DraftEventKind.EDITED, actor=editor, comment=note, diff=diff
    )
    session.add(event)
    session.flush()
    audit.record(
        session,
        editor,
        AuditAction.DRAFT_EDIT,
        "draft",
        draft.id,
        before=before,
        after={"status": draft.status, "last_editor": editor},
        detail=note,
    )
    return event


def authors(session: Session, draft: Draft) -> set[str]:
    """Everyone who changed the text since it was last approved, not only its last editor:
    otherwise an author could have someone append "。" and then approve her own wording. Text
    approved before was already passed by someone who did not write it."""
    last_approval = (
        select(func.max(DraftEvent.id))
        .where(DraftEvent.draft_id == draft.id, DraftEvent.kind == DraftEventKind.APPROVED)
        .scalar_subquery()
    )
    edited = select(DraftEvent.actor).where(
        DraftEvent.draft_id == draft.id,
        DraftEvent.kind == DraftEventKind.EDITED,
        DraftEvent.id > func.coalesce(last_approval, 0),
    )
    return {draft.last_editor, *session.scalars(edited)} - {"", "system"}


def approve(
    session: Session, draft_id: int, reviewer: str, comment: str = "", seen: int | None = None
) -> None:
    draft = get_draft(session, draft_id)
    require_role(session, reviewer, REVIEWERS, "批准草稿", NotAllowed)
    _pending(draft, "批准")
    if reviewer in authors(session, draft):
        raise NotAllowed(
            "您修改过这份草稿（作为最后修改人或此前的修改人），不能批准自己修改的内容，"
            "请由另一位宣传/审核人员审核"
        )
    _decide(session, draft, reviewer, comment, seen, DraftStatus.APPROVED)


def reject(
    session: Session, draft_id: int, reviewer: str, comment: str, seen: int | None = None
) -> None:
    draft = get_draft(session, draft_id)
    require_role(session, reviewer, REVIEWERS, "退回草稿", NotAllowed)
    _pending(draft, "退回")
    if not comment.strip():
        raise DraftError("退回时请填写意见，说明需要怎样修改")
    _decide(session, draft, reviewer, comment, seen, DraftStatus.REJECTED)


def _pending(draft: Draft, doing: str) -> None:
    if draft.status != DraftStatus.PENDING:
        raise DraftError(f"草稿当前状态为“{label('draft_status', draft.status)}”，不能{doing}")


# A reviewer's decision: the draft's new status, its history event and its audit action.
_DECISIONS = {
    DraftStatus.APPROVED: (DraftEventKind.APPROVED, AuditAction.DRAFT_APPROVE),
    DraftStatus.REJECTED: (DraftEventKind.REJECTED, AuditAction.DRAFT_REJECT),
}


def _decide(
    session: Session,
    draft: Draft,
    reviewer: str,
    comment: str,
    seen: int | None,
    status: DraftStatus,
) -> None:
    _fresh(session, draft, seen)
    kind, action = _DECISIONS[status]
    draft.status = status
    session.add(DraftEvent(draft_id=draft.id, kind=kind, actor=reviewer, comment=comment.strip()))
    audit.transition(
        session, reviewer, action, "draft", draft.id, DraftStatus.PENDING, status, comment.strip()
    )


def overdue(draft: Draft, settings: Settings, now: datetime) -> bool:
    """Not yet approved and older than `drafts.overdue_hours`."""
    return draft.status != DraftStatus.APPROVED and now - draft.created_at >= timedelta(
        hours=settings.drafts.overdue_hours
    )


def age_text(since: datetime, now: datetime) -> str:
    minutes = max(0, int((now - since).total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时"
    return f"{hours}小时{minutes}分钟" if hours else f"{minutes}分钟"
