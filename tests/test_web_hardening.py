"""What a hostile page, file or person can do to the web app and the exports: sessions that
end on logout, login floods, malformed numbers, framing and injected scripts, dangerous links,
formula cells, control characters and header injection."""

from __future__ import annotations

import asyncio
import csv
import io
from email import message_from_bytes
from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from responder import clock
from responder.db import Database
from responder.delivery.smtp import build_email
from responder.incidents.actions import split
from responder.intake.export import mention_rows, spreadsheet_cell, write_csv
from responder.intake.mentions import MentionRecord, clean, store
from responder.models import Incident, Mention, OutboxMessage
from responder.settings import load_settings
from responder.web import auth, create_app
from tests.webclient import PASSWORD, client_as, csrf, ensure_user, log_in

HOSTILE_URLS = ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", "vbscript:x"]


def add_mention(db: Database, url: str, title: str = "临江县统计局发布公报") -> int:
    with db.transaction() as session:
        record = clean(
            MentionRecord(url=url, title=title, text="临江县统计局发布统计公报，全县经济平稳。"),
            load_settings().tz,
        )
        assert record is not None
        mention = store(session, record)
        assert mention is not None
        return mention.id


def test_a_session_cookie_replayed_after_logout_no_longer_works(settings, db):
    client = client_as(settings, db, "duty", "王敏")
    cookie = client.cookies.get("yuqing_session")
    assert client.get("/", follow_redirects=False).status_code == 200
    token = csrf(client.get("/").text)
    client.post("/logout", data={"csrf_token": token}, follow_redirects=False)

    replay = TestClient(create_app(settings, db), cookies={"yuqing_session": cookie})
    answer = replay.get("/", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_locked_and_unknown_names_get_the_same_answer(settings, db):
    ensure_user(db, "李强", "duty")
    client = TestClient(create_app(settings, db))
    token = csrf(client.get("/login").text)
    for _ in range(settings.web.login_attempts):
        client.post("/login", data={"name": "李强", "password": "guess", "csrf_token": token})
    locked = client.post("/login", data={"name": "李强", "password": "guess", "csrf_token": token})
    unknown = client.post("/login", data={"name": "无此人", "password": "x", "csrf_token": token})
    assert locked.status_code == unknown.status_code == 401
    said = [r.text.split('class="flash error">')[1].split("</")[0] for r in (locked, unknown)]
    assert said[0] == said[1]


def test_failed_logins_are_limited_per_client_address_whatever_names_it_tries(
    data_dir: Path, ports: dict[str, int], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("YUQING_WEB__ADDRESS_LOGIN_ATTEMPTS", "3")
    settings = load_settings()
    db = Database(settings)
    ensure_user(db, "王敏", "duty")
    client = TestClient(create_app(settings, db))
    token = csrf(client.get("/login").text)
    for n in range(3):
        client.post("/login", data={"name": f"猜{n}", "password": "x", "csrf_token": token})
    refused = client.post(
        "/login", data={"name": "王敏", "password": PASSWORD, "csrf_token": token}
    )
    assert refused.status_code == 429 and "登录失败次数过多" in refused.text
    db.dispose()


def test_the_password_is_checked_off_the_event_loop(settings, db, monkeypatch):
    ensure_user(db, "王敏", "duty")
    loops: list[bool] = []
    real = auth.authenticate

    def watched(*args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            asyncio.get_running_loop()
            loops.append(True)
        except RuntimeError:
            loops.append(False)
        return real(*args, **kwargs)

    monkeypatch.setattr(auth, "authenticate", watched)
    log_in(TestClient(create_app(settings, db)), "王敏")
    assert loops == [False]


@pytest.mark.parametrize(
    "path",
    [
        "/incidents?page=②",
        "/incidents?page=²",
        "/mentions?page=²",
        "/mentions?incident=①",
        "/mentions?incident=99999999999999999999",
        "/audit?page=①",
        # As long as a client sends in a URL (a form post can send far more).
        "/mentions?keyword=" + "普" * 5_000,
        "/mentions?q=" + "查" * 5_000,
    ],
)
def test_malformed_numbers_and_huge_filters_get_a_chinese_400(settings, db, path):
    client = client_as(settings, db, "admin")
    answer = client.get(path)
    assert answer.status_code == 400, answer.text[-500:]
    assert "无效" in answer.text or "过长" in answer.text


@pytest.mark.parametrize(
    "path",
    ["/incidents/99999999999999999999", "/mentions/9223372036854775808", "/drafts/1" + "0" * 30],
)
def test_ids_beyond_a_database_integer_are_not_found(settings, db, path):
    client = client_as(settings, db, "admin")
    assert client.get(path).status_code == 404


def test_metrics_with_a_non_ascii_token_is_refused_not_an_error(data_dir, ports, monkeypatch):
    monkeypatch.setenv("YUQING_WEB__METRICS_TOKEN", "s3cret-token")
    settings = load_settings()
    client = TestClient(create_app(settings), raise_server_exceptions=False)
    assert client.get("/metrics", headers={"Authorization": "Bearer é".encode()}).status_code == 401


@pytest.mark.parametrize("path", ["/login", "/", "/ack/not-a-token", "/no-such-page"])
def test_every_page_forbids_framing_and_foreign_scripts(settings, db, path):
    client = client_as(settings, db, "duty")
    answer = client.get(path)
    policy = answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
    assert "'unsafe-inline'" not in policy
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["x-content-type-options"] == "nosniff"
    nonce = policy.split("'nonce-")[1].split("'")[0]
    if answer.headers["content-type"].startswith("text/html"):
        assert f'<style nonce="{nonce}">' in answer.text


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_a_mention_link_that_is_not_http_is_shown_as_text(settings, db, url):
    mention_id = add_mention(db, url)
    page = client_as(settings, db, "duty").get(f"/mentions/{mention_id}").text
    assert f'href="{url}"' not in page and url in page


def test_a_web_link_stays_clickable(settings, db):
    mention_id = add_mention(db, "https://news.example/a.html")
    page = client_as(settings, db, "duty").get(f"/mentions/{mention_id}").text
    assert 'href="https://news.example/a.html"' in page


def test_csv_export_neutralises_formulas_and_import_reads_them_back(settings, db):
    formula = '=HYPERLINK("http://evil.example","点此")'
    add_mention(db, "http://news.example/f", title=formula)
    with db.sessions() as session:
        out = io.StringIO()
        write_csv(mention_rows(session), out)
    row = next(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["title"] == "'" + formula
    for cell in ("+1", "-1", "@SUM(A1)", "\t=1", "\r=1"):
        assert spreadsheet_cell(cell).startswith("'")
    assert spreadsheet_cell("临江县") == "临江县" and spreadsheet_cell(5) == 5


def test_control_characters_never_enter_a_stored_title_or_text(settings):
    record = clean(
        MentionRecord(
            url="http://x.example/1",
            title="\x1b]0;pwned\x07临江县统计局：\x1b[2J通报",
            text="第一行\x1b[31m红色\x07\r\n第二行：普查工作正常开展。",
        ),
        settings.tz,
    )
    assert record is not None
    for value in (record.title, record.text):
        assert not any(ch in value for ch in "\x1b\x07\r")
    assert "\n" in record.text


def test_a_split_title_with_a_line_break_cannot_inject_a_mail_header(settings, db):
    ensure_user(db, "王敏", "duty")  # deciding needs an account whose role may decide
    ids = [add_mention(db, f"http://x.example/{n}", f"临江县普查消息{n}") for n in range(2)]
    with db.transaction() as session:
        incident = Incident(
            title="原事件",
            category="general",
            first_seen=clock.now(),
            last_seen=clock.now(),
            machine_level="IV",
        )
        session.add(incident)
        session.flush()
        for mention in session.scalars(select(Mention)):
            mention.incident_id = incident.id
        new = split(
            session,
            settings,
            incident.id,
            [ids[1]],
            "王敏",
            "不是同一件事",
            title="x\rBcc: a@evil.example",
        )
        assert "\r" not in new.title and "\n" not in new.title
    message = OutboxMessage(
        channel="email",
        recipient="head@example.org",
        recipient_name="局长\r\nBcc: b@evil.example",
        subject="【舆情预警】x\rBcc: a@evil.example",
        body="正文",
        dedupe_key="k",
    )
    email = message_from_bytes(bytes(build_email(message, settings.mail)))
    assert email["Bcc"] is None and "\r" not in email["Subject"]
