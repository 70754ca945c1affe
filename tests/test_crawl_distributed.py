"""Crawling on several hosts: two `python -m crawlers --worker` processes split one crawl
through a real Redis server without fetching a page twice (crawlers.distributed)."""

from __future__ import annotations

import os
import pickle
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis
from scrapy import Request
from sqlalchemy import select

from crawlers.distributed import PREFIX, RequestPickle, Round, WorkerError
from crawlers.items import MentionItem
from crawlers.spiders.rss import RssSpider
from responder.db import Database
from responder.demo.mailsink import free_port
from responder.models import CrawlRun, Mention
from responder.settings import load_settings
from tests.crawling import LoopbackSite, run_round, write_sources

ARTICLES = 40
PER_PAGE = 15  # three list pages
TOPICS = ["工业增加值", "社会消费品零售总额", "固定资产投资", "居民人均可支配收入", "粮食产量"]


def article_path(i: int) -> str:
    return f"/news/a{i:03d}.html"


def list_path(page: int) -> str:
    return "/news/" if page == 1 else f"/news/list{page}.html"


@dataclass
class Newsroom:
    site: LoopbackSite
    # The first list page is answered once the test has seen both workers open the source:
    # "started together" made exact, however slowly either process starts.
    gate: threading.Event


@pytest.fixture
def newsroom() -> Iterator[Newsroom]:
    """~40 relevant articles behind three list pages; articles answer slowly enough (0.3 s,
    four at a time per worker) that both workers get a share."""
    site = LoopbackSite().start()
    gate = threading.Event()
    pages = (ARTICLES + PER_PAGE - 1) // PER_PAGE
    for page in range(1, pages + 1):
        numbers = range((page - 1) * PER_PAGE, min(page * PER_PAGE, ARTICLES))
        items = "".join(
            f'<li><a href="{article_path(i)}">临江县统计局发布第{i + 1}号统计快报</a></li>'
            for i in numbers
        )
        nxt = f'<a href="{list_path(page + 1)}">下一页</a>' if page < pages else ""
        html = f"<html><body><ul>{items}</ul>{nxt}</body></html>".encode()
        if page == 1:

            def first_page(
                path: str, query: object, html: bytes = html
            ) -> tuple[int, dict[str, str], bytes]:
                gate.wait(30)
                return 200, {"Content-Type": "text/html; charset=utf-8"}, html

            site.route(list_path(page), handler=first_page)
        else:
            site.route(
                list_path(page), body=html, headers={"Content-Type": "text/html; charset=utf-8"}
            )
    for i in range(ARTICLES):
        topic = TOPICS[i % len(TOPICS)]
        body = (
            f"<p>临江县统计局今天发布第{i + 1}号统计快报：今年以来全县{topic}同比增长"
            f"{3 + i / 10:.1f}%，其中第{i + 1}组调查样本{120 + i * 7}户。</p>"
            f"<p>县统计局有关负责人表示，第{i + 1}号快报的数据经过逐级审核，"
            f"{topic}延续恢复态势，普查员将继续入户核实。</p>"
        )
        site.route(
            article_path(i),
            body=(
                "<html><head><meta charset='utf-8'>"
                f"<title>临江县统计局发布第{i + 1}号统计快报</title></head><body><article>"
                f"<h1>临江县统计局发布第{i + 1}号统计快报</h1>{body}</article></body></html>"
            ).encode(),
            headers={"Content-Type": "text/html; charset=utf-8"},
            delay=0.3,
        )
    yield Newsroom(site, gate)
    gate.set()
    site.stop()


def test_two_workers_split_a_crawl_without_fetching_a_page_twice(
    tmp_path: Path, data_dir: Path, redis_url: str, newsroom: Newsroom
) -> None:
    site = newsroom.site
    config = write_sources(
        tmp_path / "config",
        [{"name": "临江新闻", "kind": "site", "url": site.url("/news/"), "max_pages": 5}],
    )
    logs = tmp_path / "logs"
    logs.mkdir()

    first = run_round(config, redis_url, logs, "round1", newsroom.gate)

    for i in range(ARTICLES):
        assert site.hits(article_path(i)) == 1, article_path(i)
    for page in (1, 2, 3):
        assert site.hits(list_path(page)) == 1, list_path(page)
    db = Database(load_settings(config), migrate=False)
    with db.sessions() as session:
        urls = list(session.scalars(select(Mention.url)))
        runs = list(session.scalars(select(CrawlRun).order_by(CrawlRun.id)))
    assert sorted(urls) == sorted(site.url(article_path(i)) for i in range(ARTICLES))
    # One row per worker, both having fetched and stored articles; one round, one cycle ID.
    assert len(runs) == 2, [(r.cycle_id, r.fetched, r.stored) for r in runs]
    assert len({r.cycle_id for r in runs}) == 1
    assert all(r.stored > 0 and r.status == "ok" for r in runs), [
        (r.fetched, r.found, r.stored, r.status, r.error) for r in runs
    ]
    assert sum(r.stored for r in runs) == ARTICLES
    assert sum(r.found for r in runs) == ARTICLES
    assert sum("last worker out" in output for output in first) == 1

    # The next round lists again but fetches no stored article, and stores nothing new.
    site.reset_log()
    run_round(config, redis_url, logs, "round2", newsroom.gate)
    assert site.hits(list_path(1)) == 1
    assert sum(site.hits(article_path(i)) for i in range(ARTICLES)) == 0
    with db.sessions() as session:
        assert len(list(session.scalars(select(Mention.id)))) == ARTICLES
        later = list(session.scalars(select(CrawlRun).where(CrawlRun.id > runs[-1].id)))
    # One worker read the first list page (fetched counts its robots.txt too); the other had
    # no share and recorded no run.
    assert [(r.fetched, r.stored, r.status) for r in later] == [(2, 0, "ok")]
    assert later[0].cycle_id != runs[0].cycle_id
    db.dispose()
    client = redis.Redis.from_url(redis_url)
    assert client.get(f"{PREFIX}:round") is None  # the last worker out closed the round
    client.close()


def test_workers_started_together_share_a_round_and_the_last_out_closes_it(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = redis.Redis.from_url(redis_url)
    first = Round.join(client, None, "host-a:1", 60_000)
    second = Round.join(client, None, "host-b:1", 60_000)
    assert first.id == second.id and client.get(f"{PREFIX}:round") == first.id.encode()
    named = Round.join(client, "0900", "host-c:1", 60_000)  # a named round stands apart
    assert named.id == "0900" and client.get(f"{PREFIX}:round") == first.id.encode()
    assert named.leave() is True
    assert first.leave() is False and second.leave() is True
    assert client.get(f"{PREFIX}:round") is None
    # A round whose workers all stopped answering (crashed) is not joined again.
    monkeypatch.setattr("crawlers.rounds.HEARTBEAT_MS", 50)
    crashed = Round.join(client, None, "host-a:2", 60_000)
    time.sleep(0.1)
    assert Round.join(client, None, "host-b:2", 60_000).id != crashed.id
    with pytest.raises(WorkerError, match="round ID"):
        Round.join(client, "a b", "host-a:3", 60_000)
    client.close()


def test_one_worker_of_a_round_claims_a_source_read_without_requests(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    first = Round.join(client, "0900", "host-a:1", 60_000)
    second = Round.join(client, "0900", "host-b:1", 60_000)
    assert first.claim("mailbox:局长信箱") is True
    assert second.claim("mailbox:局长信箱") is False
    assert first.claim("mailbox:局长信箱") is True  # asked again, it still has it
    assert second.claim("mailbox:信访信箱") is True  # another source, another claim
    # The next round claims afresh.
    assert Round.join(client, "1000", "host-b:2", 60_000).claim("mailbox:局长信箱") is True
    client.close()


def test_queued_requests_keep_their_callbacks_and_cb_kwargs() -> None:
    spider = RssSpider.__new__(RssSpider)  # only its methods are looked up by name
    spider.name = "rss:县政府网"
    published = datetime(2026, 1, 2, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    item = MentionItem(
        source="县政府网", url="http://x.example/1", title="标题", published_at=published
    )
    request = Request(
        "http://x.example/1",
        callback=spider.parse_linked,
        errback=spider.on_error,
        cb_kwargs={"item": item, "when": datetime(2026, 1, 2, tzinfo=UTC), "ids": {"1", "2"}},
        meta={"dont_obey_robotstxt": True, "redirect_urls": ["http://x.example/0"]},
    )
    data = RequestPickle.dumps(request.to_dict(spider=spider))
    from scrapy.utils.request import request_from_dict

    back = request_from_dict(RequestPickle.loads(data), spider=spider)
    assert back.callback == spider.parse_linked and back.errback == spider.on_error
    assert back.cb_kwargs == request.cb_kwargs and back.meta == request.meta


def test_queued_data_cannot_run_code_in_a_worker() -> None:
    class Exploit:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (os.system, ("true",))

    with pytest.raises(pickle.UnpicklingError, match="may not be loaded"):
        RequestPickle.loads(pickle.dumps({"meta": Exploit()}))


def test_a_worker_names_the_setting_when_redis_is_missing_or_unreachable(
    tmp_path: Path,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from crawlers.__main__ import main

    config = write_sources(
        tmp_path / "config", [{"name": "临江新闻", "kind": "site", "url": "http://127.0.0.1:9/"}]
    )
    argv = ["--config", str(config), "--worker"]
    monkeypatch.delenv("YUQING_CRAWL__REDIS_URL", raising=False)
    assert main(argv) == 2
    assert "crawl.redis_url is empty" in capsys.readouterr().err
    monkeypatch.setenv("YUQING_CRAWL__REDIS_URL", f"redis://:secret@127.0.0.1:{free_port()}/0")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "crawl.redis_url redis://:***@127.0.0.1:" in err and "unreachable" in err
    assert "secret" not in err
    from typer.testing import CliRunner

    from responder.cli import app

    monkeypatch.delenv("YUQING_CRAWL__REDIS_URL", raising=False)
    done = CliRunner().invoke(app, ["--config", str(config), "crawl", "--worker"])
    assert done.exit_code == 2 and "crawl.redis_url is empty" in done.output
