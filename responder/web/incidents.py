"""The incident pages: the list with its filters, and one incident with everything known about
it and the forms of what people decide (responder/web/incident_decisions.py) and complete
(responder/web/incident_facts.py). The incident is read by `responder.incidents.views`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from responder import accounts, clock
from responder.incidents import views
from responder.incidents.facts import sheet
from responder.incidents.hotlists import hot_listings
from responder.incidents.severity import LEVELS
from responder.incidents.spread import over_time
from responder.incidents.summary import summarise
from responder.incidents.tasks import tasks_of
from responder.incidents.views import STATUSES
from responder.labels import labels
from responder.models import Incident, Notice, User
from responder.notices.record import record
from responder.replies import drafts as draft_rules
from responder.replies.queue import of_incident
from responder.running.day import unacknowledged_notices
from responder.settings import Settings
from responder.statuses import IncidentStatus
from responder.web.audit_log import readable_changes
from responder.web.core import BadForm, guard, parsed, web_of, whole_number

DECIDE = accounts.DECIDE_INCIDENTS
COMPLETE = accounts.COMPLETE_FACTS
ACKNOWLEDGE = accounts.ACKNOWLEDGE
PAGE_SIZE = 50
# Merge targets offered in the form: open incidents seen in the last days (any other open one
# can still be given by its number).
MERGE_DAYS = 7
MERGE_CANDIDATES = 100
LIST_PARAMS = ("status", "level", "category", "since", "waiting")


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
    found = parsed(raw, datetime.fromisoformat)
    if found is None:
        raise BadForm(f"时间“{raw}”无效，应为 2026-01-31 或 2026-01-31T08:30")
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


async def incidents(request: Request, user: User) -> Response:
    web = web_of(request)
    params = {k: request.query_params.get(k, "") for k in LIST_PARAMS}
    context: dict[str, Any] = {
        "params": params,
        "statuses": STATUSES,
        "levels": list(reversed(LEVELS)),
        "categories": labels()["categories"],
        "show_status": True,
    }
    try:
        chosen = parse_list_filter(request.query_params, web.settings)
    except BadForm as exc:
        # Local, not the app's handler: the list page again with its filter form as typed
        # and the reason, status 400.
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
    with web.db.sessions() as session:
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
    web = web_of(request)
    settings = web.settings
    with web.db.sessions() as session:
        now = clock.now()
        read = views.detail(session, settings, int(request.path_params["incident_id"]), now)
        if read is None:
            raise HTTPException(404, "没有这个事件")
        found, rows, entries = read.incident, read.mentions, read.history
        drafts = of_incident(session, found.id)
        sent = record(session, found.id)
        candidates = views.merge_candidates(
            session, found.id, now - timedelta(days=MERGE_DAYS), MERGE_CANDIDATES
        )
        mention_list = list(rows)
        facts = sheet(session, settings, found, mention_list, bool(drafts))
        return web.render(
            request,
            "incident.html",
            user=user,
            incident=found,
            mentions=rows,
            drafts=drafts,
            notices=sent.notices,
            messages=sent.messages,
            attempts=sent.attempts,
            spread=read.spread,
            timeline=over_time(rows, settings.severity, settings.tz),
            hot=hot_listings(session, rows),
            chain=read.chain,
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


routes = [
    Route("/incidents", guard(incidents)),
    Route("/incidents/{incident_id:id}", guard(incident)),
]
