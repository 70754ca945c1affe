"""Source health: every run is recorded, a source that stops working is reported to the duty
officer once per bad streak, and `yuqing sources` shows the state of every source."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from responder import clock
from responder.cli import app
from responder.db import Database
from responder.delivery.outbox import drain
from responder.demo.mailsink import MailSink
from responder.intake.crawl_runs import REMOTE_RUN_TIMEOUTS, close_abandoned_runs
from responder.models import CrawlRun, OutboxMessage
from responder.notices.duty import on_duty
from responder.ops.health import alert_unhealthy, source_health
from responder.processes import HOST, this_process
from responder.settings import Settings, load_settings
from tests.crawling import LoopbackSite, run_crawl, write_sources

FEED = {"name": "县政府网", "kind": "site", "url": "http://127.0.0.1:9/news/"}
FORUM = {"name": "临江论坛", "kind": "site", "url": "http://127.0.0.1:9/forum/"}


def settings_with(tmp_path: Path, *sources: dict[str, object]) -> Settings:
    return load_settings(write_sources(tmp_path / "config", list(sources)))


def add_runs(db: Database, name: str, *statuses: str) -> list[int]:
    from responder.intake.mentions import source_for

    ids = []
    with db.transaction() as session:
        source = source_for(session, name, "site", "http://127.0.0.1:9/")
        for status in statuses:
            run = CrawlRun(
                cycle_id="t",
                source_id=source.id,
                status=status,
                fetched=0 if status == "failed" else 3,
                found=3 if status == "ok" else 0,
                failed=1 if status == "failed" else 0,
                error="http://127.0.0.1:9/news/: Connection refused"
                if status == "failed"
                else None,
                finished_at=clock.now(),
            )
            session.add(run)
            session.flush()
            ids.append(run.id)
    return ids


def outbox(db: Database) -> list[OutboxMessage]:
    with db.sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def alert(db: Database, settings: Settings) -> int:
    with db.transaction() as session:
        return alert_unhealthy(session, settings)


def test_three_bad_runs_in_a_row_alert_the_duty_officer_once(tmp_path, data_dir):
    settings = settings_with(tmp_path, FEED, FORUM)
    db = Database(settings)
    add_runs(db, "县政府网", "ok", "failed", "empty", "failed")
    add_runs(db, "临江论坛", "failed", "failed", "ok")

    assert alert(db, settings) == 1
    assert alert(db, settings) == 0  # the same streak is not reported twice

    [message] = outbox(db)
    with db.sessions() as session:
        person = on_duty(session, settings, clock.today(settings.tz))
    assert person is not None and message.recipient == person.email
    assert message.subject == "【信息源异常】县政府网 连续 3 次抓取失败"
    assert "Connection refused" in message.body and "漏监测" in message.body
    db.dispose()


def test_the_threshold_is_per_source_when_a_source_sets_one(tmp_path, data_dir):
    settings = settings_with(tmp_path, {**FEED, "alert_after_runs": 2}, FORUM)
    db = Database(settings)
    add_runs(db, "县政府网", "failed", "failed")
    add_runs(db, "临江论坛", "failed", "failed")
    assert alert(db, settings) == 1
    assert "县政府网" in outbox(db)[0].subject
    db.dispose()


def test_recovery_sends_an_all_clear_and_a_new_streak_a_new_alert(tmp_path, data_dir):
    settings = settings_with(tmp_path, {**FEED, "alert_after_runs": 1})
    db = Database(settings)
    add_runs(db, "县政府网", "failed")
    assert alert(db, settings) == 1
    add_runs(db, "县政府网", "ok")
    assert alert(db, settings) == 1
    assert alert(db, settings) == 0
    add_runs(db, "县政府网", "empty")
    assert alert(db, settings) == 1
    subjects = [m.subject for m in outbox(db)]
    assert subjects == [
        "【信息源异常】县政府网 连续 1 次抓取失败",
        "【信息源恢复】县政府网 已恢复正常",
        "【信息源异常】县政府网 连续 1 次抓取无结果",
    ]
    db.dispose()


def test_a_disabled_source_is_not_alerted(tmp_path, data_dir):
    settings = settings_with(tmp_path, {**FEED, "enabled": False, "alert_after_runs": 1})
    db = Database(settings)
    add_runs(db, "县政府网", "failed")
    assert alert(db, settings) == 0
    db.dispose()


def test_health_lists_configured_sources_first_then_imports(tmp_path, data_dir):
    settings = settings_with(tmp_path, FEED, FORUM)
    db = Database(settings)
    add_runs(db, "导入:上级转办.xlsx", "ok")
    add_runs(db, "临江论坛", "ok", "empty")
    with db.sessions() as session:
        report = source_health(session, settings)
    assert [h.name for h in report] == ["县政府网", "临江论坛", "导入:上级转办.xlsx"]
    never, forum, imported = report
    assert never.last_status == "never" and never.runs == 0
    assert (forum.last_status, forum.bad_streak, forum.alerting) == ("empty", 1, False)
    assert imported.configured is False
    db.dispose()


@pytest.fixture
def broken_site():
    site = LoopbackSite().start()
    site.route("/news/", status=500, body=b"<h1>Internal Server Error</h1>")
    yield site
    site.stop()


def test_a_failing_source_is_recorded_alerted_and_emailed(tmp_path, data_dir, ports, broken_site):
    config = write_sources(
        tmp_path / "config",
        [
            {
                "name": "县政府网",
                "kind": "site",
                "url": broken_site.url("/news/"),
                "alert_after_runs": 1,
            }
        ],
    )
    done = run_crawl(config, env={"YUQING_CRAWL__RETRIES": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert broken_site.hits("/news/") == 2  # the first try and one retry

    settings = load_settings(config)
    db = Database(settings)
    with db.sessions() as session:
        run = session.scalars(select(CrawlRun)).one()
    assert run.status == "failed" and run.finished_at is not None
    assert "HTTP 500" in (run.error or "")

    sink = MailSink(settings.data_dir / "mailbox", port=settings.mail.smtp_port).start()
    try:
        result = drain(db.sessions, settings.mail, now=clock.now() + timedelta(seconds=1))
    finally:
        sink.stop()
    assert result.sent == 1
    [mail] = sink.messages()
    from email import message_from_bytes
    from email.header import decode_header, make_header

    email = message_from_bytes(mail.read_bytes())
    assert str(make_header(decode_header(email["Subject"]))) == (
        "【信息源异常】县政府网 连续 1 次抓取失败"
    )

    cli = CliRunner().invoke(app, ["--config", str(config), "sources"])
    assert cli.exit_code == 1  # a source is alerting
    assert "县政府网" in cli.stdout and "失败（已告警）" in cli.stdout
    as_json = CliRunner().invoke(app, ["--config", str(config), "sources", "--json"])
    [row] = json.loads(as_json.stdout)
    assert row["last_status"] == "failed" and row["alerting"] is True
    assert (row["fetched"], row["found"], row["failed"]) == (2, 0, 1)
    db.dispose()


def test_sources_exits_zero_when_every_source_is_healthy(tmp_path, data_dir):
    settings = settings_with(tmp_path, FEED)
    db = Database(settings)
    add_runs(db, "县政府网", "failed", "ok")
    db.dispose()
    cli = CliRunner().invoke(app, ["--config", str(tmp_path / "config"), "sources"])
    assert cli.exit_code == 0, cli.stdout
    assert "正常" in cli.stdout


def running_run(db: Database, name: str, worker: str | None, age: timedelta) -> int:
    """A run left "running" by `worker`, started `age` ago."""
    from responder.intake.mentions import source_for

    with db.transaction() as session:
        source = source_for(session, name, "site", "http://127.0.0.1:9/")
        run = CrawlRun(cycle_id="t", source_id=source.id, worker=worker)
        run.started_at = clock.now() - age
        session.add(run)
        session.flush()
        return run.id


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # reaped: its pid no longer runs
    return child.pid


def test_runs_whose_process_died_are_closed_as_interrupted_and_live_ones_are_left(
    tmp_path, data_dir
):
    settings = settings_with(tmp_path, FEED)
    db = Database(settings)
    remote_limit = timedelta(minutes=REMOTE_RUN_TIMEOUTS * settings.crawl.timeout_minutes)
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = f"{HOST}:{dead_pid()}"
        ids = {
            "dead here": running_run(db, "县政府网", dead, timedelta(minutes=1)),
            "alive here, old": running_run(db, "县政府网", f"{HOST}:{alive.pid}", 2 * remote_limit),
            "this process, old": running_run(db, "县政府网", this_process(), 2 * remote_limit),
            "other host, recent": running_run(
                db, "县政府网", "crawler-2:4242", remote_limit - timedelta(minutes=5)
            ),
            "other host, old": running_run(
                db, "县政府网", "crawler-2:4243", remote_limit + timedelta(minutes=5)
            ),
            "unrecorded, old": running_run(
                db, "县政府网", None, remote_limit + timedelta(minutes=5)
            ),
        }
        with db.transaction() as session:
            assert close_abandoned_runs(session, settings) == 3
        with db.transaction() as session:
            assert close_abandoned_runs(session, settings) == 0  # each is closed once
        with db.sessions() as session:
            runs = {name: session.get(CrawlRun, run_id) for name, run_id in ids.items()}
            status = {name: run.status for name, run in runs.items() if run is not None}
            dead_run = runs["dead here"]
            assert dead_run is not None and dead_run.finished_at is not None
            assert dead_run.error == f"the crawling process ({dead}) died before finishing"
            old_remote = runs["other host, old"]
            assert old_remote is not None and "crawler-2:4243" in (old_remote.error or "")
            report = source_health(session, settings)
    finally:
        alive.kill()
        alive.wait()
    assert status == {
        "dead here": "interrupted",
        "alive here, old": "running",
        "this process, old": "running",
        "other host, recent": "running",
        "other host, old": "interrupted",
        "unrecorded, old": "interrupted",
    }
    # Interrupted runs count against the source like failed ones.
    [health] = report
    assert (health.runs, health.last_status, health.bad_streak) == (3, "interrupted", 3)
    assert health.alerting
    db.dispose()


def test_an_interrupted_run_is_labelled_in_status_and_sources(tmp_path, data_dir):
    settings = settings_with(tmp_path, FEED)
    db = Database(settings)
    add_runs(db, "县政府网", "ok", "interrupted")
    db.dispose()
    config = str(tmp_path / "config")
    status = CliRunner().invoke(app, ["--config", config, "status"])
    assert "最近 中断" in status.stdout and "中断 1" in status.stdout, status.stdout
    sources = CliRunner().invoke(app, ["--config", config, "sources"])
    assert "中断" in sources.stdout, sources.stdout
