"""The owners at the wall between crawlers and responder: `crawl_runs` is the only writer of a
run's status, the after-crawl step runs once per cycle and after `yuqing crawl`, and the
crawler's known-URL middleware skips what is stored or set aside for good."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from scrapy.utils.test import get_crawler

from crawlers.known import KnownPagesMiddleware
from crawlers.spiders.site import SiteSpider
from responder.db import Database
from responder.intake import crawl_runs
from responder.intake.crawl_runs import RunCounts, RunStatus
from responder.intake.mentions import AsidePage, MentionRecord, remember_pages, source_for, store
from responder.models import CrawlRun
from responder.settings import Settings, Source

ROOT = Path(__file__).resolve().parent.parent


def _run(db: Database, run_id: int) -> CrawlRun:
    with db.sessions() as session:
        run = session.get(CrawlRun, run_id)
        assert run is not None
        return run


def test_a_run_goes_from_running_to_its_end_only_through_crawl_runs(db: Database) -> None:
    with db.transaction() as session:
        source = source_for(session, "新闻网", "site", "http://127.0.0.1:9/news/")
        run_id = crawl_runs.open_run(session, "c1", source.id)
    assert _run(db, run_id).status == "running"

    with db.transaction() as session, pytest.raises(ValueError):
        crawl_runs.finish_run(session, run_id, RunStatus.INTERRUPTED, RunCounts(), None)
    with db.transaction() as session:
        crawl_runs.finish_run(session, run_id, RunStatus.EMPTY, RunCounts(fetched=2), None)
    run = _run(db, run_id)
    assert (run.status, run.fetched, run.finished_at is not None) == ("empty", 2, True)
    # The values stored are the plain strings the database always held.
    assert [s.value for s in RunStatus] == ["running", "ok", "empty", "failed", "interrupted"]


def test_a_dead_process_run_is_closed_as_interrupted(db: Database, settings: Settings) -> None:
    with db.transaction() as session:
        source = source_for(session, "新闻网", "site", "http://127.0.0.1:9/news/")
        run_id = crawl_runs.open_run(session, "c1", source.id)
        session.get(CrawlRun, run_id).worker = "no-such-host.invalid:1"  # type: ignore[union-attr]
    with db.transaction() as session:
        # Another host's run within the remote limit is left alone.
        assert crawl_runs.close_abandoned_runs(session, settings) == 0
        session.get(CrawlRun, run_id).worker = f"{_this_host()}:999999999"  # type: ignore[union-attr]
    with db.transaction() as session:
        assert crawl_runs.close_abandoned_runs(session, settings) == 1
    assert _run(db, run_id).status == "interrupted"


def _this_host() -> str:
    from responder.processes import HOST

    return HOST


def test_no_other_module_writes_a_run_status() -> None:
    owner = ROOT / "responder" / "intake" / "crawl_runs.py"
    writes = re.compile(r"\brun\.status\s*=[^=]|\bCrawlRun\(\s*\w+\s*=|values\(status=")
    offenders = [
        str(path.relative_to(ROOT))
        for package in ("responder", "crawlers")
        for path in (ROOT / package).rglob("*.py")
        if path != owner and writes.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_after_crawl_step_runs_once_per_cycle(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from responder.running import cycle

    calls: list[Database] = []
    monkeypatch.setattr(cycle, "after_crawl", lambda db, settings: calls.append(db))
    cycle.Cycle(settings, db).run(crawl=False)
    assert calls == [db]


def test_yuqing_crawl_runs_the_after_crawl_step_after_the_subprocess(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from responder.cli import app
    from responder.running import aftercrawl, cycle

    order: list[str] = []
    monkeypatch.setattr(cycle, "crawl_subprocess", lambda *args: order.append("crawl"))
    monkeypatch.setattr(aftercrawl, "after_crawl", lambda db, settings: order.append("after"))
    done = CliRunner().invoke(app, ["crawl"])
    assert done.exit_code == 0, done.output
    assert order == ["crawl", "after"]


def test_the_known_url_middleware_skips_stored_and_set_aside_pages(
    settings: Settings, db: Database
) -> None:
    base = "http://127.0.0.1:9/news/"
    with db.transaction() as session:
        source = source_for(session, "新闻网", "site", base)
        store(session, MentionRecord(url=base + "stored.html", text="县城今天的新闻正文内容"))
        remember_pages(
            session,
            [
                AsidePage(base + "irrelevant.html", "irrelevant"),
                AsidePage(base + "empty.html", "empty"),
            ],
            source.id,
        )
    crawler = get_crawler(SiteSpider, {"YUQING": settings})
    spider = SiteSpider.from_crawler(crawler, source=Source(name="新闻网", kind="site", url=base))
    middleware = KnownPagesMiddleware.from_crawler(crawler)
    middleware.spider_opened(spider)
    try:
        listed = [
            base + name for name in ("stored.html", "irrelevant.html", "empty.html", "new.html")
        ]
        # An empty page is fetched again (the source may have been fixed); the rest are known.
        assert spider.new_links(listed) == [base + "empty.html", base + "new.html"]
        assert crawler.stats.get_value("yuqing/known") == 2
    finally:
        middleware.spider_closed(spider)
