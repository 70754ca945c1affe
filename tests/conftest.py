"""Each test builds its own world: settings over a temporary data directory, a real SQLite
database, and real servers on 127.0.0.1 where it needs them.

`pytest --now INSTANT` runs the whole suite as at that instant: this process through
time-machine (ticking from the instant), the processes it starts through the clock offset they
inherit (`responder.clock`). Without it, the real clock; either way tests take dates from the
clock, never from the calendar."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
import time_machine
from hypothesis import settings as hypothesis_settings

from responder import clock
from responder.db import Database
from responder.demo.mailsink import MailSink, free_port
from responder.demo.world import DemoWorld, DemoWorldServer
from responder.settings import Settings, load_settings

# Property tests pick their examples from a fixed seed in the suite, so `make test` gives the
# same verdict on every run; HYPOTHESIS_PROFILE=explore searches afresh each time.
hypothesis_settings.register_profile("suite", derandomize=True)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--now",
        metavar="INSTANT",
        help="run as at this instant, ISO 8601 with an offset (e.g. 2027-03-01T00:05+08:00)",
    )


def pinned_instant(raw: str) -> datetime:
    try:
        instant = datetime.fromisoformat(raw)
    except ValueError:
        raise pytest.UsageError(f"--now {raw!r}: not an ISO 8601 instant") from None
    if instant.tzinfo is None:
        raise pytest.UsageError(f"--now {raw!r}: give the UTC offset, e.g. {raw}+08:00")
    return instant


def pytest_configure(config: pytest.Config) -> None:
    raw = config.getoption("--now")
    if not raw:
        # The real clock, here and in every process the suite starts.
        os.environ.pop(clock.OFFSET_ENV, None)
        return
    instant = pinned_instant(raw)
    # Processes the suite starts inherit the offset; this one travels (and keeps ticking, so
    # timeouts and ordering behave as on any day).
    os.environ[clock.OFFSET_ENV] = repr((instant - datetime.now(UTC)).total_seconds())
    traveller = time_machine.travel(instant, tick=True)
    traveller.start()
    config.stash[TRAVELLER] = traveller


@contextlib.contextmanager
def anchored(instant: datetime) -> Iterator[None]:
    """This process and the ones it starts from now on, back at `instant` (ticking)."""
    real = time_machine.escape_hatch.time.time()
    with (
        time_machine.travel(instant, tick=True),
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setenv(clock.OFFSET_ENV, repr(instant.timestamp() - real))
        yield


def _at_pinned_instant(request: pytest.FixtureRequest) -> Iterator[None]:
    raw = request.config.getoption("--now")
    if not raw:
        yield
        return
    with anchored(pinned_instant(raw)):
        yield


# With --now, each module and each test starts again at the pinned instant: a run of twenty
# minutes from 23:59 must not cross midnight between a fixture reckoning "yesterday" and the
# test that reads it. Autouse fixtures come first within their scope, so module fixtures (a
# crawled world) are built at the instant too.
@pytest.fixture(scope="module", autouse=True)
def _module_at_pinned_instant(request: pytest.FixtureRequest) -> Iterator[None]:
    yield from _at_pinned_instant(request)


@pytest.fixture(autouse=True)
def _test_at_pinned_instant(request: pytest.FixtureRequest) -> Iterator[None]:
    yield from _at_pinned_instant(request)


def pytest_unconfigure(config: pytest.Config) -> None:
    traveller = config.stash.get(TRAVELLER, None)
    if traveller is not None:
        traveller.stop()
        os.environ.pop(clock.OFFSET_ENV, None)


def pytest_report_header(config: pytest.Config) -> str:
    raw = config.getoption("--now")
    return f"clock: pinned at {raw}" if raw else "clock: real"


TRAVELLER = pytest.StashKey[time_machine.travel]()

# Modules whose verdict depends on the date or the time of day (look-back windows, the office's
# today, duty days, report periods, link and session expiry, retention, relative dates):
# `make test-clock` runs them at the instants that catch the calendar's edges.
DATE_SENSITIVE = {
    "test_clock",
    "test_crawl",
    "test_crawl_mailbox",
    "test_crawl_distributed_mailbox",
    "test_crawl_wechat",
    "test_crawl_json",
    "test_crawl_search_weibo",
    "test_cycle",
    "test_dates",
    "test_demo_cli",
    "test_duty",
    "test_escalation",
    "test_hotlists",
    "test_import",
    "test_metrics",
    "test_outbox",
    "test_registration",
    "test_reports",
    "test_reprints",
    "test_retention",
    "test_schedules",
    "test_source_health",
    "test_web_auth",
    "test_web_dashboard",
    "test_web_mentions",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.module is not None and item.module.__name__.rsplit(".", 1)[-1] in DATE_SENSITIVE:
            item.add_marker(pytest.mark.clock)


REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


@pytest.fixture
def ports(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Free ports for the demo world, its mailbox and the mail sink, exported so subprocesses
    see them too."""
    chosen = {"world": free_port(), "mail": free_port(), "imap": free_port()}
    monkeypatch.setenv("YUQING_DEMO__WORLD_PORT", str(chosen["world"]))
    monkeypatch.setenv("YUQING_DEMO__MAIL_PORT", str(chosen["mail"]))
    monkeypatch.setenv("YUQING_DEMO__IMAP_PORT", str(chosen["imap"]))
    monkeypatch.setenv("YUQING_MAIL__SMTP_PORT", str(chosen["mail"]))
    return chosen


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "data"
    monkeypatch.setenv("YUQING_DATA", str(path))
    monkeypatch.delenv("YUQING_CONFIG", raising=False)
    return path


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A real redis-server on a free port of 127.0.0.1, without persistence, in a temp dir."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip(
            "redis-server is not installed: `make test` installs it as root with"
            " `apt-get install redis-server` (Debian package redis-server)"
        )
    port = free_port()
    directory = tmp_path / "redis"
    directory.mkdir()
    with (directory / "redis.log").open("w") as out:
        process = subprocess.Popen(
            [
                server,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            cwd=directory,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"redis-server did not start: {(directory / 'redis.log').read_text()}")
            time.sleep(0.05)
    client.close()
    yield url
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def settings(data_dir: Path, ports: dict[str, int]) -> Settings:
    return load_settings()


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings)
    yield database
    database.dispose()


@pytest.fixture
def demo_world(settings: Settings) -> Iterator[DemoWorldServer]:
    server = DemoWorldServer(
        DemoWorld(settings.tz),
        port=settings.demo.world_port,
        imap_port=settings.demo.imap_port,
    ).start()
    yield server
    server.stop()


@pytest.fixture
def mail_sink(settings: Settings) -> Iterator[MailSink]:
    sink = MailSink(settings.data_dir / "mailbox", port=settings.mail.smtp_port).start()
    yield sink
    sink.stop()


ARTIFACTS = Path(os.environ.get("YUQING_TEST_ARTIFACTS", REPO / "test-artifacts"))


class LiveServer:
    """The real web app under uvicorn on a free loopback port, in a background thread."""

    def __init__(self, settings: Settings, db: Database) -> None:
        import uvicorn

        from responder.web import create_app

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(settings, db), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "the web app did not start"
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(settings: Settings, db: Database) -> Iterator[LiveServer]:
    server = LiveServer(settings, db).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (never Playwright's own browser download)."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (test extra)"
    )
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.skip("chromium is not installed: `make test` installs the Debian package chromium")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield browser
        browser.close()


class Screens:
    """Saves full-page screenshots under test-artifacts/screenshots/<test name>/."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        self.folder = ARTIFACTS / "screenshots" / name
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def __call__(self, page: Any, label: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def screens(request: pytest.FixtureRequest) -> Screens:
    return Screens(request)


@pytest.fixture
def browser_page(chromium: Any) -> Iterator[Any]:
    """A fresh browser context (own cookies) and page, 1280 wide, in Chinese."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    """One throwaway PostgreSQL cluster on 127.0.0.1 for the whole test session."""
    from tests.postgres import PostgresServer, Unavailable

    try:
        server = PostgresServer().start()
    except Unavailable as exc:
        pytest.skip(f"PostgreSQL tests skipped: {exc}")
    yield server
    server.stop()


@pytest.fixture
def pg_settings(
    postgres_server: Any, data_dir: Path, ports: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """Settings whose database is a fresh, empty PostgreSQL database of its own."""
    url = postgres_server.create_database()
    monkeypatch.setenv("YUQING_DATABASE__URL", url)
    yield load_settings()
    postgres_server.drop_database(url)
