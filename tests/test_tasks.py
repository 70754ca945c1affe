"""An incident's tasks: given to someone, done, audited, and counted in 处置措施."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from responder import clock
from responder.incidents.facts import MACHINE, sheet
from responder.incidents.tasks import NotPermitted, TaskError, add_task, complete_task
from responder.models import AuditEntry, Incident, Mention
from tests.test_web_incidents import LEAK, make_incident
from tests.webclient import client_as, csrf, ensure_user


def measures(session, settings, incident_id):  # type: ignore[no-untyped-def]
    incident = session.get(Incident, incident_id)
    mentions = list(session.scalars(select(Mention).where(Mention.incident_id == incident_id)))
    return {f.field: f for f in sheet(session, settings, incident, mentions, False)}["measures"]


def test_a_done_task_counts_among_the_measures_and_both_steps_are_audited(settings, db):
    ensure_user(db, "王敏", "duty")
    with db.transaction() as session:
        incident_id = make_incident(session, settings, LEAK).id
        task = add_task(session, incident_id, "成立核查组", "李强", None, "王敏")
        assert measures(session, settings, incident_id).value == "待核实"
        complete_task(session, task.id, "王敏")
        done = measures(session, settings, incident_id)
        assert done.state == MACHINE and "已完成：成立核查组（王敏" in done.value
        with pytest.raises(TaskError, match="已由 王敏 完成"):
            complete_task(session, task.id, "王敏")
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.action.like("task.%"))
        ).all()
        assert actions == ["task.add", "task.done"]


def test_a_leader_may_not_give_tasks(settings, db):
    ensure_user(db, "陈局长", "leader")
    with db.transaction() as session:
        incident_id = make_incident(session, settings, LEAK).id
    with pytest.raises(NotPermitted), db.transaction() as session:
        add_task(session, incident_id, "联系媒体", "宣传组", None, "陈局长")


def test_the_press_office_gives_and_finishes_a_task_on_the_incident_page(settings, db):
    with db.transaction() as session:
        incident_id = make_incident(session, settings, LEAK).id
    client = client_as(settings, db, "press", name="宣传组小赵")
    page = client.get(f"/incidents/{incident_id}").text
    done = client.post(
        f"/incidents/{incident_id}/tasks",
        data={
            "csrf_token": csrf(page),
            "what": "联系东川日报核实报道",
            "assignee": "宣传组小赵",
            # Tomorrow, by the pinned clock: the task is not yet overdue on any day the suite runs.
            "due": (clock.today(settings.tz) + timedelta(days=1)).isoformat(),
        },
    )
    assert done.status_code == 200 and "已布置任务" in done.text
    assert "联系东川日报核实报道" in done.text and "进行中" in done.text
    # The duty officer's dashboard lists it until it is done.
    assert "联系东川日报核实报道" in client.get("/").text
    with db.sessions() as session:
        [task_id] = session.scalars(
            select(AuditEntry.detail).where(AuditEntry.action == "task.add")
        )
    number = task_id.removeprefix("任务 #")
    finished = client.post(
        f"/incidents/{incident_id}/tasks/{number}/done", data={"csrf_token": csrf(done.text)}
    )
    assert "计入处置措施" in finished.text and "已完成：联系东川日报核实报道" in finished.text
    assert "联系东川日报核实报道" not in client.get("/").text
