"""Faults: the database locked or gone in the middle of a cycle, a source answering garbage, a
crawl killed with SIGKILL. After each, the next run completes, nothing stored is lost and no
notice goes out twice. (SMTP down and a kill mid-send: tests/test_escalation.py and
tests/test_outbox_crash.py.)"""

from __future__ import annotations

import gzip
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

import responder.db
from responder.db import Database
from responder.demo.mailsink import MailSink
from responder.intake.mentions import MentionRecord, store
from responder.models import CrawlRun, Incident, Judgement, Mention, Notice
from responder.models import Source as SourceRow
from responder.ops.health import BAD, source_health
from responder.processes import HOST
from responder.running.cycle import Cycle
from responder.settings import Settings, load_settings
from tests.crawling import LoopbackSite, run_crawl, write_sources

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai
STORY = "网传临江县统计局第七次人口普查登记信息泄露，普查员手机号和住户名单外流"
PAGES = Path(__file__).parent / "data" / "pages" / "crawl"
CRAWL_ENV = {
    "YUQING_CRAWL__DOWNLOAD_TIMEOUT": "2",
    "YUQING_CRAWL__RETRIES": "0",
    "YUQING_CRAWL__AUTOTHROTTLE": "false",
}


# --- the database in the middle of a cycle -------------------------------------------------


def short_busy_pragmas(milliseconds: int) -> Any:
    """responder.db's connection pragmas with a shorter busy timeout (30 s there)."""
    original = responder.db._sqlite_pragmas

    def pragmas(dbapi_connection: Any, record: Any) -> None:
        original(dbapi_connection, record)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={milliseconds}")
        cursor.close()

    return pragmas


@pytest.fixture
def office(
    data_dir: Path, ports: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Settings, Database, MailSink]]:
    """Settings with a duty officer and leadership to tell, a database whose connections wait
    at most 300 ms for a lock, and a mail sink; two stored mentions of one story."""
    monkeypatch.setattr(responder.db, "_sqlite_pragmas", short_busy_pragmas(300))
    settings = load_settings(
        overrides={
            "duty": {
                "people": [{"name": "王敏", "email": "wangmin@example.org"}],
                "order": ["王敏"],
                "start": "2026-11-23",
            },
            "recipients": {"leadership": [{"name": "陈局长", "email": "chen@example.org"}]},
        }
    )
    db = Database(settings)
    sink = MailSink(settings.data_dir / "mailbox", port=settings.mail.smtp_port).start()
    for n in (1, 2):
        add_mention(db, n, f"{STORY}，有居民表示担心。第{n}条。", T0)
    yield settings, db, sink
    sink.stop()
    db.dispose()


def add_mention(db: Database, n: int, text: str, at: datetime) -> None:
    """A stored mention with its machine judgement, as a crawl and classification leave it."""
    with db.transaction() as session:
        mention = store(
            session,
            MentionRecord(
                url=f"http://news.example/{n}", title=text[:24], text=text, published_at=at
            ),
        )
        assert mention is not None
        session.add(
            Judgement(
                mention=mention,
                sentiment="negative",
                sentiment_score=0.9,
                category="privacy_leak",
                category_score=0.9,
            )
        )


def database_path(db: Database) -> Path:
    assert db.engine.url.database
    return Path(db.engine.url.database)


def counts(db: Database) -> tuple[int, int, int]:
    """Mentions, incidents, notices stored."""
    with db.sessions() as session:
        return (
            session.scalar(select(func.count(Mention.id))) or 0,
            session.scalar(select(func.count(Incident.id))) or 0,
            session.scalar(select(func.count(Notice.id))) or 0,
        )


def write_lock(path: Path) -> sqlite3.Connection:
    """Another process's view: a connection holding SQLite's write lock."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_a_cycle_over_a_locked_database_fails_and_the_next_one_sends_each_notice_once(
    office: tuple[Settings, Database, MailSink],
) -> None:
    settings, db, sink = office
    cycle = Cycle(settings, db)
    holder = write_lock(database_path(db))
    try:
        with pytest.raises(OperationalError, match="database is locked"):
            cycle.run(crawl=False, now=T0)
    finally:
        holder.rollback()
        holder.close()
    assert sink.messages() == []
    assert counts(db)[0] == 2

    first = cycle.run(crawl=False, now=T0)
    sent = len(sink.messages())
    again = cycle.run(crawl=False, now=T0 + timedelta(minutes=5))

    assert first.incidents["IV"] == 1 and first.emails_sent == sent > 0
    assert again.emails_sent == 0 and len(sink.messages()) == sent
    mentions, incidents, notices = counts(db)
    assert (mentions, incidents) == (2, 1) and notices > 0
    mail = [message_from_bytes(m.read_bytes()) for m in sink.messages()]
    told = [(m["X-Envelope-To"], m["Subject"]) for m in mail]
    assert len(told) == len(set(told))  # nobody got the same notice twice


def test_a_cycle_waits_out_a_short_lock_and_completes(
    office: tuple[Settings, Database, MailSink], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, db, sink = office
    # A fresh engine whose connections wait up to 5 s: longer than the other writer holds on.
    monkeypatch.setattr(responder.db, "_sqlite_pragmas", short_busy_pragmas(5000))
    patient = Database(settings, migrate=False)
    try:
        holder = write_lock(database_path(db))

        def release_lock() -> None:
            holder.rollback()
            holder.close()

        release = threading.Timer(1.0, release_lock)
        release.start()
        started = time.monotonic()
        summary = Cycle(settings, patient).run(crawl=False, now=T0)
        waited = time.monotonic() - started
        release.join()
    finally:
        patient.dispose()

    assert waited >= 0.9  # it did wait for the lock
    assert summary.incidents["IV"] == 1 and summary.emails_sent == len(sink.messages()) > 0
    assert counts(db)[:2] == (2, 1)


def test_a_database_gone_mid_cycle_is_a_clear_error_and_the_next_cycle_loses_nothing(
    office: tuple[Settings, Database, MailSink], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, db, sink = office
    cycle = Cycle(settings, db)
    path = database_path(db)
    aside = path.with_name("moved-away.db")
    send = Cycle._notify_and_send

    def vanish_then_send(self: Cycle, now: datetime) -> int:
        # Between the drafts and the notices the file goes: a directory takes its place, so
        # no new (empty) database can be created there either.
        self.db.dispose()
        path.rename(aside)
        path.mkdir()
        return send(self, now)

    monkeypatch.setattr(Cycle, "_notify_and_send", vanish_then_send)
    started = time.monotonic()
    with pytest.raises(OperationalError, match="unable to open database file"):
        cycle.run(crawl=False, now=T0)
    assert time.monotonic() - started < 10  # an error, not a hang
    monkeypatch.setattr(Cycle, "_notify_and_send", send)
    assert sink.messages() == []

    path.rmdir()
    aside.rename(path)
    db.dispose()
    assert counts(db)[:2] == (2, 1)  # the incident triaged before the fault is kept

    first = cycle.run(crawl=False, now=T0)
    again = cycle.run(crawl=False, now=T0 + timedelta(minutes=5))

    assert first.emails_sent == len(sink.messages()) > 0
    assert again.emails_sent == 0
    assert counts(db)[:2] == (2, 1)


# --- crawls --------------------------------------------------------------------------------


def article_page(title: str, published: str) -> str:
    text = (PAGES / "news_article.html").read_text(encoding="utf-8")
    body = f"<p>{title}。临江县统计局有关负责人表示，将依法依规做好统计工作并及时回应群众关切。</p>"
    values = {"title": title, "body": body, "published": published, "outlet": "临江新闻网"}
    for key, value in {**values, "author": "王芳"}.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def news_site(site: LoopbackSite, prefix: str, count: int, delay: float = 0.0) -> list[str]:
    """A list page at `prefix`list.html linking `count` articles; returns their URLs."""
    today = datetime.now(SH).strftime("%Y-%m-%d")
    paths = [f"{prefix}2026/{9000 + n}.html" for n in range(count)]
    rows = "".join(
        f'<li><a href="{p}">临江县统计局发布第{n}号统计公报</a></li>' for n, p in enumerate(paths)
    )
    site.page(f"{prefix}list.html", f'<html><body><ul class="news-list">{rows}</ul></body></html>')
    for n, path in enumerate(paths):
        site.route(
            path,
            body=article_page(f"临江县统计局发布第{n}号统计公报", f"{today} 09:00").encode(),
            headers={"Content-Type": "text/html; charset=utf-8"},
            delay=delay,
        )
    return [site.url(p) for p in paths]


def crawl_database(data: Path) -> Database:
    return Database(load_settings(env={"YUQING_DATA": str(data)}), migrate=False)


def runs_and_mentions(data: Path) -> tuple[dict[str, list[CrawlRun]], list[str]]:
    database = crawl_database(data)
    try:
        with database.sessions() as session:
            names = {row.id: row.name for row in session.scalars(select(SourceRow))}
            runs: dict[str, list[CrawlRun]] = {}
            for run in session.scalars(select(CrawlRun).order_by(CrawlRun.id)):
                runs.setdefault(names[run.source_id], []).append(run)
            urls = list(session.scalars(select(Mention.canonical_url)))
        return runs, urls
    finally:
        database.dispose()


@pytest.fixture
def site() -> Iterator[LoopbackSite]:
    server = LoopbackSite().start()
    yield server
    server.stop()


@pytest.mark.slow
def test_sources_answering_garbage_fail_readably_and_the_good_source_is_stored(
    site: LoopbackSite, tmp_path: Path, data_dir: Path
) -> None:
    noise = random.Random(7).randbytes(4096)
    good = news_site(site, "/good/", 2)
    html = "text/html; charset=utf-8"
    site.page("/noise/list.html", noise, content_type=html)
    truncated = gzip.compress(b"<html><body>" + "临江县统计局".encode() * 500 + b"</body></html>")
    site.route(
        "/gz/list.html",
        body=truncated[: len(truncated) // 2],
        headers={"Content-Type": html, "Content-Encoding": "gzip"},
    )
    site.page("/feeds/noise.xml", noise, content_type="application/rss+xml")
    site.page("/feeds/html.xml", "<html><body><p>不是订阅源", content_type="application/rss+xml")
    site.page("/badenc/list.html", b"<html><body>\xff\xfe\x80<a href=\x81\x82>\xc3</a>", html)
    # A good list linking, besides its articles, one of noise and one cut-short gzip.
    listed = site.routes["/good/list.html"]
    site.page(
        "/good/list.html",
        listed.body.replace(
            b"</ul>",
            '<li><a href="/good/2026/8001.html">临江县统计局通报乱码</a></li>'
            '<li><a href="/good/2026/8002.html">临江县统计局通报截断</a></li></ul>'.encode(),
        ),
    )
    site.page("/good/2026/8001.html", noise, content_type=html)
    site.route(
        "/good/2026/8002.html",
        body=truncated[:40],
        headers={"Content-Type": html, "Content-Encoding": "gzip"},
    )
    # A working list page on a day it lists nothing: navigation links, no article.
    site.page(
        "/quiet/list.html",
        '<html><head><title>通知公告</title></head><body><nav><a href="/">首页</a>'
        '<a href="/about.html">关于我们</a></nav><ul class="news-list"></ul><p>暂无信息</p>'
        "</body></html>",
    )
    sources = [
        {"name": "good", "kind": "site", "url": site.url("/good/list.html")},
        {"name": "nothing-today", "kind": "site", "url": site.url("/quiet/list.html")},
        {"name": "noise-page", "kind": "site", "url": site.url("/noise/list.html")},
        {"name": "truncated-gzip", "kind": "site", "url": site.url("/gz/list.html")},
        {"name": "noise-feed", "kind": "rss", "url": site.url("/feeds/noise.xml")},
        {"name": "html-feed", "kind": "rss", "url": site.url("/feeds/html.xml")},
        {"name": "broken-encoding", "kind": "site", "url": site.url("/badenc/list.html")},
    ]

    done = run_crawl(tmp_path / "config", sources, env=CRAWL_ENV, timeout=60)

    assert done.returncode == 0, done.stderr[-3000:]
    runs, urls = runs_and_mentions(data_dir)
    latest = {name: (r[-1].status, r[-1].error or "") for name, r in runs.items()}
    assert sorted(urls) == sorted(good)
    # The noise article has no text to keep (set aside, not an error); the cut-short one fails
    # with a readable error naming it; the rest of the source is stored.
    good_run = runs["good"][-1]
    assert (good_run.status, good_run.found, good_run.stored, good_run.failed) == ("ok", 4, 2, 1)
    assert latest["good"][1].startswith(site.url("/good/2026/8002.html") + ": Compressed file")
    for name, path in (("noise-feed", "/feeds/noise.xml"), ("html-feed", "/feeds/html.xml")):
        status, error = latest[name]
        assert status == "failed" and site.url(path) in error and "feed does not parse" in error
    # A list page of noise, one cut short or one in bytes no encoding reads is a broken
    # source ("failed", with a parse error naming the source and the page), not a source that
    # lists nothing today ("empty").
    for name, path, problem in (
        ("noise-page", "/noise/list.html", "is not readable text"),
        ("truncated-gzip", "/gz/list.html", "has nothing in it: no text, no link"),
        ("broken-encoding", "/badenc/list.html", "is not readable text"),
    ):
        status, error = latest[name]
        assert status == "failed", (name, error)
        assert error.startswith(f"{site.url(path)}: the list page of source {name} {problem}")
        assert (runs[name][-1].found, runs[name][-1].failed) == (0, 1)
    assert latest["nothing-today"] == ("empty", "")


@pytest.mark.slow
def test_a_crawl_killed_mid_way_is_finished_by_the_next_one_without_duplicates(
    site: LoopbackSite, tmp_path: Path, data_dir: Path
) -> None:
    articles = news_site(site, "/slow/", 40)
    # The server answers one article at a time, 0.2 s each: the crawl outlasts the pipeline's
    # first timed flush (crawlers.pipelines.SavePipeline.FLUSH_SECONDS, 5 s), so the kill
    # lands after some mentions are stored and before the rest are.
    one_at_a_time = threading.Lock()
    for path in [p for p in site.routes if p.startswith("/slow/2026/")]:
        page = site.routes[path]

        def slowly(_path: str, _query: Any, page: Any = page) -> tuple[int, dict[str, str], bytes]:
            with one_at_a_time:
                time.sleep(0.2)
            return 200, page.headers, page.body

        site.route(path, handler=slowly)
    config = write_sources(
        tmp_path / "config", [{"name": "slow", "kind": "site", "url": site.url("/slow/list.html")}]
    )
    argv = [sys.executable, "-m", "crawlers", "--config", str(config), "--cycle-id", "killed"]
    # Queued requests wait for the server's lock: no download timeout may cut them short.
    env = {**os.environ, **CRAWL_ENV, "YUQING_CRAWL__DOWNLOAD_TIMEOUT": "60"}
    # The schema is made first, so the polling below never reads a half-migrated database.
    Database(load_settings(env={"YUQING_DATA": str(data_dir)})).dispose()
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not runs_and_mentions(data_dir)[1]:
            assert process.poll() is None, "the crawl ended before it could be killed"
            assert time.monotonic() < deadline, "the crawl stored nothing"
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    killed_urls = runs_and_mentions(data_dir)[1]
    assert 0 < len(killed_urls) < len(articles)

    done = subprocess.run(
        [*argv[:-1], "again"], env=env, capture_output=True, text=True, timeout=60, check=False
    )

    assert done.returncode == 0, done.stderr[-3000:]  # the dead run's source lock is gone
    runs, urls = runs_and_mentions(data_dir)
    assert sorted(urls) == sorted(articles)  # each article once, none lost
    assert set(killed_urls) <= set(urls)
    killed, finished = runs["slow"]
    # The next crawl of the source closed the killed run: its process is gone from this host.
    assert (killed.cycle_id, killed.status) == ("killed", "interrupted")
    assert killed.worker == f"{HOST}:{process.pid}" and killed.finished_at is not None
    assert killed.error == f"the crawling process ({HOST}:{process.pid}) died before finishing"
    assert (finished.cycle_id, finished.status) == ("again", "ok")
    assert finished.worker != killed.worker and finished.error is None
    assert finished.stored == len(articles) - len(killed_urls)
    # Source health counts the interrupted run, as a bad one.
    database = crawl_database(data_dir)
    try:
        with database.sessions() as session:
            [health] = source_health(session, load_settings(config))
    finally:
        database.dispose()
    assert (health.name, health.runs, health.last_status) == ("slow", 2, "ok")
    assert "interrupted" in BAD


@pytest.mark.slow
def test_redirect_loops_and_a_page_nested_too_deep_fail_with_their_reason(
    site: LoopbackSite, tmp_path: Path, data_dir: Path
) -> None:
    good = news_site(site, "/good/", 1)
    # A list page redirecting to itself, and two list pages redirecting to each other.
    site.route("/self/list.html", status=302, headers={"Location": "/self/list.html"})
    site.route("/ping/list.html", status=302, headers={"Location": "/pong/list.html"})
    site.route("/pong/list.html", status=302, headers={"Location": "/ping/list.html"})
    # Articles of a good list: one in a redirect loop, one of 200k nested divs.
    listed = site.routes["/good/list.html"]
    site.page(
        "/good/list.html",
        listed.body.replace(
            b"</ul>",
            '<li><a href="/good/2026/7001.html">临江县统计局通报转向</a></li>'
            '<li><a href="/good/2026/7002.html">临江县统计局通报嵌套</a></li></ul>'.encode(),
        ),
    )
    site.route("/good/2026/7001.html", status=301, headers={"Location": "/good/2026/7001.html"})
    nested = "<div>" * 200_000 + "临江县统计局发布统计公报" + "</div>" * 200_000
    site.page("/good/2026/7002.html", f"<html><body>{nested}</body></html>")
    sources = [
        {"name": "good", "kind": "site", "url": site.url("/good/list.html")},
        {"name": "self-loop", "kind": "site", "url": site.url("/self/list.html")},
        {"name": "ping-pong", "kind": "site", "url": site.url("/ping/list.html")},
    ]

    done = run_crawl(tmp_path / "config", sources, env=CRAWL_ENV, timeout=120)

    assert done.returncode == 0, done.stderr[-3000:]
    runs, urls = runs_and_mentions(data_dir)
    assert sorted(urls) == sorted(good)
    for name, path in (("self-loop", "/self/list.html"), ("ping-pong", "/ping/list.html")):
        run = runs[name][-1]
        assert run.status == "failed", (name, run.error)
        assert site.url(path) in (run.error or "") and "redirect" in (run.error or ""), run.error
    good_run = runs["good"][-1]
    assert good_run.status == "ok" and good_run.failed == 2, good_run.error
    assert site.url("/good/2026/7001.html") in (good_run.error or "")
    assert site.url("/good/2026/7002.html") in (good_run.error or "")
