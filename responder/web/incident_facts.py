"""The incident page's forms for what people complete: the report's eight fields (事件要素) and
the incident's tasks. Each change goes through its owner (`incidents.facts`,
`incidents.tasks`), which checks the role and audits it."""

from __future__ import annotations

from datetime import date, datetime, time

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from responder import accounts
from responder.incidents.facts import FIELDS, set_fact, set_title
from responder.incidents.tasks import add_task, complete_task
from responder.incidents.views import reported
from responder.models import User
from responder.web.core import BadForm, flash, guard, parsed, refused_returns_to, web_of

COMPLETE = accounts.COMPLETE_FACTS


async def complete_facts(request: Request, user: User) -> Response:
    """Every field of the sheet form whose text differs from what it says now is confirmed by
    the user, each change audited."""
    incident_id = int(request.path_params["incident_id"])
    form = await request.form()
    refused_returns_to(request, f"/incidents/{incident_id}")
    changed = []
    with web_of(request).db.transaction() as session:
        title = str(form.get("title", "")).strip()
        if title and set_title(session, incident_id, title, user.name):
            changed.append("标题")
        for key, name in FIELDS.items():
            value = str(form.get(key, "")).strip()
            if value and set_fact(session, incident_id, key, value, user.name) is not None:
                changed.append(name)
        told = reported(session, incident_id)
    if changed:
        said = f"已核实{'、'.join(changed)}"
        flash(request, said + ("；续报将在一分钟内发出" if told else ""))
    else:
        flash(request, "事件要素没有变化", "error")
    return RedirectResponse(f"/incidents/{incident_id}#facts", status_code=303)


async def new_task(request: Request, user: User) -> Response:
    web = web_of(request)
    incident_id = int(request.path_params["incident_id"])
    form = await request.form()
    refused_returns_to(request, f"/incidents/{incident_id}")
    due_text = str(form.get("due", "")).strip()
    due = None
    if due_text:
        day = parsed(due_text, date.fromisoformat)
        if day is None:
            raise BadForm(f"期限“{due_text}”无效，应为日期，如 2026-12-08")
        # Due by the end of the office's working day.
        due = datetime.combine(day, time(18), web.settings.tz)
    with web.db.transaction() as session:
        task = add_task(
            session,
            incident_id,
            str(form.get("what", "")),
            str(form.get("assignee", "")),
            due,
            user.name,
        )
    flash(request, f"已布置任务 #{task.id}：{task.what}（{task.assignee}）")
    return RedirectResponse(f"/incidents/{incident_id}#tasks", status_code=303)


async def task_done(request: Request, user: User) -> Response:
    incident_id = int(request.path_params["incident_id"])
    refused_returns_to(request, f"/incidents/{incident_id}")
    with web_of(request).db.transaction() as session:
        task = complete_task(session, int(request.path_params["task_id"]), user.name)
    flash(request, f"任务 #{task.id} 已完成，计入处置措施")
    return RedirectResponse(f"/incidents/{incident_id}#tasks", status_code=303)


routes = [
    Route("/incidents/{incident_id:id}/facts", guard(complete_facts, COMPLETE), methods=["POST"]),
    Route("/incidents/{incident_id:id}/tasks", guard(new_task, COMPLETE), methods=["POST"]),
    Route(
        "/incidents/{incident_id:id}/tasks/{task_id:id}/done",
        guard(task_done, COMPLETE),
        methods=["POST"],
    ),
]
