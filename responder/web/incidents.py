"""The incident pages: the list with its filters, and one incident with what people decide
about it (level override, merge, split, close, reopen) and the acknowledgement of its notices.

The decisions live in responder.incidents.actions. A refused one raises IncidentActionError
before it changes anything, and the transaction rolls back; the app's DomainError handler
flashes its message on the incident's page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from responder import accounts, clock
from responder.errors import DomainError
from responder.incidents import views
from responder.incidents.actions import (
    close,
    merge,
    override_level,
    reopen,
    split,
)
from responder.incidents.facts import sheet
from responder.incidents.hotlists import hot_listings
from responder.incidents.severity import LEVELS
from responder.incidents.spread import over_time
from responder.incidents.summary import summarise
from responder.incidents.tasks import tasks_of
from responder.incidents.views import STATUSES, level_of
from responder.labels import label, labels
from responder.models import (
    DeliveryAttempt,
    Draft,
    Incident,
    Notice,
    OutboxMessage,
    User,
)
from responder.notices.acks import acknowledge
from responder.notices.follow import SOON, follow_change
from responder.replies import drafts as draft_rules
from responder.running.day import unacknowledged_notices
from responder.settings import Settings
from responder.statuses import IncidentStatus
from responder.web.audit_log import readable_changes
from responder.web.core import Endpoint, Web, flash, guard, refused_returns_to, whole_number

DECIDE = accounts.DECIDE_INCIDENTS
COMPLETE = accounts.COMPLETE_FACTS
ACKNOWLEDGE = accounts.ACKNOWLEDGE
PAGE_SIZE = 50
# Merge targets offered in the form: open incidents seen in the last days (any other open one
# can still be given by its number).
MERGE_DAYS = 7
LIST_PARAMS = ("status", "level", "category", "since", "waiting")


class BadForm(DomainError, ValueError):
    """A form field the page cannot read (an incident number that is no number, say)."""


@dataclass(frozen=True)
class ListFilter:
    status: str = IncidentStatus.OPEN
    level: str = ""
    category: str = ""
    page: int = 1
    since: datetime | None = None  # first seen from then on (the dashboard's new incidents)
    waiting: str = ""  # "ack": with a notice nobody has acknowledged yet


def _since(raw: str, settings: Settings) -> datetime | None:
    if not raw:
        return None
    try:
        found = datetime.fromisoformat(raw)
    except ValueError:
        raise BadForm(f"时间“{raw}”无效，应为 2026-01-31 或 2026-01-31T08:30") from None
    return found if found.tzinfo else found.replace(tzinfo=settings.tz)


def parse_list_filter(params: Mapping[str, str], settings: Settings) -> ListFilter:
    status = params.get("status", IncidentStatus.OPEN) or IncidentStatus.OPEN
    level = params.get("level", "")
    category = params.get("category", "")
    page = params.get("page", "1") or "1"
    if status != "all" and status not in STATUSES:
        raise BadForm(f"没有“{status}”这种状态，可选：处置中、已关闭、已合并、全部")
    if level and level not in LEVELS:
        raise BadForm(f"没有级别“{level}”，可选 {'、'.join(reversed(LEVELS))}")
    if category and category not in labels()["categories"]:
        raise BadForm(f"没有“{category}”这个类别，请从列表中选择")
    number = whole_number(page)
    if number is None:
        raise BadForm(f"页码“{page}”无效，应为正整数")
    waiting = params.get("waiting", "")
    if waiting not in ("", "ack"):
        raise BadForm(f"没有“{waiting}”这种待办，可选：ack（待确认通知）")
    return ListFilter(
        status=status,
        level=level,
        category=category,
        page=number,
        since=_since(params.get("since", ""), settings),
        waiting=waiting,
    )


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
    # The 终报 goes only to those who had the 初报 or a 续报.
    told = session.scalar(
        select(Notice.id)
        .where(Notice.incident_id == done.id, Notice.stage.in_(("initial", "followup")))
        .limit(1)
    )
    return (
        f"已关闭事件 #{done.id}" + ("；终报将在一分钟内发出" if told else ""),
        f"/incidents/{incident_id}",
    )


def _reopen(
    session: Session, settings: Settings, incident_id: int, form: FormData, actor: str
) -> tuple[str, str]:
    done = reopen(session, settings, incident_id, actor, str(form.get("reason", "")))
    return f"已重新打开事件 #{done.id}", f"/incidents/{incident_id}"


DECISIONS: dict[str, Decision] = {
    "level": _override,
    "merge": _merge,
    "split": _split,
    "close": _close,
    "reopen": _reopen,
}


def routes(web: Web) -> list[Route]:
    settings, db = web.settings, web.db

    async def incidents(request: Request, user: User) -> Response:
        params = {k: request.query_params.get(k, "") for k in LIST_PARAMS}
        context: dict[str, Any] = {
            "params": params,
            "statuses": STATUSES,
            "levels": list(reversed(LEVELS)),
            "categories": labels()["categories"],
            "show_status": True,
        }
        try:
            chosen = parse_list_filter(request.query_params, settings)
        except BadForm as exc:
            return web.render(
                request, "incidents.html", status=400, user=user, error=str(exc), **context
            )
        context["params"] = {
            "status": chosen.status,
            "level": chosen.level,
            "category": chosen.category,
            "since": request.query_params.get("since", "") if chosen.since else "",
            "waiting": chosen.waiting,
        }
        # Incidents with a notice nobody acknowledged yet (the day list's 待确认通知).
        waiting = (
            [Incident.id.in_(unacknowledged_notices().with_only_columns(Notice.incident_id))]
            if chosen.waiting == "ack"
            else []
        )
        with db.sessions() as session:
            found = views.listing(
                session,
                chosen.status,
                chosen.level,
                chosen.category,
                since=chosen.since,
                where=waiting,
                page=chosen.page,
                page_size=PAGE_SIZE,
            )
        rows, total, page, pages = found.incidents, found.total, found.page, found.pages
        base = {k: v for k, v in context["params"].items() if v}
        return web.render(
            request,
            "incidents.html",
            user=user,
            incidents=rows,
            total=total,
            page=page,
            pages=pages,
            page_query={"prev": {**base, "page": page - 1}, "next": {**base, "page": page + 1}},
            **context,
        )

    async def incident(request: Request, user: User) -> Response:
        with db.sessions() as session:
            read = views.detail(
                session, settings, int(request.path_params["incident_id"]), clock.now()
            )
            if read is None:
                raise HTTPException(404, "没有这个事件")
            found, rows, entries = read.incident, read.mentions, read.history
            drafts = session.scalars(select(Draft).where(Draft.incident_id == found.id)).all()
            notices = session.scalars(
                select(Notice).where(Notice.incident_id == found.id).order_by(Notice.id)
            ).all()
            # Its own messages, and the batch alerts and digests that listed it.
            carriers = select(Notice.carried_by).where(
                Notice.incident_id == found.id, Notice.carried_by.is_not(None)
            )
            messages = session.scalars(
                select(OutboxMessage)
                .where(
                    (OutboxMessage.incident_id == found.id) | OutboxMessage.dedupe_key.in_(carriers)
                )
                .order_by(OutboxMessage.id)
            ).all()
            attempts = dict(
                session.execute(
                    select(DeliveryAttempt.message_id, func.count(DeliveryAttempt.id))
                    .where(DeliveryAttempt.message_id.in_([m.id for m in messages]))
                    .group_by(DeliveryAttempt.message_id)
                ).all()
            )
            candidates = session.scalars(
                select(Incident)
                .where(
                    Incident.status == IncidentStatus.OPEN,
                    Incident.id != found.id,
                    Incident.last_seen >= clock.now() - timedelta(days=MERGE_DAYS),
                )
                .order_by(Incident.last_seen.desc())
                .limit(100)
            ).all()
            mention_list = list(rows)
            facts = sheet(session, settings, found, mention_list, bool(drafts))
            return web.render(
                request,
                "incident.html",
                user=user,
                incident=found,
                mentions=rows,
                drafts=drafts,
                notices=notices,
                messages=messages,
                attempts=attempts,
                spread=read.spread,
                timeline=over_time(rows, settings.severity, settings.tz),
                hot=hot_listings(session, rows),
                summary=summarise(mention_list, settings),
                facts=facts,
                tasks=tasks_of(session, found.id),
                history=[
                    (e, readable_changes(e.before, e.after, e.object_type, settings.tz))
                    for e in entries
                ],
                candidates=candidates,
                merge_days=MERGE_DAYS,
                levels=list(reversed(LEVELS)),
                can_decide=user.role in DECIDE,
                can_ack=user.role in ACKNOWLEDGE,
                can_draft=user.role in draft_rules.EDITORS,
                can_complete=user.role in COMPLETE and found.status != IncidentStatus.MERGED,
            )

    def decision(name: str, decide: Decision) -> Endpoint:
        async def endpoint(request: Request, user: User) -> Response:
            incident_id = int(request.path_params["incident_id"])
            form = await request.form()
            refused_returns_to(request, f"/incidents/{incident_id}")
            with db.transaction() as session:
                said, go = decide(session, settings, incident_id, form, user.name)
            flash(request, said)
            return RedirectResponse(go, status_code=303)

        endpoint.__name__ = f"incident_{name}"
        return endpoint

    async def ask_for_draft(request: Request, user: User) -> Response:
        incident_id = int(request.path_params["incident_id"])
        refused_returns_to(request, f"/incidents/{incident_id}")
        with db.transaction() as session:
            draft = draft_rules.request_draft(session, settings, incident_id, user.name)
        flash(request, f"已生成应答草稿 #{draft.id}，请修改后提交宣传/审核人员批准")
        return RedirectResponse(f"/drafts/{draft.id}", status_code=303)

    async def ack(request: Request, user: User) -> Response:
        incident_id = int(request.path_params["incident_id"])
        notice_id = int(request.path_params["notice_id"])
        refused_returns_to(request, f"/incidents/{incident_id}")
        with db.transaction() as session:
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

    return [
        Route("/incidents", guard(incidents)),
        Route("/incidents/{incident_id:id}", guard(incident)),
        *(
            Route(
                f"/incidents/{{incident_id:id}}/{name}",
                guard(decision(name, decide), DECIDE),
                methods=["POST"],
            )
            for name, decide in DECISIONS.items()
        ),
        Route(
            "/incidents/{incident_id:id}/draft",
            guard(ask_for_draft, draft_rules.EDITORS),
            methods=["POST"],
        ),
        Route(
            "/incidents/{incident_id:id}/notices/{notice_id:id}/ack",
            guard(ack, ACKNOWLEDGE),
            methods=["POST"],
        ),
    ]
