"""Helpers for crawler tests: a loopback web server serving pages written for the test, a
crawl run as `yuqing crawl` runs it (`python -m crawlers` in a subprocess), and rounds of two
`--worker` processes (`run_round`, with the `redis_url` fixture of conftest.py).

    site = LoopbackSite().start()
    site.page("/news/", "<html>…</html>")                       # 200 text/html; charset=utf-8
    site.page("/gbk.html", body_bytes, content_type="text/html; charset=gbk")
    site.route("/boom", status=500)
    site.route("/slow", body=b"...", delay=5)
    site.route("/moved", status=301, headers={"Location": "/news/a1.html"})
    site.route("/api", handler=lambda path, query: (200, {"Content-Type": ...}, b"..."))
    done = run_crawl(tmp_path, [{"name": "新闻", "kind": "site", "url": site.url("/news/")}])
    site.hits("/news/a1.html")                                  # how often it was requested
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

Handler = Callable[[str, dict[str, list[str]]], tuple[int, dict[str, str], bytes]]


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    handler: Handler | None = None


class LoopbackSite:
    """A threaded HTTP server on 127.0.0.1 answering from a route table; unknown paths 404.

    `requests` keeps every path (with query) in arrival order, robots.txt included.
    """

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[str] = []
        self.request_headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        site = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                with site._lock:
                    site.requests.append(self.path)
                    site.request_headers.append(dict(self.headers.items()))
                parts = urlsplit(self.path)
                route = site.routes.get(self.path) or site.routes.get(parts.path)
                if route is None:
                    self._answer(404, {"Content-Type": "text/plain"}, b"not found")
                    return
                if route.delay:
                    time.sleep(route.delay)
                if route.handler is not None:
                    status, headers, body = route.handler(parts.path, parse_qs(parts.query))
                else:
                    status, headers, body = route.status, route.headers, route.body
                self._answer(status, headers, body)

            def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the crawler gave up on a slow or oversized answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def route(self, path: str, **kwargs: Any) -> None:
        self.routes[path] = Route(**kwargs)

    def page(
        self,
        path: str,
        body: str | bytes,
        content_type: str = "text/html; charset=utf-8",
        status: int = 200,
    ) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.route(path, status=status, body=data, headers={"Content-Type": content_type})

    def hits(self, path: str) -> int:
        """Requests for `path`; with a query in `path` the query must match too."""
        with self._lock:
            seen = self.requests if "?" in path else [urlsplit(p).path for p in self.requests]
            return Counter(seen)[path]

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()
            self.request_headers.clear()

    def start(self) -> LoopbackSite:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def write_sources(config_dir: Path, sources: list[dict[str, Any]]) -> Path:
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / "sources.yaml"
    path.write_text(yaml.safe_dump({"sources": sources}, allow_unicode=True), encoding="utf-8")
    return config_dir


def run_crawl(
    config_dir: Path,
    sources: list[dict[str, Any]] | None = None,
    only: list[str] | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """One crawl in a subprocess, then what follows it, as `yuqing crawl` runs them;
    `sources` (re)writes sources.yaml.

    The caller's environment (YUQING_DATA and the like, set by the fixtures) is inherited.
    """
    import os

    if sources is not None:
        write_sources(config_dir, sources)
    argv = [sys.executable, "-m", "crawlers", "--config", str(config_dir)]
    for name in only or []:
        argv += ["--source", name]
    done = subprocess.run(
        argv,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode == 0:
        after_crawl_step(config_dir, env)
    return done


def after_crawl_step(config_dir: Path, env: dict[str, str] | None = None) -> None:
    """What `yuqing crawl` and the cycle do after a crawl (`responder.running.aftercrawl`):
    close abandoned runs, group reprints, alert on unhealthy sources. The crawl subprocess no
    longer does it, so tests that crawl run it here, with the crawl's environment."""
    import os

    from responder.db import Database
    from responder.running.aftercrawl import after_crawl
    from responder.settings import load_settings

    saved = {name: os.environ.get(name) for name in env or {}}
    os.environ.update(env or {})
    try:
        settings = load_settings(config_dir)
        db = Database(settings)
        try:
            after_crawl(db, settings)
        finally:
            db.dispose()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass
class CrawlState:
    """What the database holds after crawls: mentions by canonical URL, every run of each
    source (oldest first), and set-aside pages' outcomes by canonical URL."""

    mentions: dict[str, Any]
    runs: dict[str, list[Any]]
    seen: dict[str, str]


def crawl_state(config_dir: Path, env: dict[str, str]) -> CrawlState:
    from sqlalchemy import select

    from responder.db import Database
    from responder.models import CrawlRun, Mention, SeenPage
    from responder.models import Source as SourceRow
    from responder.settings import load_settings

    database = Database(load_settings(config_dir, env=env), migrate=False)
    try:
        with database.transaction() as session:
            names = {row.id: row.name for row in session.scalars(select(SourceRow))}
            mentions = {m.canonical_url: m for m in session.scalars(select(Mention))}
            runs: dict[str, list[Any]] = {}
            for run in session.scalars(select(CrawlRun).order_by(CrawlRun.id)):
                runs.setdefault(names[run.source_id], []).append(run)
            seen = {p.canonical_url: p.outcome for p in session.scalars(select(SeenPage))}
            session.expunge_all()
    finally:
        database.dispose()
    return CrawlState(mentions, runs, seen)


@dataclass
class Worker:
    process: subprocess.Popen[str]
    log: Path

    def wait(self, timeout: float) -> str:
        self.process.wait(timeout)
        return self.log.read_text(encoding="utf-8")


def start_worker(
    config: Path, redis_url: str, log: Path, *args: str, env: dict[str, str] | None = None
) -> Worker:
    """`python -m crawlers --worker` in a subprocess, its output in `log`; `env` on top of
    this process's environment."""
    env = {
        **os.environ,
        **(env or {}),
        "YUQING_CRAWL__REDIS_URL": redis_url,
        "YUQING_CRAWL__AUTOTHROTTLE": "false",
    }
    argv = [sys.executable, "-m", "crawlers", "--config", str(config), "--worker", *args]
    handle = log.open("w", encoding="utf-8")
    process = subprocess.Popen(argv, env=env, stdout=handle, stderr=subprocess.STDOUT, text=True)
    handle.close()
    return Worker(process, log)


def run_round(
    config: Path,
    redis_url: str,
    logs: Path,
    name: str,
    gate: threading.Event,
    env: dict[str, str] | None = None,
) -> list[str]:
    """Two workers started together; `gate` opens once both have opened their spiders (the
    test's server holds its first answer until then). Each must exit 0; returns their logs."""
    gate.clear()
    workers = [start_worker(config, redis_url, logs / f"{name}-{n}.log", env=env) for n in (1, 2)]
    deadline = time.monotonic() + 60
    while not all("Spider opened" in w.log.read_text(encoding="utf-8") for w in workers):
        if time.monotonic() > deadline or any(w.process.poll() is not None for w in workers):
            for worker in workers:
                worker.process.kill()
            pytest.fail("a worker did not open its spider: " + workers[0].log.read_text()[-3000:])
        time.sleep(0.1)
    gate.set()
    outputs = []
    for worker in workers:
        try:
            output = worker.wait(60)
        except subprocess.TimeoutExpired:
            for other in workers:
                other.process.kill()
            pytest.fail(f"a worker did not finish: {worker.log.read_text()[-3000:]}")
        assert worker.process.returncode == 0, output[-3000:]
        outputs.append(output)
    return outputs
