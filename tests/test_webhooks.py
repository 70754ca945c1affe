"""Alerts reach group robots (WeCom, DingTalk with 加签, Feishu with 签名校验) and generic JSON
gateways through the outbox, signed as each robot checks, retried while one is down, and
never with the access token in an error."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlsplit

import pytest
from sqlalchemy import select

from responder import clock
from responder.db import Database
from responder.delivery.outbox import drain, enqueue_for_person
from responder.delivery.webhooks import request_for
from responder.demo.mailsink import MailSink
from responder.models import OutboxMessage
from responder.settings import ConfigError, DutyPerson, WebhookSettings, load_settings
from tests.robot import Robot

SECRET = "SEC0123456789abcdef"


@pytest.fixture
def robot() -> Iterator[Robot]:
    server = Robot()
    yield server
    server.stop()


def test_dingtalk_signature_is_the_one_dingtalk_checks() -> None:
    hook = WebhookSettings(
        kind="dingtalk", url="https://oapi.dingtalk.com/robot/send?access_token=T", secret=SECRET
    )
    now = 1_700_000_000.123
    url, payload = request_for(hook, "【舆情预警】标题", "正文", {}, now)
    query = parse_qs(urlsplit(url).query)
    assert query["access_token"] == ["T"] and query["timestamp"] == ["1700000000123"]
    expected = base64.b64encode(
        hmac.new(SECRET.encode(), f"1700000000123\n{SECRET}".encode(), hashlib.sha256).digest()
    ).decode()
    assert unquote_plus(url.split("&sign=")[1]) == expected
    assert payload == {
        "msgtype": "markdown",
        "markdown": {"title": "标题", "text": "**【舆情预警】标题**\n> 正文"},
    }


ALERT = """王敏：

您今日值班。系统监测到一起较大（II级）舆情，请及时研判处置：

一、时间：2026-12-07 10:00
四、事件详情：论坛出现“临江县普查数据造假”帖子，转载12次。
研判等级：较大（II级）（评分 8.0）

查看详情并处置：http://yq.local/incidents/3
收到请点击确认（24小时内有效）：http://yq.local/ack/abc
"""
SUBJECT = "【舆情预警】较大（II级）：网传临江县普查数据造假"


def test_each_robot_gets_a_card_with_level_title_summary_and_link() -> None:
    summary = "论坛出现“临江县普查数据造假”帖子，转载12次。"
    wecom = WebhookSettings(kind="wecom", url="https://qyapi.weixin.qq.com/send?key=K")
    payload = request_for(wecom, SUBJECT, ALERT, {}, 0)[1]
    assert payload["msgtype"] == "markdown"
    assert payload["markdown"]["content"].split("\n") == [
        f"**{SUBJECT}**",
        '> 级别：<font color="warning">II级</font>',
        f"> {summary}",
        "[查看详情](http://yq.local/incidents/3)",
        "[确认收到](http://yq.local/ack/abc)",
    ]

    dingtalk = WebhookSettings(kind="dingtalk", url="https://oapi.dingtalk.com/send?access_token=T")
    action = request_for(dingtalk, SUBJECT, ALERT, {}, 0)[1]
    assert action["msgtype"] == "actionCard"
    assert action["actionCard"]["title"] == SUBJECT
    assert action["actionCard"]["text"] == f"**{SUBJECT}**\n> 级别：II级\n> {summary}"
    assert action["actionCard"]["btns"] == [
        {"title": "查看详情", "actionURL": "http://yq.local/incidents/3"},
        {"title": "确认收到", "actionURL": "http://yq.local/ack/abc"},
    ]

    feishu = WebhookSettings(kind="feishu", url="https://open.feishu.cn/hook/x")
    interactive = request_for(feishu, SUBJECT, ALERT, {}, 0)[1]
    assert interactive["msg_type"] == "interactive"
    header, [text, actions] = interactive["card"]["header"], interactive["card"]["elements"]
    assert header == {"title": {"tag": "plain_text", "content": SUBJECT}, "template": "orange"}
    assert text["text"] == {"tag": "lark_md", "content": f"**级别**：II级\n{summary}"}
    assert [(b["text"]["content"], b["url"]) for b in actions["actions"]] == [
        ("查看详情", "http://yq.local/incidents/3"),
        ("确认收到", "http://yq.local/ack/abc"),
    ]


def test_feishu_signature_and_the_other_formats() -> None:
    feishu = WebhookSettings(kind="feishu", url="https://open.feishu.cn/hook/x", secret=SECRET)
    _, payload = request_for(feishu, "主题", "正文", {}, 1_700_000_000.9)
    key = f"1700000000\n{SECRET}".encode()
    assert payload["timestamp"] == "1700000000"
    assert payload["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert payload["msg_type"] == "interactive"
    assert payload["card"]["header"]["title"]["content"] == "主题"
    assert payload["card"]["elements"] == [
        {"tag": "div", "text": {"tag": "lark_md", "content": "正文"}}
    ]

    wecom = WebhookSettings(kind="wecom", url="https://qyapi.weixin.qq.com/send?key=K")
    assert request_for(wecom, "主题", "正文", {}, 0)[1] == {
        "msgtype": "markdown",
        "markdown": {"content": "**主题**\n> 正文"},
    }
    gateway = WebhookSettings(kind="json", url="http://sms.internal/send")
    assert request_for(gateway, "主题", "正文", {"stage": "duty_alert"}, 0)[1] == {
        "subject": "主题",
        "body": "正文",
        "stage": "duty_alert",
    }


def test_a_long_message_is_cut_to_what_robots_accept() -> None:
    hook = WebhookSettings(kind="wecom", url="https://qyapi.weixin.qq.com/send?key=K")
    _, payload = request_for(hook, "很长的主题" * 200, "很长的正文。" * 400, {}, 0)
    content = payload["markdown"]["content"]
    assert len(content.encode()) <= 2048 and content.endswith("……（略）")
    # A card says in one line what happened; the rest is in the mail.
    batch = "\n".join(f"{n}. 第{n}起事件" for n in range(1, 30))
    lines = request_for(hook, "主题", "很长的正文。" * 400 + "\n" + batch, {}, 0)[1]["markdown"]
    summary, *items = lines["content"].split("\n")[1:]
    assert len(summary) <= 2 + 120 and summary.endswith("…") and len(items) == 10


def settings_with_robot(robot: Robot, kind: str = "dingtalk", secret: str = SECRET) -> Any:
    return load_settings(
        overrides={
            "webhooks": {
                "duty_group": {
                    "kind": kind,
                    "url": robot.url("/robot/send?access_token=TOKEN123"),
                    "secret": secret,
                }
            },
            "duty": {
                "people": [
                    {"name": "王敏", "email": "wangmin@example.org", "webhook": "duty_group"}
                ],
                "order": ["王敏"],
            },
        }
    )


def person(settings: Any) -> DutyPerson:
    return settings.duty.people[0]  # type: ignore[no-any-return]


def enqueue_alert(db: Database, settings: Any, key: str = "alert:1") -> int:
    with db.transaction() as session:
        return enqueue_for_person(
            session, person(settings), key, "【信息源异常】临江论坛", "请核查", "source_health"
        )


def test_an_alert_goes_by_email_and_to_the_persons_robot_once(data_dir, ports, robot):
    settings = settings_with_robot(robot)
    db = Database(settings)
    assert enqueue_alert(db, settings) == 2
    assert enqueue_alert(db, settings) == 0

    sink = MailSink(settings.data_dir / "mailbox", port=settings.mail.smtp_port).start()
    try:
        first = drain(db.sessions, settings.mail, webhooks=settings.webhooks)
        again = drain(db.sessions, settings.mail, webhooks=settings.webhooks)
    finally:
        sink.stop()
    assert (first.sent, again.sent) == (2, 0)
    assert len(sink.messages()) == 1
    [(query, payload)] = robot.posts
    assert query["access_token"] == ["TOKEN123"]
    stamp = query["timestamp"][0]
    assert abs(int(stamp) / 1000 - time.time()) < 60
    expected = hmac.new(SECRET.encode(), f"{stamp}\n{SECRET}".encode(), hashlib.sha256).digest()
    assert query["sign"] == [base64.b64encode(expected).decode()]
    assert payload["actionCard" if "actionCard" in payload else "markdown"]["text"].startswith(
        "**【信息源异常】临江论坛**"
    )
    db.dispose()


def test_a_robot_that_is_down_gets_the_alert_once_when_it_is_back(data_dir, ports, robot):
    # `ports` points SMTP at a free port with nothing listening: the email stays due.
    settings = settings_with_robot(robot, kind="wecom", secret="")
    db = Database(settings)
    with db.transaction() as session:
        enqueue_for_person(session, person(settings), "k", "主题", "正文", "duty_alert")
    robot.reply = (502, {})
    down = drain(db.sessions, settings.mail, webhooks=settings.webhooks)
    assert down.sent == 0 and down.deferred == 2
    with db.sessions() as session:
        hook_message = session.scalars(
            select(OutboxMessage).where(OutboxMessage.channel == "webhook")
        ).one()
    assert hook_message.status == "pending" and "HTTP 502" in (hook_message.last_error or "")
    assert "TOKEN123" not in (hook_message.last_error or "")

    robot.reply = (200, {"errcode": 0, "errmsg": "ok"})
    later = clock.now() + timedelta(hours=2)
    up = drain(db.sessions, settings.mail, now=later, webhooks=settings.webhooks)
    assert up.sent == 1  # the robot; SMTP is still down
    assert len(robot.posts) == 2  # the failed try and the delivery
    assert drain(db.sessions, settings.mail, now=later, webhooks=settings.webhooks).sent == 0
    db.dispose()


def test_a_refused_signature_fails_for_good_without_showing_the_token(data_dir, ports, robot):
    settings = settings_with_robot(robot)
    db = Database(settings)
    enqueue_alert(db, settings)
    robot.reply = (200, {"errcode": 310000, "errmsg": "sign not match"})
    result = drain(db.sessions, settings.mail, webhooks=settings.webhooks)
    assert result.failed == 1
    with db.sessions() as session:
        message = session.scalars(
            select(OutboxMessage).where(OutboxMessage.channel == "webhook")
        ).one()
    assert message.status == "failed"
    assert message.last_error == "webhook duty_group: error 310000 sign not match"
    db.dispose()


def test_a_duty_person_naming_an_unknown_webhook_is_a_configuration_error(data_dir):
    with pytest.raises(ConfigError, match="webhook 'group' is not a \\[webhooks.NAME\\] entry"):
        load_settings(
            overrides={
                "duty": {
                    "people": [{"name": "王敏", "email": "a@b.c", "webhook": "group"}],
                    "order": ["王敏"],
                }
            }
        )


def test_the_duty_alert_of_a_new_incident_also_goes_to_the_robot(data_dir, robot):
    from responder.models import Incident
    from responder.notices.escalation import notify

    settings = settings_with_robot(robot)
    db = Database(settings)
    now = clock.now()
    with db.transaction() as session:
        # Level II: its duty alert is a message of its own, sent at once (the alert policy).
        incident = Incident(
            title="普查信息疑似泄露",
            category="privacy_leak",
            first_seen=now,
            last_seen=now,
            machine_level="II",
        )
        session.add(incident)
        session.flush()
        notify(session, settings, incident, now=now)
    with db.sessions() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.stage == "duty_alert"))
        channels = {(m.channel, m.recipient) for m in rows}
    assert channels == {("email", "wangmin@example.org"), ("webhook", "duty_group")}
    db.dispose()
