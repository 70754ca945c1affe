"""Each source on its own schedule; a source being crawled is never crawled twice at once."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crawlers.runner import source_lock
from responder.running.scheduler import build_scheduler
from responder.schedules import parse_schedule
from responder.settings import ConfigError, load_settings
from tests.crawling import LoopbackSite, run_crawl, write_sources

TZ = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("text", "interval"),
    [
        ("30m", timedelta(minutes=30)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("90 s", timedelta(seconds=90)),
    ],
)
def test_intervals(text: str, interval: timedelta) -> None:
    trigger = parse_schedule(text, TZ)
    assert isinstance(trigger, IntervalTrigger) and trigger.interval == interval


def test_a_cron_line_fires_at_its_times_in_the_office_zone() -> None:
    trigger = parse_schedule("*/20 7-22 * * *", TZ)
    assert isinstance(trigger, CronTrigger)
    late = datetime(2026, 11, 22, 22, 45, tzinfo=TZ)
    assert trigger.get_next_fire_time(None, late) == datetime(2026, 11, 23, 7, 0, tzinfo=TZ)


@pytest.mark.parametrize("text", ["every day", "0m", "61 * * * *", "* * *"])
def test_bad_schedules_are_refused_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError, match="schedule"):
        parse_schedule(text, TZ)


def test_a_bad_schedule_in_sources_yaml_names_the_file_and_the_source(tmp_path, data_dir):
    config = write_sources(
        tmp_path / "config",
        [{"name": "论坛", "kind": "site", "url": "http://127.0.0.1:9/", "schedule": "hourly"}],
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    message = str(caught.value)
    assert "sources.yaml" in message and "sources.0.schedule" in message and "30m" in message


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        (
            {
                "name": "搜索",
                "kind": "search",
                "url": "http://s.example/?q=x",
                "keywords": ["统计"],
            },
            "{keyword}",
        ),
        ({"name": "搜索", "kind": "search", "url": "http://s.example/?q={keyword}"}, "keywords"),
        ({"name": "微博", "kind": "weibo"}, "keywords or users"),
        ({"name": "网站", "kind": "site"}, "needs a url"),
        ({"name": "网站", "kind": "forum", "url": "http://a.example/"}, "kind"),
    ],
)
def test_each_kind_says_what_it_needs(tmp_path, data_dir, source, problem):
    with pytest.raises(ConfigError, match="sources.yaml") as caught:
        load_settings(write_sources(tmp_path / "config", [source]))
    assert problem in str(caught.value)


class RecordingCycle:
    """Stands in for the cycle so the test sees which sources each job would crawl."""

    db = None

    def __init__(self) -> None:
        self.calls: list[list[str] | None] = []

    def run(self, sources: list[str] | None = None) -> None:
        self.calls.append(sources)

    def tick(self) -> None:
        pass


def test_sources_without_a_schedule_ride_the_cycle_and_the_others_get_their_own_job(
    tmp_path, data_dir
):
    config = write_sources(
        tmp_path / "config",
        [
            {"name": "新闻网", "kind": "site", "url": "http://127.0.0.1:9/a/"},
            {"name": "论坛", "kind": "site", "url": "http://127.0.0.1:9/b/", "schedule": "2h"},
            {
                "name": "留言板",
                "kind": "site",
                "url": "http://127.0.0.1:9/c/",
                "schedule": "*/20 7-22 * * *",
            },
            {
                "name": "停用",
                "kind": "site",
                "url": "http://127.0.0.1:9/d/",
                "schedule": "1h",
                "enabled": False,
            },
        ],
    )
    settings = load_settings(config)
    cycle = RecordingCycle()
    scheduler = build_scheduler(settings, cycle)  # type: ignore[arg-type]
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {
        "cycle",
        "notices",
        "purge",
        "report:daily",
        "report:weekly",
        "source:论坛",
        "source:留言板",
    }
    assert jobs["notices"].trigger.interval == timedelta(minutes=1)
    assert all(job.max_instances == 1 and job.coalesce for job in jobs.values())
    assert jobs["source:论坛"].trigger.interval == timedelta(hours=2)
    assert isinstance(jobs["source:留言板"].trigger, CronTrigger)
    for job_id in ("cycle", "source:论坛", "source:留言板"):
        jobs[job_id].func()
    assert cycle.calls == [["新闻网"], ["论坛"], ["留言板"]]


def test_a_source_another_crawl_holds_is_skipped(tmp_path, data_dir):
    site = LoopbackSite().start()
    site.page("/news/", "<html><body><p>列表</p></body></html>")
    try:
        config = write_sources(
            tmp_path / "config", [{"name": "新闻网", "kind": "site", "url": site.url("/news/")}]
        )
        settings = load_settings(config)
        with source_lock(settings, settings.sources[0]) as held:
            assert held is not None
            done = run_crawl(config)
        assert done.returncode == 0
        assert "still being crawled by another run; skipped" in done.stderr
        assert site.hits("/news/") == 0
        assert run_crawl(config).returncode == 0
        assert site.hits("/news/") == 1
    finally:
        site.stop()
