"""The audit log page: admin and leader read who did what, when, to which object, with before
and after, filtered and paginated; bad filters get a clear message; and no route of the app
can change or delete an audit row."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import select
from starlette.routing import Route

from responder import audit
from responder.models import AuditEntry
from responder.web import create_app
from responder.web.audit_log import PAGE_SIZE
from tests.webclient import client_as, csrf

XSS = '<script>alert("x")</script>'
# The seeded rows are older than this day; logging the test users in adds rows of today.
LOG_END = "2025-12-31"


def at(settings, day: str, hour: int) -> datetime:  # type: ignore[no-untyped-def]
    """A moment of an office-local day."""
    return datetime.fromisoformat(f"{day}T{hour:02d}:00").replace(tzinfo=settings.tz)


@pytest.fixture
def log(settings, db) -> None:  # type: ignore[no-untyped-def]
    """Four rows by three people over three days (office time)."""
    rows = [
        (
            "王敏",
            "incident.level_override",
            "incident",
            7,
            "2025-03-20",
            9,
            {"level_override": None, "level": "IV"},
            {"level_override": "II", "level": "II", "machine_level": "IV"},
            "省级媒体已关注",
        ),
        (
            "王敏",
            "incident.close",
            "incident",
            8,
            "2025-03-21",
            23,
            {"status": "open"},
            {"status": "closed", "close_reason": f"已辟谣{XSS}"},
            "已辟谣",
        ),
        (
            "陈局长",
            "notice.ack",
            "notice",
            3,
            "2025-03-22",
            0,
            {"step": 1},
            {"acknowledged_by": "陈局长", "via": "web"},
            "事件 #7",
        ),
        (
            "管理员",
            "user.role",
            "user",
            "赵雪",
            "2025-03-22",
            10,
            {"role": "duty"},
            {"role": "press"},
            "",
        ),
    ]
    with db.transaction() as session:
        for actor, action, kind, oid, day, hour, before, after, detail in rows:
            entry = audit.record(session, actor, action, kind, oid, before, after, detail)
            entry.at = at(settings, day, hour)


def shown(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def codes(html: str) -> list[str]:
    """The action codes of the rows shown, in order."""
    return re.findall(r'<div class="muted">([a-z_]+\.[a-z_]+)</div>', html)


def all_rows(db) -> list[tuple]:  # type: ignore[no-untyped-def, type-arg]
    with db.sessions() as session:
        return [
            (e.id, e.at, e.actor, e.action, e.object_type, e.object_id, e.before, e.after, e.detail)
            for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]


def test_admin_and_leader_read_the_log_and_other_roles_are_refused(settings, db, log):
    for role in ("admin", "leader"):
        page = client_as(settings, db, role).get(f"/audit?date_to={LOG_END}")
        assert page.status_code == 200 and "共 4 条记录" in page.text, role
    for role in ("duty", "press"):
        refused = client_as(settings, db, role).get("/audit")
        assert refused.status_code == 403 and "无权" in refused.text, role
    assert 'href="/audit"' in client_as(settings, db, "leader").get("/").text


def test_each_row_says_who_did_what_to_which_object_with_before_and_after(settings, db, log):
    page = client_as(settings, db, "leader").get(f"/audit?date_to={LOG_END}").text
    text = shown(page)

    assert "人工定级" in text and "确认收到" in text and "修改角色" in text
    assert "事件 #7" in text and 'href="/incidents/7"' in page and "用户 赵雪" in text
    assert "人工定级：无 → 重大（II级）" in text and "角色：值班员 → 宣传/审核" in text
    assert "确认方式：系统网页" in text and "步骤：原为 1" in text
    # The raw rows, pretty and escaped: crawled or typed text never runs.
    assert "&#34;level_override&#34;: &#34;II&#34;,\n  &#34;level&#34;" in page
    assert XSS not in page and "&lt;script&gt;" in page
    # Newest first.
    assert codes(page) == [
        "user.role",
        "notice.ack",
        "incident.close",
        "incident.level_override",
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("actor=王敏", {"incident.level_override", "incident.close"}),
        ("action=notice.ack", {"notice.ack"}),
        ("object_type=incident&object_id=8", {"incident.close"}),
        ("object_type=user&object_id=赵雪", {"user.role"}),
        (f"date_from=2025-03-21&date_to={LOG_END}", {"incident.close", "notice.ack", "user.role"}),
        # Office days: 23:00 on the 21st is in, midnight on the 22nd is out.
        ("date_from=2025-03-21&date_to=2025-03-21", {"incident.close"}),
        ("date_to=2025-03-20", {"incident.level_override"}),
        ("actor=王敏&date_from=2025-03-22", set()),
    ],
)
def test_the_log_filters_by_actor_action_object_and_office_days(settings, db, log, query, expected):
    page = client_as(settings, db, "admin").get(f"/audit?{query}")
    assert page.status_code == 200
    assert set(codes(page.text)) == expected
    assert f"共 {len(expected)} 条记录" in page.text


def test_the_action_list_offers_every_labelled_action(settings, db, log):
    page = client_as(settings, db, "admin").get("/audit").text
    for code in ("incident.merge", "incident.split", "notice.ack", "user.disable"):
        assert f'<option value="{code}"' in page
    assert 'value="incident.merge">合并</option>' in page


def test_the_log_is_paginated_and_the_pages_keep_the_filter(settings, db):
    with db.transaction() as session:
        for n in range(PAGE_SIZE * 2 + 5):
            audit.record(session, "王敏", "incident.close", "incident", n, detail=f"第{n}条")
        audit.record(session, "李强", "incident.close", "incident", 999, detail="别人")
    client = client_as(settings, db, "admin")

    first = client.get("/audit?actor=王敏").text
    last = client.get("/audit?actor=王敏&page=3").text
    beyond = client.get("/audit?actor=王敏&page=9").text

    assert f"共 {PAGE_SIZE * 2 + 5} 条记录，第 1/3 页" in first
    assert 'href="/audit?actor=%E7%8E%8B%E6%95%8F&amp;page=2">下一页' in first
    assert "上一页" not in first
    assert "第 3/3 页" in last and last.count("<tr>") == 1 + 5 and "下一页" not in last
    assert "第4条" in last and "第5条" not in last and "别人" not in last
    assert "第 3/3 页" in beyond  # past the end shows the last page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("date_from=2026-13-01", "起始日期“2026-13-01”不是有效日期"),
        ("date_to=yesterday", "截止日期“yesterday”不是有效日期"),
        ("date_from=2025-03-22&date_to=2025-03-01", "截止日期早于起始日期"),
        ("action=incident.delete", "没有“incident.delete”这种操作"),
        ("object_type=planet", "没有“planet”这种对象类型"),
        ("page=-1", "页码“-1”无效"),
        ("page=abc", "页码“abc”无效"),
    ],
)
def test_a_bad_filter_gets_a_clear_message_not_an_error_page(settings, db, log, query, message):
    answer = client_as(settings, db, "admin").get(f"/audit?{query}")
    assert answer.status_code == 400
    assert message in answer.text and "筛选" in answer.text


def test_no_route_changes_or_deletes_audit_rows(settings, db, log):
    app = create_app(settings, db)
    audit_routes = [r for r in app.routes if isinstance(r, Route) and r.path.startswith("/audit")]
    assert [(r.path, sorted(r.methods or ())) for r in audit_routes] == [
        ("/audit", ["GET", "HEAD"])
    ]
    client = client_as(settings, db, "admin")
    token = csrf(client.get("/audit").text)
    headers = {"x-csrf-token": token}
    before = all_rows(db)
    entry_id = before[0][0]

    for method in ("POST", "PUT", "PATCH", "DELETE"):
        answer = client.request(method, "/audit", data={"csrf_token": token}, headers=headers)
        assert answer.status_code == 405, method
        for path in (f"/audit/{entry_id}", f"/audit/{entry_id}/edit", "/audit/delete"):
            answer = client.request(method, path, data={"csrf_token": token}, headers=headers)
            assert answer.status_code == 404, (method, path)
    assert client.get(f"/audit/{entry_id}").status_code == 404
    assert all_rows(db) == before


def test_times_are_shown_in_office_time_to_the_second(settings, db, log):
    page = client_as(settings, db, "admin").get("/audit?action=incident.close").text
    assert "2025-03-21 23:00:00" in page
