"""Personal identifiers are masked when mentions are stored (the unmasked original only with
`privacy.keep_original`, only for admin, never exported), and secrets come from the
environment or a private secrets file and never show in logs, errors, exports or the outbox."""

from __future__ import annotations

import io
import json
import logging
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from responder.db import Database
from responder.delivery.outbox import drain, enqueue
from responder.intake.export import mention_rows, write_csv, write_jsonl
from responder.intake.mentions import MentionRecord, clean, store, store_many, tidy
from responder.intake.reprints import group_reprints
from responder.models import Mention, OutboxMessage
from responder.running.cycle import Cycle
from responder.settings import ConfigError, PrivacySettings, Settings, load_settings
from tests.webclient import client_as

PHONE, ID_NUMBER = "13812345678", "110101199003071233"
LEAK = (
    f"网友爆料：临江县统计局普查员泄露住户信息，其中有身份证号{ID_NUMBER}，"
    f"联系电话{PHONE}，邮箱zhang.san@example.com，请有关部门尽快核实处理。"
)
TITLE = f"普查信息泄露？电话{PHONE}被公开"
# As stored: the page's own characters, whitespace tidied (`clean`), then masked.
STORED_LEAK, STORED_TITLE = tidy(LEAK, keep_lines=True), tidy(TITLE)


def cleaned(settings: Settings, url: str, text: str = LEAK, title: str = TITLE) -> MentionRecord:
    record = clean(MentionRecord(url=url, title=title, text=text), settings.tz, settings.privacy)
    assert record is not None
    return record


def keep_original(data_dir: Path) -> Settings:
    return load_settings(overrides={"privacy": {"keep_original": True}})


def test_identifiers_are_masked_when_stored_and_no_original_is_kept_by_default(settings, db):
    with db.transaction() as session:
        store(session, cleaned(settings, "http://a.example/1"))
    with db.sessions() as session:
        m = session.scalars(select(Mention)).one()
        assert m.title == "普查信息泄露？电话138****5678被公开"
        assert "110101********1233" in m.text and "z***@example.com" in m.text
        assert PHONE not in m.text and ID_NUMBER not in m.text
        assert m.original_title is None and m.original_text is None


def test_masking_can_be_switched_off(settings):
    off = PrivacySettings(mask=False, keep_original=True)
    record = clean(MentionRecord(url="http://a.example/1", text=LEAK), settings.tz, off)
    assert record is not None and record.text == STORED_LEAK and record.original_text is None


def test_the_original_is_kept_only_when_allowed_and_only_when_something_was_masked(data_dir, db):
    settings = keep_original(data_dir)
    plain = "临江县统计局发布前三季度经济运行情况,全县地区生产总值增长5.8%。"
    with db.transaction() as session:
        stored, _ = store_many(
            session,
            [
                cleaned(settings, "http://a.example/1"),
                cleaned(settings, "http://a.example/2", plain, ""),
            ],
        )
        assert stored == 2
    with db.sessions() as session:
        leak, other = session.scalars(select(Mention).order_by(Mention.id)).all()
        assert PHONE not in leak.text and leak.original_text == STORED_LEAK
        assert leak.original_title == STORED_TITLE
        assert other.text == plain and other.original_text is None


def test_masked_copies_still_deduplicate_and_group_as_reprints(settings, db):
    story = LEAK + "记者从县统计局获悉，相关情况正在调查，普查数据安全管理将进一步加强。"
    with db.transaction() as session:
        first = store(session, cleaned(settings, "http://a.example/1", story))
        same = store(session, cleaned(settings, "http://b.example/1", story))
        reprint = store(
            session, cleaned(settings, "http://c.example/1", "【转载】" + story + "来源：临江日报")
        )
        assert first is not None and same is None and reprint is not None
        assert group_reprints(session, settings) == 1
        assert reprint.reprint_of == first.id


def test_only_admin_sees_the_unmasked_original_on_the_mention_page(data_dir, db):
    settings = keep_original(data_dir)
    with db.transaction() as session:
        mention = store(session, cleaned(settings, "http://a.example/1"))
        assert mention is not None
        page = f"/mentions/{mention.id}"
    admin = client_as(settings, db, "admin").get(page)
    assert admin.status_code == 200
    assert "未脱敏原文" in admin.text and PHONE in admin.text and ID_NUMBER in admin.text
    for role in ("duty", "press", "leader"):
        seen = client_as(settings, db, role).get(page)
        assert seen.status_code == 200 and "138****5678" in seen.text
        assert (
            PHONE not in seen.text and ID_NUMBER not in seen.text and "未脱敏原文" not in seen.text
        )


def test_exports_never_carry_the_original(data_dir, db):
    settings = keep_original(data_dir)
    with db.transaction() as session:
        store(session, cleaned(settings, "http://a.example/1"))
    with db.sessions() as session:
        jsonl, csv_out = io.StringIO(), io.StringIO()
        write_jsonl(mention_rows(session), jsonl)
        write_csv(mention_rows(session), csv_out)
    for out in (jsonl.getvalue(), csv_out.getvalue()):
        assert "138****5678" in out and PHONE not in out and ID_NUMBER not in out
    assert not any(k.startswith("original") for k in json.loads(jsonl.getvalue().splitlines()[0]))


def test_import_masks_and_keeps_the_original_when_allowed(data_dir, db, monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from responder.cli import app

    monkeypatch.setenv("YUQING_PRIVACY__KEEP_ORIGINAL", "true")
    path = tmp_path / "handed.jsonl"
    row = {"url": "https://bbs.example.cn/t/1", "title": TITLE, "text": LEAK}
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["import", str(path), "--all", "--no-classify", "--json"])
    assert result.exit_code == 0, result.stderr
    with db.sessions() as session:
        m = session.scalars(select(Mention)).one()
        assert "138****5678" in m.text and PHONE not in m.text and m.original_text == STORED_LEAK


# --- secrets ---------------------------------------------------------------------------------

SECRETS = {
    "password": "smtp-pa55-Zq8",
    "cookie": "SUB=weibo-cookie-Zq8",
    "token": "tok3n-Zq8",
    "signing": "SECsign-Zq8",
    "key": "web-key-Zq8",
}
SECRETS_TOML = f"""\
[mail]
password = "{SECRETS["password"]}"
[crawl]
weibo_cookie = "{SECRETS["cookie"]}"
[web]
secret_key = "{SECRETS["key"]}"
[webhooks.duty_group]
url = "http://127.0.0.1:9/robot/send?access_token={SECRETS["token"]}"
secret = "{SECRETS["signing"]}"
"""


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config"
    path.mkdir()
    (path / "settings.toml").write_text(
        '[mail]\nusername = "yuqing"\n[webhooks.duty_group]\nkind = "dingtalk"\ntimeout = 2\n',
        encoding="utf-8",
    )
    secrets = path / "secrets.toml"
    secrets.write_text(SECRETS_TOML, encoding="utf-8")
    secrets.chmod(0o600)
    monkeypatch.setenv("YUQING_CONFIG", str(path))
    return path


def leaked(text: str) -> list[str]:
    return [name for name, value in SECRETS.items() if value in text]


def test_secrets_come_from_the_secrets_file_and_the_environment_wins(config_dir, data_dir):
    loaded = load_settings(config_dir)
    assert loaded.mail.password == SECRETS["password"] and loaded.mail.username == "yuqing"
    assert loaded.crawl.weibo_cookie == SECRETS["cookie"]
    assert loaded.webhooks["duty_group"].secret == SECRETS["signing"]
    assert loaded.web.secret_key == SECRETS["key"]
    env = dict(os.environ, YUQING_MAIL__PASSWORD="from-env")
    assert load_settings(config_dir, env=env).mail.password == "from-env"


def test_the_secrets_file_can_be_named_by_yuqing_secrets_file(tmp_path, data_dir):
    elsewhere = tmp_path / "private.toml"
    elsewhere.write_text('[mail]\npassword = "elsewhere"\n', encoding="utf-8")
    elsewhere.chmod(0o600)
    env = dict(os.environ, YUQING_SECRETS_FILE=str(elsewhere))
    assert load_settings(env=env).mail.password == "elsewhere"
    with pytest.raises(ConfigError, match="YUQING_SECRETS_FILE.*does not exist"):
        load_settings(env=dict(os.environ, YUQING_SECRETS_FILE=str(tmp_path / "missing.toml")))


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_a_secrets_file_others_can_read_is_refused_with_the_fix(config_dir, data_dir):
    secrets = config_dir / "secrets.toml"
    secrets.chmod(0o640)
    with pytest.raises(ConfigError) as err:
        load_settings(config_dir)
    assert str(secrets) in str(err.value) and f"chmod 600 {secrets}" in str(err.value)
    assert leaked(str(err.value)) == []


def test_a_setting_that_is_not_a_secret_is_refused_in_the_secrets_file(config_dir, data_dir):
    (config_dir / "secrets.toml").write_text("[mail]\nsmtp_port = 25\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"secrets.toml: mail.smtp_port: not a secret"):
        load_settings(config_dir)


def test_configuration_errors_name_the_secrets_file_but_not_the_secret(config_dir, data_dir):
    (config_dir / "secrets.toml").write_text(
        SECRETS_TOML.replace("http://127.0.0.1:9", "ftp://127.0.0.1:9"), encoding="utf-8"
    )
    with pytest.raises(ConfigError) as err:
        load_settings(config_dir)
    assert "secrets file" in str(err.value) and "webhooks.duty_group.url" in str(err.value)
    assert leaked(str(err.value)) == []
    env = dict(os.environ, YUQING_MAIL__PASSWORD="x", YUQING_WEB__PORT=SECRETS["key"])
    with pytest.raises(ConfigError) as err:
        load_settings(config_dir, env=env)
    assert leaked(str(err.value)) == []


def test_secrets_stay_out_of_repr_logs_exports_and_the_outbox(
    config_dir, data_dir, mail_sink, caplog
):
    loaded = load_settings(config_dir)  # the mail sink's port, a login it cannot accept
    assert leaked(repr(loaded)) == [] and leaked(str(loaded)) == []
    db = Database(loaded)
    try:
        with db.transaction() as session:
            store(session, cleaned(loaded, "http://a.example/1"))
            enqueue(session, "k:mail", "a@example.org", "甲", "【舆情预警】测试", "正文", "alert")
            enqueue(
                session, "k:hook", "duty_group", "值班群", "【舆情预警】测试", "正文", "alert",
                channel="webhook",
            )  # fmt: skip
        with caplog.at_level(logging.DEBUG):
            Cycle(loaded, db).run(crawl=False)
            drain(db.sessions, loaded.mail, webhooks=loaded.webhooks)
        with db.sessions() as session:
            errors = [m.last_error or "" for m in session.scalars(select(OutboxMessage))]
            out = io.StringIO()
            write_jsonl(mention_rows(session), out)
    finally:
        db.dispose()
    assert all(errors), "both deliveries should have failed and said why"
    assert any("AUTH" in e for e in errors), "the SMTP login should have been tried"
    assert leaked(caplog.text) == [] and leaked("\n".join(errors)) == []
    assert leaked(out.getvalue()) == []


def test_mentions_stored_before_masking_are_masked_by_the_command(data_dir, db, monkeypatch):
    from typer.testing import CliRunner

    from responder.cli import app

    with db.transaction() as session:
        store(session, MentionRecord(url="http://a.example/1", title=TITLE, text=LEAK))
    monkeypatch.setenv("YUQING_PRIVACY__KEEP_ORIGINAL", "true")
    for _ in range(2):  # a second run finds nothing left to mask
        result = CliRunner().invoke(app, ["privacy", "mask-stored"])
        assert result.exit_code == 0, result.stderr
    assert "已脱敏 0 条" in result.stderr
    with db.sessions() as session:
        m = session.scalars(select(Mention)).one()
        assert PHONE not in m.title + m.text and m.original_text == LEAK
        masked = cleaned(load_settings(), "http://b.example/1")
        assert store(session, masked) is None, "a masked copy is still a duplicate"
