"""The operational facts, read from the database: the same numbers on `/metrics` (Prometheus
text format, for a monitoring server only) and from `yuqing status`, which exits 1 when
something needs attention; `/healthz` fails when the database does."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient
from typer.testing import CliRunner

from responder import clock
from responder.cli import app
from responder.db import Database
from responder.intake.mentions import source_for
from responder.models import CrawlRun, Incident, Judgement, Mention, Notice, OutboxMessage
from responder.ops.metrics import NO_SOURCE, gather
from responder.settings import Settings, load_settings
from responder.web import create_app
from tests.crawling import write_sources

NEWS = {"name": "县政府网", "kind": "site", "url": "http://127.0.0.1:9/news/"}
FORUM = {"name": "临江论坛", "kind": "site", "url": "http://127.0.0.1:9/forum/"}
LOCAL = ("127.0.0.1", 40000)


def world(tmp_path: Path, **env: str) -> tuple[Settings, Database]:
    """Two sources: the news site crawled fine with two mentions, one judged; the forum failed
    three times in a row (alerting). One imported mention, one notice waiting for an ack."""
    config = write_sources(tmp_path / "config", [NEWS, FORUM])
    settings = load_settings(config, env={"YUQING_DATA": str(tmp_path / "data"), **env})
    db = Database(settings)
    now = clock.now()
    with db.transaction() as session:
        news = source_for(session, NEWS["name"], "site", NEWS["url"])
        forum = source_for(session, FORUM["name"], "site", FORUM["url"])
        session.add(CrawlRun(cycle_id="a", source_id=news.id, status="ok", failed=2))
        for _ in range(3):
            session.add(CrawlRun(cycle_id="a", source_id=forum.id, status="failed", failed=1))
        old = Mention(
            source_id=news.id,
            url="http://127.0.0.1:9/news/1",
            canonical_url="http://127.0.0.1:9/news/1",
            content_hash="1",
            text="临江县统计局发布公报",
            fetched_at=now - timedelta(days=3),
        )
        fresh = Mention(
            source_id=news.id,
            url="http://127.0.0.1:9/news/2",
            canonical_url="http://127.0.0.1:9/news/2",
            content_hash="2",
            text="临江县统计局回应",
            fetched_at=now - timedelta(minutes=10),
        )
        imported = Mention(
            url="file:x", canonical_url="file:x", content_hash="3", text="导入的信息"
        )
        session.add_all([old, fresh, imported])
        session.flush()
        session.add(
            Judgement(
                mention_id=fresh.id,
                sentiment="neutral",
                sentiment_score=0.9,
                category="other",
                category_score=0.8,
                created_at=now - timedelta(minutes=4),
            )
        )
        incident = Incident(
            title="数据泄露", category="leak", machine_level="II", first_seen=now, last_seen=now
        )
        session.add(incident)
        session.flush()
        session.add(
            Notice(
                incident_id=incident.id,
                stage="initial",
                level="II",
                next_step_at=now + timedelta(minutes=15),
            )
        )
        session.add(
            OutboxMessage(
                dedupe_key="k1",
                recipient="leader@example.org",
                subject="初报",
                body="...",
                stage="initial",
                created_at=now - timedelta(minutes=5),
            )
        )
    return settings, db


def test_facts_count_what_is_stored_crawled_judged_and_waiting(tmp_path):
    settings, db = world(tmp_path)
    with db.sessions() as session:
        facts = gather(session, settings)
    by_name = {s.name: s for s in facts.sources}
    assert (facts.mentions, facts.mentions_24h) == (3, 2)
    news, forum = by_name["县政府网"], by_name["临江论坛"]
    assert (news.stored, news.stored_24h, news.runs, news.errors) == (2, 1, {"ok": 1}, 2)
    assert (forum.runs, forum.errors, forum.bad_streak, forum.alerting) == (
        {"failed": 3},
        3,
        3,
        True,
    )
    assert by_name[NO_SOURCE].stored == 1
    assert facts.unclassified == 2
    assert facts.classified_24h == 1
    assert facts.classification_lag_max is not None
    assert abs(facts.classification_lag_max - 360) < 5  # stored 10 min ago, judged 4 min ago
    assert facts.outbox["email"] == {"pending": 1, "sending": 0, "failed": 0}
    assert facts.oldest_unsent_seconds is not None and 295 < facts.oldest_unsent_seconds < 320
    assert facts.notices_awaiting_ack == 1
    assert facts.incidents_open == {"I": 0, "II": 1, "III": 0, "IV": 0}
    assert facts.problems == ["信息源异常：临江论坛 连续 3 次抓取失败或无结果"]
    db.dispose()


def test_metrics_expose_the_facts_in_prometheus_text_format(tmp_path):
    settings, db = world(tmp_path)
    client = TestClient(create_app(settings, db), client=LOCAL)
    page = client.get("/metrics")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/plain")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(page.text)
        for s in family.samples
    }
    assert samples[("yuqing_mentions_stored_total", (("source", "县政府网"),))] == 2
    assert samples[("yuqing_crawl_errors_total", (("source", "临江论坛"),))] == 3
    runs = (("source", "临江论坛"), ("status", "failed"))
    assert samples[("yuqing_crawl_runs_total", runs)] == 3
    assert samples[("yuqing_source_alerting", (("source", "临江论坛"),))] == 1
    assert samples[("yuqing_sources_alerting", ())] == 1
    assert samples[("yuqing_outbox_messages", (("channel", "email"), ("status", "pending")))] == 1
    assert samples[("yuqing_outbox_oldest_unsent_age_seconds", ())] > 290
    assert samples[("yuqing_notices_awaiting_ack", ())] == 1
    assert samples[("yuqing_mentions_unclassified", ())] == 2
    assert samples[("yuqing_classification_lag_seconds", (("stat", "max"),))] > 300
    assert samples[("yuqing_incidents_open", (("level", "II"),))] == 1
    db.dispose()


def test_metrics_answer_only_this_host_when_no_token_is_set(tmp_path):
    settings, db = world(tmp_path)
    remote = TestClient(create_app(settings, db), client=("10.1.2.3", 40000))
    refused = remote.get("/metrics")
    assert refused.status_code == 403
    assert "metrics_token" in refused.text
    db.dispose()


def test_metrics_ask_every_client_for_the_token_when_one_is_set(tmp_path):
    settings, db = world(tmp_path, YUQING_WEB__METRICS_TOKEN="s3cret-token")
    client = TestClient(create_app(settings, db), client=LOCAL)
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer guess"})
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"].startswith("Bearer")
    right = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert right.status_code == 200 and "yuqing_mentions_stored_total" in right.text
    db.dispose()


def test_healthz_fails_with_a_reason_when_the_database_is_unreachable(tmp_path, settings, db):
    assert TestClient(create_app(settings, db)).get("/healthz").text == "ok"

    gone = tmp_path / "no-such-dir" / "yuqing.db"
    unreachable = settings.model_copy(
        update={"database": settings.database.model_copy(update={"url": f"sqlite:///{gone}"})}
    )
    broken = Database(unreachable, migrate=False)
    answer = TestClient(create_app(settings, broken)).get("/healthz")
    assert answer.status_code == 503
    assert answer.text.startswith("database unreachable")
    broken.dispose()


def test_status_prints_the_facts_and_exits_1_when_a_source_is_alerting(tmp_path):
    settings, db = world(tmp_path)
    db.dispose()
    env = {"YUQING_DATA": str(settings.data_dir)}
    config = ["--config", str(settings.config_dir)]
    shown = CliRunner().invoke(app, [*config, "status"], env=env)
    assert shown.exit_code == 1, shown.output
    assert "已入库信息 (mentions stored): 3，近24小时 2" in shown.output
    assert "临江论坛: 入库 0" in shown.output and "← 告警" in shown.output
    assert "email: 待发 1，发送中 0，失败 0" in shown.output
    assert "信息源异常：临江论坛" in shown.output

    as_json = CliRunner().invoke(app, [*config, "status", "--json"], env=env)
    facts = json.loads(as_json.stdout)
    assert facts["notices_awaiting_ack"] == 1
    assert facts["problems"] == ["信息源异常：临江论坛 连续 3 次抓取失败或无结果"]


def test_status_exits_0_when_nothing_needs_attention(settings, db):
    shown = CliRunner().invoke(app, ["status"], env={"YUQING_DATA": str(settings.data_dir)})
    assert shown.exit_code == 0, shown.output
    assert "一切正常 (all clear)" in shown.output


def test_an_old_unsent_or_failed_message_needs_attention(tmp_path):
    settings, db = world(tmp_path, YUQING_MONITORING__UNSENT_MINUTES="2")
    with db.transaction() as session:
        session.add(
            OutboxMessage(
                dedupe_key="k2",
                recipient="x@example.org",
                subject="s",
                body="b",
                stage="initial",
                status="failed",
            )
        )
    with db.sessions() as session:
        problems = gather(session, settings).problems
    assert "发送失败的消息 1 条（outbox failed）" in problems
    assert "最早一条待发消息已等待 5 分钟" in problems
    db.dispose()
