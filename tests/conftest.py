"""Each test builds its own world: settings over a temporary data directory, a real SQLite
database, and real servers on 127.0.0.1 where it needs them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from responder.db import Database
from responder.demo.mailsink import MailSink, free_port
from responder.demo.world import DemoWorld, DemoWorldServer
from responder.settings import Settings, load_settings

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


@pytest.fixture
def ports(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Free ports for the demo world and mail sink, exported so subprocesses see them too."""
    chosen = {"world": free_port(), "mail": free_port()}
    monkeypatch.setenv("YUQING_DEMO__WORLD_PORT", str(chosen["world"]))
    monkeypatch.setenv("YUQING_DEMO__MAIL_PORT", str(chosen["mail"]))
    monkeypatch.setenv("YUQING_MAIL__SMTP_PORT", str(chosen["mail"]))
    return chosen


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "data"
    monkeypatch.setenv("YUQING_DATA", str(path))
    monkeypatch.delenv("YUQING_CONFIG", raising=False)
    return path


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
    server = DemoWorldServer(DemoWorld(settings.tz), port=settings.demo.world_port).start()
    yield server
    server.stop()


@pytest.fixture
def mail_sink(settings: Settings) -> Iterator[MailSink]:
    sink = MailSink(settings.data_dir / "mailbox", port=settings.mail.smtp_port).start()
    yield sink
    sink.stop()
