"""Logging: text by default, one JSON object per line on request, and every record logged
during a cycle carries that cycle's id as its run id — and never a secret."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from responder import logs
from responder.db import Database
from responder.models import Mention
from responder.running.cycle import Cycle
from responder.settings import load_settings
from tests.crawling import write_sources


@pytest.fixture
def captured() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    """yuqing's own handlers on the root logger, JSON and text, at INFO, for one test."""
    as_json, as_text = io.StringIO(), io.StringIO()
    handlers = [logs.LogHandler("json", as_json), logs.LogHandler("text", as_text)]
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.INFO)
    for handler in handlers:
        root.addHandler(handler)
    yield as_json, as_text
    for handler in handlers:
        root.removeHandler(handler)
    root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_parse_and_carry_time_level_logger_message_and_exception(captured):
    as_json, _ = captured
    log = logging.getLogger("responder.test")
    log.warning("第一行\n第二行 %s", "参数")
    try:
        raise ValueError("坏数据")
    except ValueError:
        log.exception("classify failed")
    first, second = lines(as_json)
    assert first["level"] == "WARNING" and first["logger"] == "responder.test"
    assert first["message"] == "第一行\n第二行 参数"
    assert str(first["time"]).endswith("+00:00")
    assert "run_id" not in first and "exception" not in first
    assert second["level"] == "ERROR"
    assert "ValueError: 坏数据" in str(second["exception"])


def test_records_inside_a_run_carry_its_id_and_records_outside_do_not(captured):
    as_json, as_text = captured
    log = logging.getLogger("responder.test")
    with logs.in_run("c0ffee123456"):
        log.info("inside")
        logging.getLogger("some.library").info("a library's record")
    log.info("outside")
    inside, library, outside = lines(as_json)
    assert inside["run_id"] == library["run_id"] == "c0ffee123456"
    assert "run_id" not in outside
    text = as_text.getvalue().splitlines()
    assert "INFO responder.test [c0ffee123456]: inside" in text[0]
    assert "INFO responder.test: outside" in text[2]


def test_every_record_of_a_cycle_carries_the_cycle_id_and_no_secret(
    captured, data_dir, ports, monkeypatch
):
    monkeypatch.setenv("YUQING_MAIL__PASSWORD", "mail-pass-zz9")
    monkeypatch.setenv("YUQING_WEB__METRICS_TOKEN", "metrics-token-zz9")
    settings = load_settings()
    db = Database(settings)
    with db.transaction() as session:
        session.add(
            Mention(url="file:a", canonical_url="file:a", content_hash="a", text="临江县统计局数据")
        )
    summary = Cycle(settings, db).run(crawl=False)
    db.dispose()
    as_json, as_text = captured
    records = [r for r in lines(as_json) if str(r["logger"]).startswith("responder")]
    messages = [str(r["message"]) for r in records]
    assert any(m.startswith("classified 1 mentions in ") for m in messages), messages
    assert any(m.startswith(f"cycle {summary.cycle_id}") for m in messages), messages
    assert {r.get("run_id") for r in records} == {summary.cycle_id}
    everything = as_json.getvalue() + as_text.getvalue()
    assert "mail-pass-zz9" not in everything and "metrics-token-zz9" not in everything


def test_setup_installs_one_handler_and_leaves_a_foreign_setup_alone():
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    try:
        root.handlers = []
        first, second = io.StringIO(), io.StringIO()
        logs.setup("INFO", "json", first)
        logs.setup("WARNING", "json", second)  # again: replaces, does not add
        logging.getLogger("responder.test").warning("once")
        assert first.getvalue() == ""
        assert [line["message"] for line in lines(second)] == ["once"]
        assert root.level == logging.WARNING

        foreign = logging.NullHandler()
        root.handlers = [foreign]
        logs.setup("DEBUG", "text", io.StringIO())
        assert root.handlers == [foreign] and root.level == logging.WARNING
    finally:
        root.handlers = saved
        root.setLevel(level)


def test_a_crawl_subprocess_logs_json_lines_tagged_with_the_cycle_id(tmp_path, data_dir):
    config = write_sources(
        tmp_path / "config", [{"name": "县政府网", "kind": "site", "url": "http://127.0.0.1:9/"}]
    )
    env = {
        **os.environ,
        "YUQING_LOG_FORMAT": "json",
        "YUQING_CRAWL__RETRIES": "0",
        "YUQING_CRAWL__OBEY_ROBOTS": "false",
    }
    argv = [sys.executable, "-m", "crawlers", "--config", str(config), "--cycle-id", "abc123"]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stderr.splitlines()]  # every line is JSON
    assert any(str(r["logger"]).startswith("scrapy") for r in records)
    assert {r.get("run_id") for r in records} == {"abc123"}


def test_the_token_of_an_acknowledgement_link_never_reaches_the_log():
    import io
    import logging

    from responder.logs import LogHandler

    out = io.StringIO()
    handler = LogHandler("text", out)
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        "",
        0,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "POST", "/ack/eyJuIjoxfQ.aBc-123_x", "1.1", 200),
        None,
    )
    handler.handle(record)
    assert "eyJuIjoxfQ" not in out.getvalue() and "/ack/…" in out.getvalue()
