"""The duty officer's dashboard: today's mentions and negative share, open incidents by level,
sources with problems, who is on duty with the last handover, and the seven-day charts the app
draws itself."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Any

from starlette.testclient import TestClient

from responder import clock
from responder.db import Database
from responder.intake.mentions import MentionRecord, source_for, store
from responder.models import CrawlRun, Incident, Judgement, Mention, Notice
from responder.notices.duty import on_duty, record_handover
from responder.running.day import shift_start
from responder.running.overview import WeekCache, week
from responder.settings import Settings
from responder.web import create_app
from tests.webclient import client_as


def local_midnight(settings: Settings, days_ago: int = 0) -> datetime:
    today = clock.today(settings.tz) - timedelta(days=days_ago)
    return datetime.combine(today, time(), tzinfo=settings.tz)


def add(
    session: Any,
    n: int,
    title: str,
    at: datetime,
    sentiment: str | None,
    category: str = "general",
    misinfo: bool = False,
    source: str = "临江新闻网",
    outlet: str = "",
) -> int:
    src = source_for(session, source, "site", "http://news.example/")
    mention = store(
        session,
        MentionRecord(
            url=f"http://news.example/{n}",
            title=title,
            text=f"{title}，临江县统计局第{n}条相关报道。",
            outlet=outlet,
            published_at=at,
        ),
        source_id=src.id,
    )
    assert mention is not None
    if sentiment:
        session.add(
            Judgement(
                mention=mention,
                sentiment=sentiment,
                sentiment_score=0.9,
                category=category,
                category_score=0.8,
                misinfo=misinfo,
            )
        )
    session.flush()
    return mention.id


def incident(session: Any, title: str, level: str, status: str = "open") -> int:
    now = clock.now()
    row = Incident(
        title=title,
        category="data_doubt",
        first_seen=now,
        last_seen=now,
        machine_level=level,
        status=status,
        sentiment="negative",
    )
    session.add(row)
    session.flush()
    return row.id


def seed(settings: Settings, db: Database) -> dict[str, Any]:
    midnight = local_midnight(settings)
    with db.transaction() as session:
        add(
            session,
            1,
            "临江县统计局发布前三季度经济数据",
            midnight + timedelta(hours=1),
            "positive",
        )
        add(
            session,
            2,
            "网传临江县普查数据造假",
            midnight + timedelta(hours=2),
            "negative",
            "data_fraud",
            misinfo=True,
            source="临江论坛",
        )
        add(
            session,
            3,
            "普查员入户遭居民投诉",
            midnight + timedelta(hours=3),
            "negative",
            "staff_conduct",
            source="微博搜索",
            outlet="临江身边事",
        )
        add(session, 4, "经济普查登记工作启动", midnight + timedelta(hours=4), None)
        add(session, 5, "昨日：统计公报解读", midnight - timedelta(hours=2), "negative")
        ids = {
            "major": incident(session, "网传临江县普查数据造假", "II"),
            "minor": incident(session, "普查员入户遭居民投诉", "IV"),
            "other": incident(session, "统计数据质疑帖", "IV"),
            "closed": incident(session, "已处置的旧事件", "III", status="closed"),
        }
        # Written by whoever the rotation put on duty yesterday, so the page names that person
        # on any calendar day.
        yesterday = local_midnight(settings, 1).date()
        officer = on_duty(session, settings, yesterday)
        assert officer is not None
        record_handover(
            session, settings, yesterday, "论坛普查造假帖需继续跟踪，已报刘副局长。", officer.name
        )
        ids["handover_by"] = officer.name
    return ids


def test_the_dashboard_shows_today_incidents_by_level_and_who_is_on_duty(settings, db):
    ids = seed(settings, db)
    page = client_as(settings, db).get("/")

    assert page.status_code == 200
    text = page.text
    cards = dict(
        re.findall(r'<div class="muted">([^<]+)</div><div class="n[^"]*">([^<]+)</div>', text)
    )
    assert cards["今日新增信息"] == "4"  # yesterday's is not counted
    assert cards["今日负面占比"] == "50%" and "负面 2 条" in text
    assert cards["今日疑似失实"] == "1"
    assert cards["处置中事件"] == "3"
    assert "II级 1" in text and "IV级 2" in text and "III级 0" in text
    for key in ("major", "minor", "other"):
        assert f'href="/incidents/{ids[key]}"' in text
    assert "已处置的旧事件" not in text
    # The most severe first.
    assert text.index("网传临江县普查数据造假</a>") < text.index("普查员入户遭居民投诉</a>")
    # Today's negative mentions, linked to their pages.
    assert re.search(r'<a class="title" href="/mentions/\d+">网传临江县普查数据造假</a>', text)
    with db.sessions() as session:
        person = on_duty(session, settings, local_midnight(settings).date())
    assert person is not None and f'<strong class="who-on-duty">{person.name}</strong>' in text
    assert "论坛普查造假帖需继续跟踪，已报刘副局长。" in text and ids["handover_by"] in text
    today = local_midnight(settings).date().isoformat()
    assert f'href="/mentions?from={today}&amp;to={today}&amp;sentiment=negative"' in text


def test_sources_that_keep_failing_are_listed_with_their_error(settings, db):
    with db.transaction() as session:
        forum = source_for(session, "临江论坛", "site", "http://forum.example/")
        news = source_for(session, "临江新闻网", "site", "http://news.example/")
        for n in range(settings.crawl.alert_after_runs):
            session.add(
                CrawlRun(
                    cycle_id=f"c{n}",
                    source_id=forum.id,
                    status="failed",
                    error="http://forum.example/: Connection refused",
                )
            )
            session.add(CrawlRun(cycle_id=f"c{n}", source_id=news.id, status="ok", found=3))
    text = client_as(settings, db).get("/").text

    problems = text[text.index("<h3>信息源异常</h3>") : text.index("<h3>今日需关注的信息")]
    assert "临江论坛" in problems and "临江新闻网" not in problems
    assert "采集失败" in problems and f"{settings.crawl.alert_after_runs} 次" in problems
    assert "Connection refused" in problems


def test_an_empty_database_gives_a_calm_dashboard(settings, db):
    text = client_as(settings, db).get("/").text
    assert "暂无事件" in text and "全部信息源运行正常" in text and "暂无交接记录" in text
    assert "今日暂无负面或疑似失实信息" in text


def test_the_dashboard_draws_its_charts_in_the_page_for_logged_in_users_only(settings, db):
    seed(settings, db)
    client = client_as(settings, db, "leader")
    # Every chart is drawn on the page itself (see the SVG chart tests), no image is fetched.
    page = client.get("/").text
    assert "<img" not in page and page.count("<svg") >= 3
    assert client.get("/charts/sentiment.png").status_code == 404

    stranger = TestClient(create_app(settings, db))
    refused = stranger.get("/", follow_redirects=False)
    assert refused.status_code == 303 and refused.headers["location"].startswith("/login")


def test_no_dashboard_resource_comes_from_the_internet(settings, db):
    seed(settings, db)
    text = client_as(settings, db).get("/").text
    for attribute in re.findall(r'(?:src|href)="([^"]*)"', text):
        assert attribute.startswith("/"), attribute
    assert "<link" not in text and "<script" not in text


def test_the_week_counts_each_local_day_by_the_judgement_in_force(settings, db):
    midnight = local_midnight(settings)
    with db.transaction() as session:
        first = add(session, 1, "统计局发布数据", midnight - timedelta(days=6), "neutral")
        add(session, 2, "普查数据遭质疑", midnight - timedelta(days=1), "negative", "data_doubt")
        add(session, 3, "普查员上门", midnight + timedelta(hours=1), None, outlet="临江晚报")
        add(session, 4, "七天前的旧闻", midnight - timedelta(days=7), "negative")  # too old
        session.add(
            Judgement(
                mention_id=first,
                origin="correction",
                actor="王敏",
                sentiment="positive",
                sentiment_score=1,
                category="general",
                category_score=1,
            )
        )

    with db.sessions() as session:
        data = week(session, settings, clock.now())

    assert [day.astimezone(settings.tz).date() for day, _ in data.days] == [
        (midnight - timedelta(days=n)).date() for n in range(6, -1, -1)
    ]
    assert [dict(counts) for _, counts in data.days] == [
        {"positive": 1},
        {},
        {},
        {},
        {},
        {"negative": 1},
        {"unjudged": 1},
    ]
    assert dict(data.sources) == {"临江新闻网": 2, "临江晚报": 1}
    assert dict(data.categories) == {"general": 1, "data_doubt": 1}


def test_the_charts_share_one_week_until_a_mention_or_judgement_is_added(settings, db):
    midnight = local_midnight(settings)
    with db.transaction() as session:
        add(session, 1, "统计局发布数据", midnight, "neutral")
    weeks = WeekCache()
    with db.sessions() as session:
        first = weeks.get(session, settings, clock.now())
        assert weeks.get(session, settings, clock.now()) is first
    with db.transaction() as session:
        second_id = add(session, 2, "普查数据遭质疑", midnight + timedelta(minutes=1), None)
    with db.sessions() as session:
        second = weeks.get(session, settings, clock.now())
    assert second is not first and dict(second.days[-1][1]) == {"neutral": 1, "unjudged": 1}
    with db.transaction() as session:
        session.add(
            Judgement(
                mention_id=second_id,
                sentiment="negative",
                sentiment_score=0.9,
                category="data_doubt",
                category_score=0.8,
            )
        )
    with db.sessions() as session:
        third = weeks.get(session, settings, clock.now())
    assert dict(third.days[-1][1]) == {"neutral": 1, "negative": 1}


def day_counts(text: str) -> dict[str, tuple[str, str]]:
    """The day list's lines: key -> (count, link)."""
    found = re.findall(
        r'data-key="(\w+)"><a href="([^"]+)">.*?<strong class="n[^"]*">([^<]+)</strong>', text
    )
    return {key: (count, link.replace("&amp;", "&")) for key, link, count in found}


def test_the_day_list_counts_what_waits_and_links_to_each_filtered_list(settings, db):
    ids = seed(settings, db)
    with db.transaction() as session:
        unsure = add(session, 6, "统计口径调整引发讨论", local_midnight(settings), "neutral")
        session.get(Mention, unsure).judgements[0].unsure = True  # type: ignore[union-attr]
        # An old incident first seen before the handover is not new to today's officer.
        old = session.get(Incident, ids["other"])
        assert old is not None
        old.first_seen = local_midnight(settings, 3)
        session.add_all(
            [
                Notice(incident_id=ids["major"], stage="duty_alert", level="II"),
                Notice(incident_id=ids["major"], stage="final", level="II"),
                Notice(
                    incident_id=ids["minor"],
                    stage="duty_alert",
                    level="IV",
                    acknowledged_at=clock.now(),
                    acknowledged_by="王值班",
                ),
                Notice(incident_id=ids["closed"], stage="duty_alert", level="III"),
            ]
        )
        forum = source_for(session, "临江论坛", "site", "http://forum.example/")
        for n in range(settings.crawl.alert_after_runs):
            session.add(CrawlRun(cycle_id=f"c{n}", source_id=forum.id, status="failed"))
    client = client_as(settings, db)
    lines = day_counts(client.get("/").text)

    assert [k for k in lines] == ["review", "incidents", "acks", "drafts", "sources"]
    assert lines["review"] == ("1", "/mentions?review=yes")
    # Today's three incidents (closed or not), not the one first seen three days ago.
    assert lines["incidents"][0] == "3"
    assert lines["acks"] == ("1", "/incidents?waiting=ack")  # no 终报, none acked or closed
    assert lines["drafts"] == ("0", "/drafts?status=pending")
    assert lines["sources"] == ("1", "/sources?trouble=yes")

    incidents = client.get(lines["incidents"][1]).text
    assert "网传临江县普查数据造假" in incidents and "已处置的旧事件" in incidents
    assert "统计数据质疑帖" not in incidents
    waiting = client.get(lines["acks"][1]).text
    assert "网传临江县普查数据造假" in waiting and "普查员入户遭居民投诉" not in waiting
    assert "统计口径调整引发讨论" in client.get(lines["review"][1]).text
    sources = client.get(lines["sources"][1]).text
    assert "临江论坛" in sources and "临江新闻网" not in sources
    assert client.get("/sources?trouble=maybe").status_code == 400


def test_new_incidents_count_from_yesterdays_handover(settings, db):
    with db.transaction() as session:
        day_ = clock.today(settings.tz) - timedelta(days=1)
        record_handover(session, settings, day_, "交接", "王值班")
        session.flush()
        since = shift_start(session, settings, clock.today(settings.tz))
    assert since <= local_midnight(settings)
    assert client_as(settings, db).get("/incidents?since=not-a-date").status_code == 400


def test_the_week_chart_shows_counts_on_hover_and_links_each_part_to_its_list(settings, db):
    seed(settings, db)
    page = client_as(settings, db).get("/").text
    chart = page[page.index('<figure class="week-chart">') : page.index("</figure>")]
    assert "<svg" in chart and "<script" not in chart

    days = re.findall(r'data-day="([\d-]+)" data-total="(\d+)"', chart)
    today = local_midnight(settings).date().isoformat()
    assert len(days) == 7 and days[-1] == (today, "4")
    parts = re.findall(
        r'<a href="([^"]+)" class="part" data-sentiment="(\w+)" data-count="(\d+)"><title>([^<]+)',
        chart,
    )
    todays = {
        s: (link.replace("&amp;", "&"), n, hover) for link, s, n, hover in parts if today in link
    }
    assert todays["negative"][0] == f"/mentions?from={today}&to={today}&sentiment=negative"
    assert todays["negative"][1] == "2" and "负面 2 条（当日共 4 条）" in todays["negative"][2]
    assert todays["unjudged"][1] == "1"
    # Following a part lists exactly that many mentions.
    listed = client_as(settings, db).get(todays["negative"][0]).text
    assert "网传临江县普查数据造假" in listed and "经济普查登记工作启动" not in listed


def bar_charts(page: str) -> dict[str, list[tuple[str, str, int, str]]]:
    """Each bar chart on the page by its heading: (link, value, count, hover) per bar."""
    found = {}
    for figure in re.findall(r'<figure class="bar-chart">(.*?)</figure>', page, re.S):
        heading = re.search(r"<h4>([^<]+)", figure)
        assert heading is not None and "<script" not in figure
        bars = found[heading.group(1)] = [
            (link.replace("&amp;", "&"), value, int(count), hover)
            for link, value, count, hover in re.findall(
                r'<a href="([^"]+)" class="bar" data-value="([^"]*)" data-count="(\d+)">'
                r"<title>([^<]+)</title>",
                figure,
            )
        ]
        assert not bars or figure.count("<svg") == 1
    return found


def listed(client: Any, link: str) -> set[str]:
    """The titles the mentions list shows at `link`."""
    page = client.get(link)
    assert page.status_code == 200, link
    return set(re.findall(r'<a class="title" href="/mentions/\d+">([^<]+)</a>', page.text))


def test_the_sources_and_categories_charts_show_counts_on_hover_and_link_to_their_mentions(
    settings, db
):
    seed(settings, db)
    client = client_as(settings, db)
    charts = bar_charts(client.get("/").text)
    assert set(charts) == {"近7日主要信源", "近7日信息类别"}
    first = local_midnight(settings, 6).date().isoformat()
    today = local_midnight(settings).date().isoformat()
    span = f"/mentions?from={first}&to={today}&"

    # Sources as the week counts them: the outlet, else the crawled source's name.
    sources = {value: (link, n, hover) for link, value, n, hover in charts["近7日主要信源"]}
    assert {value: n for value, (_, n, _) in sources.items()} == {
        "临江新闻网": 3,
        "临江论坛": 1,
        "临江身边事": 1,
    }
    assert [value for _, value, _, _ in charts["近7日主要信源"]][0] == "临江新闻网"
    link, n, hover = sources["临江新闻网"]
    assert hover == "临江新闻网：3 条"
    assert link == span + "outlet=%E4%B8%B4%E6%B1%9F%E6%96%B0%E9%97%BB%E7%BD%91"
    assert listed(client, link) == {
        "临江县统计局发布前三季度经济数据",
        "经济普查登记工作启动",
        "昨日：统计公报解读",
    }
    # Carried by the 微博搜索 source, counted and listed under its outlet.
    assert listed(client, sources["临江身边事"][0]) == {"普查员入户遭居民投诉"}

    categories = {value: (link, n, hover) for link, value, n, hover in charts["近7日信息类别"]}
    assert {value: n for value, (_, n, _) in categories.items()} == {
        "general": 2,
        "data_fraud": 1,
        "staff_conduct": 1,
    }
    link, n, hover = categories["data_fraud"]
    assert link == span + "category=data_fraud" and hover.endswith("：1 条")
    assert hover != "data_fraud：1 条"  # named in Chinese
    assert listed(client, link) == {"网传临江县普查数据造假"}
    assert listed(client, categories["general"][0]) == {
        "临江县统计局发布前三季度经济数据",
        "昨日：统计公报解读",
    }


def test_an_empty_week_draws_no_bars(settings, db):
    page = client_as(settings, db).get("/").text
    assert bar_charts(page) == {"近7日主要信源": [], "近7日信息类别": []}
    assert page.count("本期无相关信息") == 2
