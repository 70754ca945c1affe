"""Every page of the web app with realistic data (one demo cycle), in Debian's Chromium: each
one answers without error, shows its heading, loads nothing from outside the app (the intranet
is offline), and is saved as a screenshot for a person to look at."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from responder.models import Draft, Incident, Mention, Source
from responder.running.cycle import Cycle
from tests.webclient import PASSWORD, ensure_user

pytestmark = pytest.mark.slow

# (path or a callable giving it, role, text the page must show)
PAGES = [
    ("/", "duty", "今日值班"),
    ("/mentions", "duty", "舆情信息"),
    ("mention", "duty", "研判"),
    ("/incidents", "duty", "舆情事件"),
    ("incident", "duty", "触发的分级规则"),
    ("/drafts", "press", "应答草稿"),
    ("draft", "press", "模板版本"),
    ("/templates", "press", "应答口径"),
    ("template", "press", "版本"),
    ("/sources", "leader", "最近状态"),
    ("source", "leader", "略过的页面"),
    ("/audit", "leader", "操作日志"),
    ("/admin/users", "admin", "用户管理"),
]


def test_every_page_reads_well_with_demo_data_and_loads_nothing_from_outside(
    settings, db, demo_world, mail_sink, live_server, chromium, screens
):
    Cycle(settings, db).run()
    with db.sessions() as session:
        top = session.scalars(select(Incident).order_by(Incident.score.desc()).limit(1)).one()
        draft = session.scalars(select(Draft).where(Draft.incident_id == top.id)).first()
        mention = session.scalars(
            select(Mention).where(Mention.incident_id == top.id).limit(1)
        ).one()
        ids = {
            "incident": f"/incidents/{top.id}",
            "mention": f"/mentions/{mention.id}",
            "draft": f"/drafts/{draft.id if draft else 1}",
            "template": f"/templates/{top.category}",
            "source": f"/sources/{session.scalars(select(Source.id).limit(1)).one()}",
        }
    origin = urlsplit(live_server.url).netloc
    for role in ("duty", "press", "leader", "admin"):
        ensure_user(db, f"{role}-user", role)

    outside: list[str] = []
    for role in ("duty", "press", "leader", "admin"):
        context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.on(
            "request",
            lambda r: (
                outside.append(r.url)
                if urlsplit(r.url).netloc not in (origin, "") and not r.url.startswith("data:")
                else None
            ),
        )
        page.goto(f"{live_server.url}/login")
        if role == "duty":
            screens(page, "login")
        page.fill("input[name=name]", f"{role}-user")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        for where, who, heading in PAGES:
            if who != role:
                continue
            path = ids.get(where, where)
            answer = page.goto(f"{live_server.url}{path}")
            assert answer is not None and answer.status == 200, (path, answer and answer.status)
            assert heading in page.content(), (path, heading)
            screens(page, f"{role}-{path.strip('/').replace('/', '-') or 'dashboard'}")
        context.close()
    assert outside == []
