"""The daily and weekly reports: what they count, how they look, and that they arrive on time.

The world: an office in Asia/Shanghai whose daily report is due at 08:30 on Monday 2026-11-23,
so it covers 2026-11-22 08:30 to 2026-11-23 08:30; the weekly report at 09:00 that day covers
the seven days from 2026-11-16 09:00.
"""

from __future__ import annotations

import base64
import io
import re
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from responder.cli import app
from responder.db import Database
from responder.demo.mailsink import MailSink
from responder.models import (
    CrawlRun,
    DutyRoster,
    Incident,
    Judgement,
    Mention,
    OutboxMessage,
    Source,
)
from responder.reports import charts
from responder.reports.build import (
    Report,
    chart_images,
    gather,
    latest_issue,
    period_for,
    render_html,
    render_text,
)
from responder.reports.delivery import add_report_jobs, send_daily
from responder.settings import Settings, load_settings

TZ = ZoneInfo("Asia/Shanghai")
ISSUED = date(2026, 11, 23)
HOSTILE = "<script>alert(1)</script>普查员入户遭阻"
PNG = b"\x89PNG\r\n\x1a\n"
CJK_FAMILY = re.compile(r"CJK|Han Sans|WenQuanYi|YaHei|PingFang|Hei|Droid Sans Fallback")
needs_cjk_font = pytest.mark.skipif(
    charts.cjk_font() is None,
    reason="no CJK font for the charts: `make test` installs the Debian package fonts-noto-cjk",
)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ)


def write_config(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "duty.yaml": {
            "start": "2026-11-01",
            "people": [
                {"name": "王敏", "email": "wm@example.org", "phone": "13800000001"},
                {"name": "李强", "email": "lq@example.org", "phone": "13800000002"},
                {"name": "赵雪", "email": "zx@example.org", "phone": "13800000003"},
            ],
            "order": ["王敏", "李强", "赵雪"],
        },
        "recipients.yaml": {"reports": [{"name": "陈局长", "email": "chen@example.org"}]},
        "sources.yaml": {
            "sources": [
                {"name": "县政府网", "kind": "site", "url": "http://127.0.0.1:9/news/"},
                {"name": "临江论坛", "kind": "site", "url": "http://127.0.0.1:9/forum/"},
            ]
        },
    }
    for name, doc in files.items():
        (folder / name).write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return folder


@pytest.fixture
def config(tmp_path: Path, data_dir: Path, ports: dict[str, int]) -> Path:
    return write_config(tmp_path / "config")


@pytest.fixture
def world(config: Path) -> Iterator[tuple[Settings, Database]]:
    settings = load_settings(config)
    db = Database(settings)
    seed(db)
    yield settings, db
    db.dispose()


class Seeder:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.count = 0
        self.sources = {
            name: Source(name=name, kind="site", url="http://127.0.0.1:9/")
            for name in ("县政府网", "临江论坛")
        }
        session.add_all(self.sources.values())

    def incident(
        self, title: str, level: str, first: datetime, last: datetime, **kw: Any
    ) -> Incident:
        fields = {"category": "privacy_leak", "sentiment": "negative", "mention_count": 3}
        incident = Incident(
            title=title, machine_level=level, first_seen=first, last_seen=last, **{**fields, **kw}
        )
        self.session.add(incident)
        self.session.flush()
        return incident

    def mention(
        self,
        when: datetime | None,
        sentiment: str = "neutral",
        category: str = "general",
        outlet: str = "",
        incident: Incident | None = None,
        misinfo: bool = False,
        correction: str | None = None,
        **kw: Any,
    ) -> Mention:
        self.count += 1
        n = self.count
        judged = sentiment != "unjudged"
        mention = Mention(
            url=f"http://127.0.0.1:9/{n}",
            canonical_url=f"http://127.0.0.1:9/{n}",
            content_hash=f"{n:064d}",
            title=f"第{n}条",
            text=f"临江县统计局 第{n}条",
            outlet=outlet,
            published_at=when,
            source=self.sources["县政府网"] if not outlet else None,
            incident_id=incident.id if incident else None,
            **kw,
        )
        self.session.add(mention)
        self.session.flush()
        if judged:
            self.session.add(
                Judgement(
                    mention_id=mention.id,
                    sentiment=sentiment,
                    sentiment_score=0.9,
                    category=category,
                    category_score=0.9,
                    misinfo=misinfo,
                )
            )
        if correction:
            self.session.add(
                Judgement(
                    mention_id=mention.id,
                    origin="correction",
                    sentiment=correction,
                    sentiment_score=1,
                    category=category,
                    category_score=1,
                    actor="王敏",
                )
            )
        return mention


def seed(db: Database) -> None:
    with db.transaction() as session:
        s = Seeder(session)
        leak = s.incident("临江县普查数据疑遭泄露倒卖", "II", at(22, 9), at(22, 10, 40))
        quiet = s.incident(HOSTILE, "III", at(10, 9), at(12, 9), category="field_safety")
        bulletin = s.incident(
            "统计公报解读引发讨论", "IV", at(22, 12), at(23, 7), category="general"
        )
        single = s.incident("窗口服务态度", "IV", at(22, 15), at(22, 15), category="staff_conduct")
        closed = s.incident("冒充普查员诈骗", "III", at(20, 9), at(22, 11), status="closed")
        s.incident("已并入的事件", "II", at(22, 9), at(22, 10), status="merged")
        s.incident("报告之后才出现", "II", at(23, 10), at(23, 11))

        # The daily period, 11-22 08:30 to 11-23 08:30: 11 mentions.
        s.mention(at(22, 9), "negative", "privacy_leak", "临江论坛", leak)
        s.mention(at(22, 10, 15), "negative", "privacy_leak", "江州日报", leak)
        s.mention(at(22, 10, 40), "negative", "privacy_leak", "临江论坛", leak, misinfo=True)
        s.mention(at(22, 11), "negative", "scam", "临江论坛", closed)
        s.mention(at(22, 12), "neutral", "general", "江州日报", bulletin)
        s.mention(at(22, 14), "positive", "general", "临江县融媒体", bulletin)
        s.mention(at(22, 15), "negative", "staff_conduct", "临江论坛", single)
        s.mention(at(22, 20), "positive", "general", "江州日报")
        s.mention(at(23, 7), "neutral", "data_doubt", "临江论坛", bulletin, correction="negative")
        s.mention(at(23, 8, 29), "neutral", "general", "江州日报")
        s.mention(None, "unjudged", fetched_at=at(23, 7, 30))  # no time of its own
        # Just outside: the end is excluded, the minute before the start is the day before.
        s.mention(at(23, 8, 30), "negative", "general", "临江论坛")
        s.mention(at(22, 8, 29), "negative", "general", "临江论坛", bulletin)
        # Earlier in the week, for the weekly report and the comparison.
        s.mention(at(21, 12), "neutral", "general", "江州日报")
        s.mention(at(17, 10), "positive", "general", "江州日报")
        s.mention(at(16, 8, 59), "positive", "general", "江州日报")  # before the week

        session.add_all(
            [
                DutyRoster(day=date(2026, 11, 21), person="赵雪", handover_note="前一天的记录"),
                DutyRoster(
                    day=date(2026, 11, 22),
                    person="王敏",
                    handover_note="论坛帖子仍在发酵，已报分管领导。\n请继续关注江州日报后续报道。",
                ),
                DutyRoster(day=date(2026, 11, 23), person="李强", handover_note="次日的记录"),
            ]
        )
        for status in ("failed", "failed", "failed"):
            session.add(
                CrawlRun(
                    cycle_id="t",
                    source_id=s.sources["县政府网"].id,
                    status=status,
                    started_at=at(22, 18),
                    finished_at=at(22, 18),
                    failed=1,
                    error="http://127.0.0.1:9/news/: Connection refused",
                )
            )
        session.add(
            CrawlRun(
                cycle_id="t",
                source_id=s.sources["临江论坛"].id,
                status="ok",
                started_at=at(22, 18),
                found=5,
            )
        )
    assert quiet.id  # keeps the quiet incident's id for readers of the seed


def daily(world: tuple[Settings, Database]) -> Report:
    settings, db = world
    with db.sessions() as session:
        return gather(session, settings, "daily", ISSUED, now=at(23, 8, 30))


def test_periods_end_at_the_report_time_and_the_default_is_the_newest_due(config):
    settings = load_settings(config)
    period = period_for(settings, "daily", ISSUED)
    assert (period.start, period.end) == (at(22, 8, 30), at(23, 8, 30))
    weekly = period_for(settings, "weekly", ISSUED)
    assert (weekly.start, weekly.end) == (at(16, 9), at(23, 9))

    assert latest_issue(settings, "daily", at(23, 8, 29)) == date(2026, 11, 22)
    assert latest_issue(settings, "daily", at(23, 8, 30)) == ISSUED
    assert latest_issue(settings, "weekly", at(23, 8, 59)) == date(2026, 11, 16)
    assert latest_issue(settings, "weekly", at(23, 9)) == ISSUED
    assert latest_issue(settings, "weekly", at(28, 23)) == ISSUED


def test_the_daily_report_counts_the_24_hours_before_its_time(world):
    report = daily(world)

    assert report.total == 11
    # A person's correction wins over the machine; a mention without a judgement is counted.
    assert report.sentiments == {"negative": 6, "neutral": 2, "positive": 2, "unjudged": 1}
    assert dict(report.categories) == {
        "一般提及": 4,
        "信息泄露": 3,
        "冒充诈骗": 1,
        "工作作风": 1,
        "数据质疑": 1,
    }
    assert report.sources[:2] == [("临江论坛", 5), ("江州日报", 4)]
    assert ("县政府网", 1) in report.sources  # no outlet: the source's name
    assert report.misinfo == 1
    # The previous day: 11-21 08:30 to 11-22 08:30 holds the 11-22 08:29 and 11-21 12:00 ones.
    assert (report.previous_total, report.previous_negative) == (2, 1)
    assert sum(sum(b.counts.values()) for b in report.trend) == 11
    assert len(report.trend) == 24 and report.trend[0].start == at(22, 8, 30)
    assert report.trend[0].counts["negative"] == 1  # 09:00 falls in the 08:30 hour
    assert report.duty_name == "李强"


def test_incidents_needing_attention_are_open_and_serious_or_rising(world):
    report = daily(world)

    titles = [i.title for i in report.attention]
    # Level II first, then the quiet level III still open, then the rising level IV one.
    assert titles == ["临江县普查数据疑遭泄露倒卖", HOSTILE, "统计公报解读引发讨论"]
    leak, quiet, bulletin = report.attention
    assert (leak.level, leak.new_mentions, leak.mention_count) == ("II", 3, 3)
    assert leak.url == f"http://127.0.0.1:8000/incidents/{leak.id}"
    assert quiet.new_mentions == 0 and not quiet.rising
    assert bulletin.rising and bulletin.new_mentions == 3
    # Active in the period: the leak, the bulletin, the single one, and the closed scam case.
    assert report.active_by_level == {"I": 0, "II": 1, "III": 1, "IV": 2}
    assert report.new_by_level == {"I": 0, "II": 1, "III": 0, "IV": 2}


def test_the_report_shows_the_handover_and_the_sources_that_stopped_working(world):
    report = daily(world)

    assert [(h.day, h.person) for h in report.handovers] == [(date(2026, 11, 22), "王敏")]
    assert [h.name for h in report.source_problems] == ["县政府网"]
    assert report.crawl_runs == {"failed": 3, "ok": 1}

    subject, body = render_text(report)
    assert subject == "【舆情日报】临江县统计局 2026年11月23日：信息11条，负面6条，需关注事件3起"
    assert "监测时段：2026年11月22日 08:30 至 11月23日 08:30" in body
    assert "论坛帖子仍在发酵，已报分管领导。" in body and "次日的记录" not in body
    assert "县政府网：抓取失败，连续异常3次（http://127.0.0.1:9/news/: Connection refused）" in body
    assert "本期共监测到相关信息11条，较上期增加9条（+450.0%）。" in body
    assert f"http://127.0.0.1:8000/incidents/{report.attention[0].id}" in body


def test_the_html_escapes_what_it_shows(world):
    html = render_html(daily(world), {"trend": "cid:t", "sources": "cid:s"})

    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;普查员入户遭阻" in html
    assert 'src="cid:t"' in html and 'src="cid:s"' in html
    assert "论坛帖子仍在发酵" in html and "县政府网" in html


def cli(config: Path, *args: str) -> Result:
    """`yuqing` on the afternoon of the issue date: a later date is refused as the future."""
    import time_machine

    with time_machine.travel(at(23, 15)):
        return CliRunner().invoke(app, ["--config", str(config), *args])


def data_images(html: str) -> list[bytes]:
    found = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    return [base64.b64decode(data) for data in found]


@needs_cjk_font
def test_the_cli_writes_one_html_file_with_both_charts_embedded(world, config, tmp_path):
    from PIL import Image

    out = tmp_path / "out" / "daily.html"
    result = cli(config, "report", "daily", "--date", "2026-11-23", "--output", str(out))

    assert result.exit_code == 0, result.output
    assert f"已写入 {out}" in result.output
    images = data_images(out.read_text(encoding="utf-8"))
    assert len(images) == 2
    for png in images:
        assert png.startswith(PNG)
        with Image.open(io.BytesIO(png)) as image:
            image.load()
            assert image.width == 1080 and 280 <= image.height <= 900


def test_without_output_the_report_goes_to_the_data_directory(world, config):
    settings, _ = world
    result = cli(config, "report", "daily", "--date", "2026-11-23")

    assert result.exit_code == 0, result.output
    assert (settings.data_dir / "reports" / "daily-2026-11-23.html").exists()


@needs_cjk_font
def test_send_emails_the_report_once_to_the_duty_officer_and_the_leads(world, config, mail_sink):
    first = cli(config, "report", "daily", "--date", "2026-11-23", "--send")
    again = cli(config, "report", "daily", "--date", "2026-11-23", "--send")

    assert first.exit_code == 0, first.output
    assert "已加入发件箱：李强、陈局长" in first.output and "本次送出 2 封" in first.output
    assert "此前已加入发件箱，不再重复：李强、陈局长" in again.output
    assert len(mail_sink.messages()) == 2
    assert not (world[0].data_dir / "reports").exists()  # --send alone writes no file


@pytest.mark.parametrize("bad", ["2026-13-01", "yesterday", "2999-01-01"])
def test_a_bad_date_is_refused_with_exit_status_2(config, data_dir, bad):
    result = cli(config, "report", "daily", "--date", bad)

    assert result.exit_code == 2
    assert f"--date {bad}" in result.output.replace("'", "")


@needs_cjk_font
def test_the_weekly_report_draws_a_seven_day_trend(world):
    settings, db = world
    with db.sessions() as session:
        report = gather(session, settings, "weekly", ISSUED, now=at(23, 9))

    assert [b.start for b in report.trend] == [at(day, 9) for day in range(16, 23)]
    assert [sum(b.counts.values()) for b in report.trend] == [0, 1, 0, 0, 0, 2, 12]
    assert report.total == 15  # the 11-23 08:30 mention is in this week, not in that day
    png = chart_images(report)["trend"]
    assert png.startswith(PNG)
    subject, _ = render_text(report)
    assert subject.startswith("【舆情周报】临江县统计局 2026年11月23日")


def platform_fonts(page: Any, selector: str) -> list[str]:
    """The fonts Chromium really drew a node's text with (not what the CSS asked for)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    return [
        f["familyName"] for f in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    ]


@needs_cjk_font
def test_the_daily_report_renders_in_a_browser_in_a_chinese_font(world, config, tmp_path, chromium):
    from PIL import Image, ImageStat

    out = tmp_path / "daily.html"
    result = cli(config, "report", "daily", "--date", "2026-11-23", "--output", str(out))
    assert result.exit_code == 0, result.output
    shot = tmp_path / "daily.png"
    page = chromium.new_page(viewport={"width": 900, "height": 1200})
    try:
        page.goto(out.as_uri())
        page.wait_for_load_state("load")
        loaded = page.eval_on_selector_all(
            "img.chart", "imgs => imgs.map(i => i.complete && i.naturalWidth)"
        )
        heading = platform_fonts(page, "h1")
        cell = platform_fonts(page, "table.data td a")
        page.screenshot(path=str(shot), full_page=True)
    finally:
        page.close()

    assert loaded == [1080, 1080]
    assert CJK_FAMILY.search(charts.cjk_font() or ""), "the charts' font"
    assert any(CJK_FAMILY.search(name) for name in heading), heading
    assert any(CJK_FAMILY.search(name) for name in cell), cell
    with Image.open(shot) as image:
        assert image.width == 900 and image.height > 1500
        grey = image.convert("L")
        assert ImageStat.Stat(grey).stddev[0] > 20  # not a blank page
        assert len(grey.getcolors(256) or []) > 50


class StubCycle:
    """What the scheduler needs of a cycle, without crawling anything."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.runs = 0

    def run(self, sources: list[str] | None = None) -> None:
        self.runs += 1

    def tick(self) -> None:
        pass


def wait_for(predicate: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@needs_cjk_font
def test_the_daily_report_arrives_by_email_at_its_time_once(world, mail_sink: MailSink):
    import time_machine
    from PIL import Image

    from responder.running.scheduler import build_scheduler

    settings, db = world
    with time_machine.travel(at(23, 8, 29), tick=True) as clock:
        scheduler = build_scheduler(settings, StubCycle(db))  # type: ignore[arg-type]
        scheduler.start()
        try:
            time.sleep(0.3)
            assert mail_sink.messages() == []  # not before its time
            clock.move_to(at(23, 8, 30) + timedelta(seconds=1))
            scheduler.wakeup()
            assert wait_for(lambda: len(mail_sink.messages()) >= 2)
            clock.move_to(at(23, 8, 45))
            scheduler.wakeup()
            time.sleep(0.5)
        finally:
            scheduler.shutdown(wait=True)
        assert send_daily(db, settings).enqueued == []  # asked again: nothing new

    parsed = [
        BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        for path in mail_sink.messages()
    ]
    assert sorted(m["X-Envelope-To"] for m in parsed) == ["chen@example.org", "lq@example.org"]
    for message in parsed:
        assert message["Subject"].startswith("【舆情日报】临江县统计局 2026年11月23日")
        assert message.get_content_type() == "multipart/alternative"
        plain, related = message.get_payload()
        assert plain.get_content_type() == "text/plain"
        assert "论坛帖子仍在发酵" in plain.get_content()
        assert related.get_content_type() == "multipart/related"
        html, *images = related.get_payload()
        assert [i.get_content_type() for i in images] == ["image/png", "image/png"]
        for image in images:
            assert f'src="cid:{image["Content-ID"].strip("<>")}"' in html.get_content()
            with Image.open(io.BytesIO(image.get_content())) as png:
                assert png.width == 1080
    with db.sessions() as session:
        rows = session.scalars(select(OutboxMessage)).all()
    assert [(r.stage, r.status) for r in rows] == [("daily_report", "sent")] * 2


def test_report_jobs_are_scheduled_in_the_office_zone_only_when_enabled(config):
    from apscheduler.schedulers.background import BackgroundScheduler

    settings = load_settings(config)
    scheduler = BackgroundScheduler(timezone=settings.tz)
    add_report_jobs(scheduler, settings, None)  # type: ignore[arg-type]
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"report:daily", "report:weekly"}
    sunday_night = at(22, 23)
    assert jobs["report:daily"].trigger.get_next_fire_time(None, sunday_night) == at(23, 8, 30)
    assert jobs["report:weekly"].trigger.get_next_fire_time(None, at(23, 9, 1)) == at(30, 9)

    off = load_settings(config, overrides={"reports": {"daily": False, "weekly": False}})
    scheduler = BackgroundScheduler(timezone=off.tz)
    add_report_jobs(scheduler, off, None)  # type: ignore[arg-type]
    assert scheduler.get_jobs() == []
