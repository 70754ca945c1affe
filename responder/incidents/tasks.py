"""An incident's tasks: what the office does about it (成立核查组、联系媒体、发布回应), who
does it and by when. This module owns their changes, each role-checked and audited; a done
task counts among the incident's 处置措施 (incidents/facts.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from responder import audit, clock
from responder.accounts import COMPLETE_FACTS, require_role
from responder.audit import AuditAction
from responder.errors import DomainError
from responder.limits import clip
from responder.models import Incident, IncidentTask
from responder.plaintext import one_line
from responder.statuses import IncidentStatus


class TaskError(DomainError, ValueError):
    """A task change that cannot be made; nothing was changed."""


class NotPermitted(TaskError):
    pass


def tasks_of(session: Session, incident_id: int) -> list[IncidentTask]:
    return list(
        session.scalars(
            select(IncidentTask)
            .where(IncidentTask.incident_id == incident_id)
            .order_by(IncidentTask.id)
        )
    )


def open_tasks(session: Session, limit: int = 20) -> list[IncidentTask]:
    """Tasks not done yet, the soonest due first (those without a due date last): the duty
    officer's to-do list on the dashboard."""
    return list(
        session.scalars(
            select(IncidentTask)
            .where(IncidentTask.done_at.is_(None))
            .order_by(IncidentTask.due.is_(None), IncidentTask.due, IncidentTask.id)
            .limit(limit)
        )
    )


def add_task(
    session: Session,
    incident_id: int,
    what: str,
    assignee: str,
    due: datetime | None,
    actor: str,
) -> IncidentTask:
    """Give someone a task on an open incident."""
    actor = actor.strip()
    require_role(session, actor, COMPLETE_FACTS, "布置处置任务", NotPermitted)
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise TaskError(f"没有事件 #{incident_id}")
    if incident.status != IncidentStatus.OPEN:
        raise TaskError(f"事件 #{incident_id} 不在处置中，不能布置任务")
    what, assignee = clip(one_line(what), 500), clip(one_line(assignee), 200)
    if not what or not assignee:
        raise TaskError("请填写任务内容和负责人")
    task = IncidentTask(
        incident_id=incident_id,
        what=what,
        assignee=assignee,
        due=due,
        created_by=actor,
        created_at=clock.now(),
    )
    session.add(task)
    session.flush()
    audit.record(
        session,
        actor,
        AuditAction.TASK_ADD,
        "incident",
        incident_id,
        after={"任务": what, "负责人": assignee, "期限": due.isoformat() if due else None},
        detail=f"任务 #{task.id}",
    )
    return task


def complete_task(session: Session, task_id: int, actor: str) -> IncidentTask:
    """Mark a task done; the incident's 处置措施 lists it from now on."""
    actor = actor.strip()
    require_role(session, actor, COMPLETE_FACTS, "完成处置任务", NotPermitted)
    task = session.get(IncidentTask, task_id)
    if task is None:
        raise TaskError(f"没有任务 #{task_id}")
    if task.done_at is not None:
        raise TaskError(f"任务 #{task_id} 已由 {task.done_by} 完成")
    task.done_at, task.done_by = clock.now(), actor
    audit.record(
        session,
        actor,
        AuditAction.TASK_DONE,
        "incident",
        task.incident_id,
        after={"任务": task.what, "完成人": actor},
        detail=f"任务 #{task.id}",
    )
    return task
