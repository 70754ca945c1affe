"""The mentions pages: filters, Chinese full-text search, pagination, bad input, the detail
with the machine's reasons, and the duty officer's correction (roles, CSRF, validation); in
the browser too, with crawled HTML shown as text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

import responder.web.mentions
from responder.db import Database
from responder.intake.mentions import MentionRecord, source_for, store
from responder.models import AuditEntry, CrawlRun, Incident, Judgement, Mention
from responder.notices.duty import record_handover
from responder.settings import Settings
from tests.webclient import PASSWORD, client_as, csrf, ensure_user

T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai
HOSTILE_TITLE = "普查数据<script>alert(1)</script>"
HOSTILE_TEXT = '统计局回应<img src=x onerror=alert(1)>普查数据问题，网友称"100%_真实"。'

CORRECTED = AuditEntry.action == "judgement.correct"
LEAK_REASON = {
    "kind": "contradicts_fact",
    "detail": "文中称临江县2025年地区生产总值增速为12%，官方数据为5.8%",
    "evidence": "临江县2025年统计公报：据说增速达到12%",
}


@dataclass
class World:
    incident: int
    leak: int
    fraud: int
    praise: int
    unjudged: int
    hostile: int
    reprint: int


def add(
    session: Any,
    n: int,
    title: str,
    text: str,
    source: str,
    at: datetime,
    judgement: dict[str, Any] | None,
    keywords: list[str] | None = None,
    outlet: str = "",
) -> Mention:
    src = source_for(session, source, "site", f"http://{n}.example/")
    mention = store(
        session,
        MentionRecord(
            url=f"http://news.example/{n}",
            title=title,
            text=text,
            outlet=outlet or source,
            published_at=at,
            reposts=n * 3,
            comments=n,
            keywords_matched=keywords or ["统计局"],
        ),
        source_id=src.id,
    )
    assert mention is not None
    if judgement is not None:
        session.add(
            Judgement(
                mention=mention,
                sentiment_score=0.9,
                category_score=0.8,
                backend="linear",
                **judgement,
            )
        )
    session.flush()
    return mention


def seed(db: Database) -> World:
    """Mentions of the bureau from three sources over three days, one incident, one reprint."""
    with db.transaction() as session:
        incident = Incident(
            # Named by a person, so re-assessing after a correction keeps it (the tests find
            # the incident by this title).
            title="临江县人口普查登记信息泄露",
            title_by="test",
            category="privacy_leak",
            first_seen=T0,
            last_seen=T0,
            machine_level="III",
            sentiment="negative",
            mention_count=2,
        )
        session.add(incident)
        session.flush()
        leak = add(
            session,
            1,
            "临江县人口普查登记信息疑遭泄露",
            "网传临江县第七次人口普查住户名单外流，普查员手机号被倒卖，居民担心个人信息安全。",
            "临江论坛",
            T0,
            {
                "sentiment": "negative",
                "category": "privacy_leak",
                "misinfo": True,
                "misinfo_reasons": [LEAK_REASON],
                "terms": {"sentiment": ["居民担心个人信息安全"], "category": ["住户名单外流"]},
            },
            keywords=["人口普查", "普查员"],
        )
        leak.incident_id = incident.id
        reprint = add(
            session,
            2,
            "转：临江县人口普查登记信息疑遭泄露",
            "转载：网传临江县第七次人口普查住户名单外流，普查员手机号被倒卖。",
            "临江自媒体聚合",
            T0 + timedelta(hours=2),
            {"sentiment": "negative", "category": "privacy_leak", "misinfo": False},
            keywords=["人口普查"],
            outlet="临江生活圈",
        )
        reprint.reprint_of = leak.id
        reprint.incident_id = incident.id
        fraud = add(
            session,
            3,
            "网友质疑临江县统计局经济数据注水",
            "有网友发帖称临江县统计局公布的GDP增速与实际感受不符，怀疑统计数据造假。",
            "临江论坛",
            T0 + timedelta(days=1),
            {"sentiment": "negative", "category": "data_fraud", "misinfo": False},
            keywords=["统计局", "统计数据"],
        )
        praise = add(
            session,
            4,
            "临江县统计局发布2025年统计公报",
            "临江县统计局发布年度统计公报，全县地区生产总值增长5.8%，经济运行稳中有进。",
            "临江新闻网",
            T0 + timedelta(days=1, hours=3),
            {
                "sentiment": "positive",
                "category": "general",
                "misinfo": False,
                "terms": {"sentiment": ["稳中有进"], "category": []},
            },
            keywords=["统计局", "统计公报"],
        )
        unjudged = add(
            session,
            5,
            "经济普查入户登记工作启动",
            "临江县第五次全国经济普查入户登记工作今日启动，普查员将持证上门。",
            "临江新闻网",
            T0 + timedelta(days=2),
            None,
            keywords=["经济普查", "普查员"],
        )
        hostile = add(
            session,
            6,
            HOSTILE_TITLE,
            HOSTILE_TEXT,
            "临江论坛",
            T0 + timedelta(days=2, hours=1),
            {"sentiment": "neutral", "category": "data_doubt", "misinfo": False},
        )
        return World(incident.id, leak.id, fraud.id, praise.id, unjudged.id, hostile.id, reprint.id)


def titles(html: str) -> list[str]:
    """The titles the list links to, in order."""
    return re.findall(r'<a class="title" href="/mentions/\d+">([^<]+)</a>', html)


def test_the_list_shows_each_mention_with_its_judgement_incident_and_reprints(settings, db):
    world = seed(db)
    page = client_as(settings, db).get("/mentions")

    assert page.status_code == 200
    assert "共 6 条" in page.text
    assert titles(page.text)[0] == "普查数据&lt;script&gt;alert(1)&lt;/script&gt;"  # newest first
    assert f'href="/incidents/{world.incident}"' in page.text
    assert "被转载 1 次" in page.text and f"转载（原文 #{world.leak}）" in page.text
    assert "疑似失实" in page.text and "待研判" in page.text and "倾向依据：稳中有进" in page.text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "sentiment=negative",
            [
                "网友质疑临江县统计局经济数据注水",
                "转：临江县人口普查登记信息疑遭泄露",
                "临江县人口普查登记信息疑遭泄露",
            ],
        ),
        ("sentiment=unjudged", ["经济普查入户登记工作启动"]),
        (
            "category=privacy_leak",
            ["转：临江县人口普查登记信息疑遭泄露", "临江县人口普查登记信息疑遭泄露"],
        ),
        ("misinfo=yes", ["临江县人口普查登记信息疑遭泄露"]),
        ("source=临江新闻网", ["经济普查入户登记工作启动", "临江县统计局发布2025年统计公报"]),
        # The name the dashboard counts a mention under: its outlet before its source's name.
        ("outlet=临江生活圈", ["转：临江县人口普查登记信息疑遭泄露"]),
        ("outlet=临江自媒体聚合", []),
        ("incident=no&category=data_fraud", ["网友质疑临江县统计局经济数据注水"]),
        ("keyword=统计公报", ["临江县统计局发布2025年统计公报"]),
        # Exactly that rule: 普查员 is not matched by 普查, nor 人口普查 by 普查.
        ("keyword=普查员", ["经济普查入户登记工作启动", "临江县人口普查登记信息疑遭泄露"]),
        # Local days: 2026-11-21 in Asia/Shanghai.
        (
            "from=2026-11-21&to=2026-11-21",
            ["临江县统计局发布2025年统计公报", "网友质疑临江县统计局经济数据注水"],
        ),
        ("q=统计局 数据", ["普查数据<script>", "网友质疑临江县统计局经济数据注水"]),
        ("q=gdp", ["网友质疑临江县统计局经济数据注水"]),  # case-insensitive
        (
            "q=名单外流 手机号",
            ["转：临江县人口普查登记信息疑遭泄露", "临江县人口普查登记信息疑遭泄露"],
        ),
        ("q=100%_", ["普查数据<script>"]),
        # A % or _ typed by a person is a character, not "anything".
        ("q=%25%25", []),
        ("q=__", []),
    ],
)
def test_filters_and_chinese_search_narrow_the_list(settings, db, query, expected):
    world = seed(db)
    expected = [t.replace("<script>", "&lt;script&gt;alert(1)&lt;/script&gt;") for t in expected]
    page = client_as(settings, db).get(f"/mentions?{query}")

    assert page.status_code == 200, page.text
    assert titles(page.text) == expected
    assert f"共 {len(expected)} 条" in page.text
    assert world.incident  # the seed ran


def test_the_incident_filter_lists_that_incidents_mentions(settings, db):
    world = seed(db)
    page = client_as(settings, db).get(f"/mentions?incident={world.incident}")
    assert len(titles(page.text)) == 2
    assert f'<option value="{world.incident}" selected>事件 #{world.incident}</option>' in page.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-13-45", "开始日期“2026-13-45”格式不对"),
        ("to=昨天", "结束日期“昨天”格式不对"),
        ("from=2026-11-22&to=2026-11-20", "开始日期晚于结束日期"),
        ("sentiment=angry", "未知的情感倾向“angry”"),
        ("category=weather", "未知的类别“weather”"),
        ("misinfo=maybe", "“疑似失实”只能选 是 或 否"),
        ("incident=some", "事件筛选“some”无效"),
        ("source=不存在的网站", "没有名为“不存在的网站”的信息源"),
        ("outlet=" + "临" * 201, "信源名称过长，最多 200 个字"),
        ("page=abc", "页码“abc”无效"),
        ("page=0", "页码“0”无效"),
        ("page=9", "没有第 9 页"),
    ],
)
def test_a_bad_filter_value_gets_a_chinese_message_not_a_500(settings, db, query, message):
    seed(db)
    page = client_as(settings, db).get(f"/mentions?{query}")
    assert page.status_code == 400
    assert message in page.text
    assert titles(page.text) == []  # never a wider list than asked for
    assert 'name="q"' in page.text  # the form is there to fix it


def test_the_list_has_fifty_a_page_and_page_links_keep_the_filters(settings, db, monkeypatch):
    with db.transaction() as session:
        for n in range(120):
            add(
                session,
                100 + n,
                f"第{n}条：临江县统计数据解读",
                f"临江县统计局第{n}期统计数据解读，普查工作进展顺利。",
                "临江新闻网",
                T0 + timedelta(minutes=n),
                {"sentiment": "neutral" if n % 2 else "negative", "category": "general"},
            )
    client = client_as(settings, db)

    first = client.get("/mentions?sentiment=negative&q=统计数据")
    third = client.get("/mentions?sentiment=negative&q=统计数据&page=2")

    assert "共 60 条，第 1 / 2 页" in first.text
    assert len(titles(first.text)) == 50 and titles(first.text)[0] == "第118条：临江县统计数据解读"
    next_link = re.search(r'<a href="([^"]+)">下一页</a>', first.text)
    assert next_link is not None
    assert next_link.group(1) == (
        "/mentions?sentiment=negative&amp;q=%E7%BB%9F%E8%AE%A1%E6%95%B0%E6%8D%AE&amp;page=2"
    )
    assert len(titles(third.text)) == 10 and titles(third.text)[-1] == "第0条：临江县统计数据解读"
    assert "上一页" in third.text and "下一页" not in third.text

    # Past the counting limit the page says so, and pages stop where the count did.
    monkeypatch.setattr(responder.web.mentions, "COUNT_LIMIT", 55)
    capped = client.get("/mentions?sentiment=negative&q=统计数据&page=2")
    assert "超过 55 条，可缩小日期范围或增加筛选条件，第 2 页" in capped.text
    assert "共 60 条" not in capped.text
    assert len(titles(capped.text)) == 10 and "下一页" not in capped.text
    assert client.get("/mentions?sentiment=negative&q=统计数据&page=3").status_code == 400


def test_a_mention_shows_the_machines_judgement_and_why(settings, db):
    world = seed(db)
    page = client_as(settings, db).get(f"/mentions/{world.leak}")

    assert page.status_code == 200
    text = page.text
    assert "网传临江县第七次人口普查住户名单外流" in text
    assert "http://news.example/1" in text and "临江论坛" in text
    assert "3 / 1 / 0" in text  # reposts / comments / likes
    assert "负面" in text and "信息泄露" in text and "疑似失实" in text
    # Why: keyword rules, the deciding passages, the fact it contradicts with its evidence.
    assert "人口普查" in text and "普查员" in text
    assert "居民担心个人信息安全" in text and "住户名单外流" in text
    assert "与公报数据不符" in text and LEAK_REASON["detail"] in text
    assert "依据：" + LEAK_REASON["evidence"] in text
    # The reprint group and the incident.
    assert "被转载 1 次" in text and f'href="/mentions/{world.reprint}"' in text
    assert f'href="/incidents/{world.incident}"' in text
    reprint = client_as(settings, db).get(f"/mentions/{world.reprint}").text
    assert f'本条转载自 <a href="/mentions/{world.leak}">' in reprint


def test_an_unknown_mention_is_a_chinese_404(settings, db):
    client = client_as(settings, db)
    assert client.get("/mentions/999").status_code == 404
    assert "没有这条信息" in client.get("/mentions/999").text


def correction_form(client: Any, mention_id: int) -> str:
    return csrf(client.get(f"/mentions/{mention_id}").text)


def test_the_duty_officer_corrects_a_judgement_which_is_stored_and_audited(settings, db):
    world = seed(db)
    client = client_as(settings, db, "duty", "王敏")
    token = correction_form(client, world.fraud)

    answer = client.post(
        f"/mentions/{world.fraud}/correct",
        data={
            "sentiment": "negative",
            "category": "data_doubt",
            "misinfo": "no",
            "note": "质疑数据，并非指控造假",
            "csrf_token": token,
        },
        follow_redirects=False,
    )

    assert answer.status_code == 303 and answer.headers["location"] == f"/mentions/{world.fraud}"
    page = client.get(f"/mentions/{world.fraud}").text
    assert "已保存修正" in page
    assert "由 王敏 于" in page and "人工修正" in page
    assert "机器原判" in page and "统计造假" in page  # the machine's verdict stays visible
    assert "类别：统计造假 → 数据质疑" in page and "说明：质疑数据，并非指控造假" in page
    with db.sessions() as session:
        judgement = session.scalars(
            select(Judgement).where(Judgement.mention_id == world.fraud).order_by(Judgement.id)
        ).all()[-1]
        assert (judgement.origin, judgement.actor, judgement.category) == (
            "correction",
            "王敏",
            "data_doubt",
        )
        entry = session.scalars(select(AuditEntry).where(CORRECTED)).one()
        assert (entry.actor, entry.action, entry.object_id) == (
            "王敏",
            "judgement.correct",
            str(world.fraud),
        )
    # The list filters by the judgement in force.
    assert "网友质疑临江县统计局经济数据注水" in titles(
        client.get("/mentions?category=data_doubt").text
    )


def test_an_admin_may_correct_but_leaders_and_press_may_not(settings, db):
    world = seed(db)
    data = {"sentiment": "positive", "category": "general", "misinfo": "no"}
    for role in ("leader", "press"):
        client = client_as(settings, db, role)
        page = client.get(f"/mentions/{world.fraud}").text
        assert "修正研判" not in page  # no form they could not use
        refused = client.post(
            f"/mentions/{world.fraud}/correct", data={**data, "csrf_token": csrf(page)}
        )
        assert refused.status_code == 403
    admin = client_as(settings, db, "admin")
    done = admin.post(
        f"/mentions/{world.fraud}/correct",
        data={**data, "csrf_token": correction_form(admin, world.fraud)},
    )
    assert done.status_code == 200 and "已保存修正" in done.text
    with db.sessions() as session:
        assert session.scalars(select(AuditEntry.actor).where(CORRECTED)).all() == ["test-admin"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"sentiment": "negative", "category": "weather", "misinfo": "no"}, "未知的类别“weather”"),
        ({"sentiment": "furious", "category": "general", "misinfo": "no"}, "未知的情感倾向"),
        (
            {"sentiment": "negative", "category": "general", "misinfo": "perhaps"},
            "请选择是否疑似失实",
        ),
        ({"sentiment": "negative", "category": "data_fraud", "misinfo": "no"}, "与当前研判相同"),
    ],
)
def test_a_bad_correction_gets_a_clear_message_and_stores_nothing(settings, db, data, message):
    world = seed(db)
    client = client_as(settings, db)

    page = client.post(
        f"/mentions/{world.fraud}/correct",
        data={**data, "csrf_token": correction_form(client, world.fraud)},
    )

    assert page.status_code == 200 and message in page.text
    with db.sessions() as session:
        assert "correction" not in session.scalars(select(Judgement.origin)).all()
        assert session.scalars(select(AuditEntry).where(CORRECTED)).all() == []


def test_a_correction_without_the_csrf_token_or_of_no_mention_is_refused(settings, db):
    world = seed(db)
    client = client_as(settings, db)
    data = {"sentiment": "positive", "category": "general", "misinfo": "no"}
    assert client.post(f"/mentions/{world.fraud}/correct", data=data).status_code == 403
    token = correction_form(client, world.fraud)
    missing = client.post("/mentions/999/correct", data={**data, "csrf_token": token})
    assert missing.status_code == 404
    with db.sessions() as session:
        assert session.scalars(select(AuditEntry).where(CORRECTED)).all() == []


def test_crawled_html_is_shown_as_text_on_the_list_and_the_detail(settings, db):
    world = seed(db)
    client = client_as(settings, db)
    for path in ("/mentions", f"/mentions/{world.hostile}"):
        text = client.get(path).text
        assert "<script>alert" not in text and "<img src=x" not in text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    detail = client.get(f"/mentions/{world.hostile}").text
    assert "&lt;img src=x onerror=alert(1)&gt;" in detail


@pytest.mark.slow
def test_in_the_browser_the_duty_officer_filters_searches_and_corrects_a_mention(
    settings: Settings, db: Database, live_server: Any, browser_page: Any, screens: Any
) -> None:
    world = seed(db)
    with db.transaction() as session:
        # Today's hostile mention, in an incident named after it as triage names incidents,
        # so the dashboard shows it twice.
        now = datetime.now(UTC)
        hostile = add(
            session,
            7,
            HOSTILE_TITLE,
            "今日：" + HOSTILE_TEXT,
            "临江论坛",
            now - timedelta(minutes=5),
            {"sentiment": "negative", "category": "data_doubt"},
        )
        incident = Incident(
            title=HOSTILE_TITLE, category="data_doubt", first_seen=now, last_seen=now
        )
        session.add(incident)
        session.flush()
        hostile.incident_id = incident.id
        # A handover note and a failing source, so the dashboard shows every part.
        yesterday = now.astimezone(settings.tz).date() - timedelta(days=1)
        record_handover(
            session, settings, yesterday, "论坛普查泄露帖仍在发酵，已报刘副局长。", "李强"
        )
        forum = source_for(session, "临江论坛", "site", "http://forum.example/")
        for n in range(settings.crawl.alert_after_runs):
            session.add(
                CrawlRun(cycle_id=f"c{n}", source_id=forum.id, status="failed", error="HTTP 503")
            )
    ensure_user(db, "王敏", "duty")
    page = browser_page
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    page.goto(f"{live_server.url}/")
    page.fill("input[name=name]", "王敏")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    assert page.get_by_role("heading", name="工作台").is_visible()
    # Every chart is SVG in the page: nothing to load, nothing that can fail to load.
    assert page.evaluate("document.images.length") == 0
    assert page.locator(".week-chart svg").is_visible()
    assert page.locator(".bar-chart svg").count() == 2
    assert page.get_by_text("论坛普查泄露帖仍在发酵").is_visible()
    screens(page, "dashboard")
    # A source's bar opens that source's mentions.
    bar = page.locator(".bar-chart a.bar").first
    outlet, count = bar.get_attribute("data-value"), bar.get_attribute("data-count")
    bar.click()
    page.wait_for_url("**/mentions?*outlet=*")
    assert page.get_by_text(f"共 {count} 条").is_visible()
    assert page.locator("input[name=outlet]").input_value() == outlet

    page.get_by_role("link", name="舆情信息").click()
    page.select_option("select[name=sentiment]", "negative")
    page.get_by_role("button", name="筛选").click()
    assert "sentiment=negative" in page.url
    assert page.get_by_text("共 4 条").is_visible()
    page.fill("input[name=q]", "名单外流 手机号")
    page.get_by_role("button", name="筛选").click()
    assert page.get_by_text("共 2 条").is_visible()
    assert page.locator("select[name=sentiment]").input_value() == "negative"  # filters kept
    screens(page, "mentions-filtered")

    page.get_by_role("link", name="临江县人口普查登记信息疑遭泄露", exact=True).click()
    assert page.url.endswith(f"/mentions/{world.leak}")
    assert page.get_by_text(LEAK_REASON["detail"]).is_visible()
    page.select_option("select[name=sentiment]", "neutral")
    page.fill("textarea[name=note]", "原帖为转述，语气中性")
    page.get_by_role("button", name="保存修正").click()
    assert page.get_by_text("已保存修正").is_visible()
    assert page.get_by_text("由 王敏 于").is_visible()
    assert page.get_by_text("倾向：负面 → 中性").is_visible()
    screens(page, "mention-corrected")
    with db.sessions() as session:
        judgement = session.scalars(
            select(Judgement).where(Judgement.mention_id == world.leak).order_by(Judgement.id)
        ).all()[-1]
        assert (judgement.origin, judgement.sentiment, judgement.actor) == (
            "correction",
            "neutral",
            "王敏",
        )
        entry = session.scalars(select(AuditEntry).where(CORRECTED)).one()
        assert entry.action == "judgement.correct" and entry.detail == "原帖为转述，语气中性"

    page.get_by_role("link", name=re.compile("临江县人口普查登记信息泄露")).click()
    page.wait_for_url(f"**/incidents/{world.incident}")
    # is_visible() does not wait: on a loaded machine the heading may not be drawn yet.
    heading = page.get_by_role("heading", name=re.compile("临江县人口普查登记信息泄露"))
    heading.wait_for(state="visible")
    screens(page, "incident")

    # Crawled HTML stays text everywhere: no script ran, the markup is visible as written.
    for path in ("/mentions", f"/mentions/{world.hostile}", "/"):
        page.goto(f"{live_server.url}{path}")
        assert page.get_by_text("<script>alert(1)</script>").first.is_visible(), path
    page.goto(f"{live_server.url}/mentions/{world.hostile}")
    assert page.get_by_text("<img src=x onerror=alert(1)>", exact=False).is_visible()
    assert page.locator("img[src=x]").count() == 0
    screens(page, "hostile-mention")
    assert dialogs == []


def test_the_review_list_shows_only_unsure_mentions_until_a_person_corrects_them(settings, db):
    """待研判: the machine could not tell the two likeliest sentiments apart."""
    world = seed(db)
    with db.transaction() as session:
        unsure = add(
            session,
            90,
            "普查员来了一趟",
            "普查员今天来我们村登记了，说下周还要再来一次。",
            "临江论坛",
            T0 + timedelta(hours=5),
            {"sentiment": "neutral", "category": "procedure", "misinfo": False, "unsure": True},
        )
    client = client_as(settings, db)
    listing = client.get("/mentions")
    assert "待研判 1 条" in listing.text

    review = client.get("/mentions?review=yes")
    assert review.status_code == 200
    assert titles(review.text) == ["普查员来了一趟"]
    assert client.get("/mentions?review=maybe").status_code == 400

    page = client.get(f"/mentions/{unsure.id}")
    client.post(
        f"/mentions/{unsure.id}/correct",
        data={
            "csrf_token": correction_form(client, unsure.id),
            "sentiment": "neutral",
            "category": "procedure",
            "misinfo": "no",
            "note": "",
        },
    )
    assert "待研判" in page.text
    assert titles(client.get("/mentions?review=yes").text) == []
    assert world.leak != unsure.id
