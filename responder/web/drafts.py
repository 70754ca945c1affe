"""The reply drafts pages: the review queue, one draft with its editor, history (修改痕迹),
approval, and export of approved drafts (.txt, .docx, clipboard, email to a media contact).

Roles: press (宣传/审核) edits, approves and rejects, and emails replies to the media; duty
officers (值班员) may edit too, since they hold the facts of the night, but never approve;
leaders and administrators read and download approved text. The rules themselves live in
`responder.replies.drafts`; this module only maps them to pages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from responder import clock
from responder.models import Draft, DraftEvent, TemplateVersion, User
from responder.replies import drafts, queue
from responder.replies import export as draft_export
from responder.replies.approved import NoApprovedTemplate, approved_version
from responder.replies.diffs import diff_lines
from responder.replies.drafts import DraftError
from responder.statuses import DraftEventKind, DraftStatus
from responder.web.core import flash, guard, refused_returns_to, web_of, whole_number

STATUSES = (DraftStatus.PENDING, DraftStatus.REJECTED, DraftStatus.APPROVED)
QUEUE_SIZE = 200
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def index(request: Request, user: User) -> Response:
    web = web_of(request)
    wanted = request.query_params.get("status", "")
    if wanted and wanted not in (*STATUSES, "overdue"):
        raise HTTPException(400, f"未知的状态筛选 {wanted!r}")
    now = clock.now()
    with web.db.sessions() as session:
        rows = queue.queue(session, wanted if wanted in STATUSES else None, QUEUE_SIZE)
    late = {d.id: drafts.overdue(d, web.settings, now) for d in rows}
    if wanted == "overdue":
        rows = [d for d in rows if late[d.id]]
    # The queue: waiting drafts first, oldest (most urgent) at the top; approved last,
    # newest first.
    rows.sort(
        key=lambda d: (
            STATUSES.index(d.status) if d.status in STATUSES else 9,
            d.created_at.timestamp() * (-1 if d.status == DraftStatus.APPROVED else 1),
        )
    )
    ages = {d.id: drafts.age_text(d.created_at, now) for d in rows}
    return web.render(
        request,
        "drafts.html",
        user=user,
        drafts=rows,
        overdue=late,
        ages=ages,
        wanted=wanted,
        overdue_hours=web.settings.drafts.overdue_hours,
    )


def _show(
    request: Request, user: User, draft_id: int, status: int = 200, body: str | None = None
) -> Response:
    web = web_of(request)
    settings = web.settings
    now = clock.now()
    with web.db.sessions() as session:
        draft = _load(session, draft_id)
        events = queue.events(session, draft.id)
        # Local: a category with no approved template yet shows none in force; no refusal.
        try:
            current: TemplateVersion | None = approved_version(session, draft.incident.category)
        except NoApprovedTemplate:
            current = None
        context: dict[str, Any] = {
            "draft": draft,
            "incident": draft.incident,
            "pinned": draft.template_version,
            "template": draft.template_version.template,
            "current": current,
            "events": [(e, diff_lines(e.diff) if e.diff else []) for e in events],
            "revision": drafts.revision(session, draft),
            "decision": _decision(events),
            "overdue": drafts.overdue(draft, settings, now),
            "age": drafts.age_text(draft.created_at, now),
            "body": draft.body if body is None else body,
            "media": settings.recipients.media,
            "can_edit": user.role in drafts.EDITORS,
            "can_review": user.role in drafts.REVIEWERS,
            "is_author": user.name in drafts.authors(session, draft),
            "can_email": user.role in drafts.REVIEWERS,
        }
        return web.render(request, "draft.html", status=status, user=user, **context)


async def detail(request: Request, user: User) -> Response:
    return _show(request, user, request.path_params["draft_id"])


async def save(request: Request, user: User) -> Response:
    draft_id = request.path_params["draft_id"]
    form = await request.form()
    body = str(form.get("body", ""))
    try:
        with web_of(request).db.transaction() as session:
            drafts.edit(
                session,
                draft_id,
                body,
                user.name,
                note=str(form.get("note", "")),
                seen=_seen(form.get("seen")),
            )
    except DraftError as exc:
        # Local, not the app's handler: the page again with the person's text in the editor,
        # so nothing they typed is lost.
        flash(request, str(exc), "error")
        return _show(request, user, draft_id, status=409, body=body)
    flash(request, "已保存修改，修改痕迹已记录")
    return _back(draft_id)


async def _review(
    request: Request, user: User, decide: Callable[..., object], done: str
) -> Response:
    """Approve or reject (`decide`) with the reviewer's comment and the version they saw."""
    draft_id = request.path_params["draft_id"]
    form = await request.form()
    return _decide(
        request,
        draft_id,
        lambda session: decide(
            session,
            draft_id,
            user.name,
            str(form.get("comment", "")),
            seen=_seen(form.get("seen")),
        ),
        done,
    )


async def approve(request: Request, user: User) -> Response:
    return await _review(request, user, drafts.approve, "已批准，现在可以导出或发送")


async def reject(request: Request, user: User) -> Response:
    return await _review(request, user, drafts.reject, "已退回，修改后将重新进入审核")


async def email(request: Request, user: User) -> Response:
    web = web_of(request)
    draft_id = request.path_params["draft_id"]
    form = await request.form()
    contact = str(form.get("contact", ""))
    refused_returns_to(request, f"/drafts/{draft_id}")
    with web.db.transaction() as session:
        added = draft_export.email_to_media(session, web.settings, draft_id, contact, user.name)
    flash(
        request,
        "已加入发送队列，发送结果见事件页的投递记录"
        if added
        else "这一版本已经发给该联系人，未重复发送",
        "ok" if added else "error",
    )
    return _back(draft_id)


async def export(request: Request, user: User) -> Response:
    draft_id = request.path_params["draft_id"]
    kind = str((await request.form()).get("format", ""))
    if kind not in ("txt", "docx"):
        raise HTTPException(400, "未知的导出格式")
    # A draft not approved is refused with a 400 page (the app's DomainError handler).
    with web_of(request).db.transaction() as session:
        draft = _load(session, draft_id)
        stem = draft_export.file_stem(draft)
        if kind == "txt":
            data = draft_export.export_text(session, draft_id, user.name)
        else:
            data = draft_export.export_docx(session, draft_id, user.name)
    media_type = "text/plain; charset=utf-8" if kind == "txt" else DOCX
    return Response(
        data,
        media_type=media_type,
        headers={"content-disposition": _attachment(f"draft-{draft_id}.{kind}", stem, kind)},
    )


async def copied(request: Request, user: User) -> Response:
    draft_id = request.path_params["draft_id"]
    with web_of(request).db.transaction() as session:
        _load(session, draft_id)
        draft_export.record_copy(session, draft_id, user.name)
    return Response(status_code=204)


def _decide(request: Request, draft_id: int, change: Any, done: str) -> Response:
    refused_returns_to(request, f"/drafts/{draft_id}")
    with web_of(request).db.transaction() as session:
        _load(session, draft_id)
        change(session)
    flash(request, done)
    return _back(draft_id)


EVERYONE = None
routes = [
    Route("/drafts", guard(index, EVERYONE)),
    Route("/drafts/{draft_id:id}", guard(detail, EVERYONE)),
    Route("/drafts/{draft_id:id}/edit", guard(save, drafts.EDITORS), methods=["POST"]),
    Route("/drafts/{draft_id:id}/approve", guard(approve, drafts.REVIEWERS), methods=["POST"]),
    Route("/drafts/{draft_id:id}/reject", guard(reject, drafts.REVIEWERS), methods=["POST"]),
    Route("/drafts/{draft_id:id}/email", guard(email, drafts.REVIEWERS), methods=["POST"]),
    Route("/drafts/{draft_id:id}/export", guard(export, EVERYONE), methods=["POST"]),
    Route("/drafts/{draft_id:id}/copied", guard(copied, EVERYONE), methods=["POST"]),
]


def _load(session: Session, draft_id: int) -> Draft:
    draft = queue.find(session, draft_id)
    if draft is None:
        raise HTTPException(404, "没有这份草稿")
    return draft


def _decision(events: Sequence[DraftEvent]) -> DraftEvent | None:
    """The approval or rejection in force: the last one, unless an edit came after it."""
    last = next(
        (
            e
            for e in reversed(events)
            if e.kind in (DraftEventKind.APPROVED, DraftEventKind.REJECTED, DraftEventKind.EDITED)
        ),
        None,
    )
    return last if last is not None and last.kind != DraftEventKind.EDITED else None


def _seen(value: object) -> int | None:
    """The revision the form was made from; a form without one (an old page) skips the check."""
    if value in (None, ""):
        return None
    number = whole_number(str(value), minimum=0)
    if number is None:
        raise HTTPException(400, "表单数据有误，请刷新页面后重试")
    return number


def _back(draft_id: int) -> RedirectResponse:
    return RedirectResponse(f"/drafts/{draft_id}", status_code=303)


def _attachment(fallback: str, stem: str, kind: str) -> str:
    """An ASCII name for old clients and the Chinese one (RFC 6266 / 5987) for the rest."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(f'{stem}.{kind}')}"
