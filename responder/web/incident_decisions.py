"""What people decide on an incident's page: level override, merge, split, close, reopen, a
reply draft asked for, and the acknowledgement of its notices.

The decisions live in responder.incidents.actions. A refused one raises IncidentActionError
before it changes anything, and the transaction rolls back; the app's DomainError handler
flashes its message on the incident's page.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from responder import accounts, clock
from responder.incidents.actions import close, merge, override_level, reopen, split
from responder.incidents.views import level_of
from responder.labels import label
from responder.models import Notice, User
from responder.notices.acks import acknowledge
from responder.notices.follow import SOON, final_follows, follow_change
from responder.replies import drafts as draft_rules
from responder.settings import Settings
from responder.web.core import BadForm, flash, guard, refused_returns_to, web_of, whole_number

DECIDE = accounts.DECIDE_INCIDENTS
ACKNOWLEDGE = accounts.ACKNOWLEDGE

# Each decision reads its form, calls the domain, and says what happened and where to go next.
Decision = Callable[[Session, Settings, int, FormData, str], tuple[str, str]]


def _override(
    session: Session, settings: Settings, incident_id: int, form: FormData, actor: str
) -> tuple[str, str]:
    reason = str(form.get("reason", ""))
    before = level_of(session, incident_id)
    if form.get("clear"):
        done = override_level(session, settings, incident_id, None, actor, reason)
        said = f"已清除人工定级，恢复机器定级 {label('levels', done.level)}"
    else:
        level = str(form.get("level", "")).strip()
        if not level:
            raise BadForm("请选择级别")
        done = override_level(session, settings, incident_id, level, actor, reason)
        said = f"已将事件 #{incident_id} 人工定为 {label('levels', done.level)}"
    if follow_change(done, before):
        said += f"；{SOON}"
    return said, f"/incidents/{incident_id}"


def _merge(
    session: Session, settings: Settings, incident_id: int, form: FormData, actor: str
) -> tuple[str, str]:
    # A number typed in wins over the list, which only offers recent incidents.
    chosen = str(form.get("target_id", "")).strip() or str(form.get("target", "")).strip()
    if not chosen:
        raise BadForm("请选择要并入的事件")
    target_id = whole_number(chosen.lstrip("#"))
    if target_id is None:
        raise BadForm(f"事件编号“{chosen}”应为数字")
    before = level_of(session, target_id)
    target = merge(session, settings, incident_id, target_id, actor, str(form.get("reason", "")))
    said = f"已将事件 #{incident_id} 并入事件 #{target.id}"
    if follow_change(target, before):
        said += f"，合并后级别升为 {label('levels', target.level)}；{SOON}"
    return said, f"/incidents/{target.id}"


def _split(
    session: Session, settings: Settings, incident_id: int, form: FormData, actor: str
) -> tuple[str, str]:
    numbers = [whole_number(str(v)) for v in form.getlist("mention")]
    ids = [n for n in numbers if n is not None]
    if len(ids) != len(numbers):
        raise BadForm("信息编号无效")
    new = split(
        session,
        settings,
        incident_id,
        ids,
        actor,
        str(form.get("reason", "")),
        title=str(form.get("title", "")),
    )
    return f"已将 {len(ids)} 条信息拆分为新事件 #{new.id}", f"/incidents/{incident_id}"


def _close(
    session: Session, settings: Settings, incident_id: int, form: FormData, actor: str
) -> tuple[str, str]:
    done = close(session, settings, incident_id, actor, str(form.get("reason", "")))
    return (
        f"已关闭事件 #{done.id}"
        + ("；终报将在一分钟内发出" if final_follows(session, done.id) else ""),
        f"/incidents/{incident_id}",
    )


def _reopen(
    session: Session, settings: Settings, incident_id: int, form: FormData, actor: str
) -> tuple[str, str]:
    done = reopen(session, settings, incident_id, actor, str(form.get("reason", "")))
    return f"已重新打开事件 #{done.id}", f"/incidents/{incident_id}"


async def _decided(request: Request, user: User, decide: Decision) -> Response:
    web = web_of(request)
    incident_id = int(request.path_params["incident_id"])
    form = await request.form()
    refused_returns_to(request, f"/incidents/{incident_id}")
    with web.db.transaction() as session:
        said, go = decide(session, web.settings, incident_id, form, user.name)
    flash(request, said)
    return RedirectResponse(go, status_code=303)


async def incident_level(request: Request, user: User) -> Response:
    return await _decided(request, user, _override)


async def incident_merge(request: Request, user: User) -> Response:
    return await _decided(request, user, _merge)


async def incident_split(request: Request, user: User) -> Response:
    return await _decided(request, user, _split)


async def incident_close(request: Request, user: User) -> Response:
    return await _decided(request, user, _close)


async def incident_reopen(request: Request, user: User) -> Response:
    return await _decided(request, user, _reopen)


async def ask_for_draft(request: Request, user: User) -> Response:
    web = web_of(request)
    incident_id = int(request.path_params["incident_id"])
    refused_returns_to(request, f"/incidents/{incident_id}")
    with web.db.transaction() as session:
        draft = draft_rules.request_draft(session, web.settings, incident_id, user.name)
    flash(request, f"已生成应答草稿 #{draft.id}，请修改后提交宣传/审核人员批准")
    return RedirectResponse(f"/drafts/{draft.id}", status_code=303)


async def ack(request: Request, user: User) -> Response:
    incident_id = int(request.path_params["incident_id"])
    notice_id = int(request.path_params["notice_id"])
    refused_returns_to(request, f"/incidents/{incident_id}")
    with web_of(request).db.transaction() as session:
        notice = session.get(Notice, notice_id)
        if notice is None or notice.incident_id != incident_id:
            flash(request, f"事件 #{incident_id} 没有通知 #{notice_id}", "error")
        else:
            waiting = notice.next_step_at is not None
            what = f"{label('stages', notice.stage)} · {label('levels', notice.level)}"
            if acknowledge(session, notice, user.name, clock.now(), via="web"):
                flash(
                    request,
                    f"已确认收到通知 #{notice.id}（{what}）"
                    + ("，不再重复提醒和逐级上报" if waiting else ""),
                )
            else:
                flash(request, f"通知 #{notice.id} 已由 {notice.acknowledged_by} 确认", "error")
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)


BASE = "/incidents/{incident_id:id}"
routes = [
    Route(f"{BASE}/level", guard(incident_level, DECIDE), methods=["POST"]),
    Route(f"{BASE}/merge", guard(incident_merge, DECIDE), methods=["POST"]),
    Route(f"{BASE}/split", guard(incident_split, DECIDE), methods=["POST"]),
    Route(f"{BASE}/close", guard(incident_close, DECIDE), methods=["POST"]),
    Route(f"{BASE}/reopen", guard(incident_reopen, DECIDE), methods=["POST"]),
    Route(f"{BASE}/draft", guard(ask_for_draft, draft_rules.EDITORS), methods=["POST"]),
    Route(f"{BASE}/notices/{{notice_id:id}}/ack", guard(ack, ACKNOWLEDGE), methods=["POST"]),
]
