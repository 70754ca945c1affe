"""Delivering a notice to a group robot or gateway: WeCom (企业微信), DingTalk (钉钉), Feishu
(飞书), or a generic JSON webhook (an SMS gateway, say).

Written here because no maintained library covers the three robots' formats and signing. The
robots answer HTTP 200 with an error code in the body; a code that retrying cannot fix (a bad
token or signature) is a `PermanentFailure`, anything else a `DeliveryFailure` to retry.
Webhook URLs hold access tokens, so they never appear in errors or logs: only the name does.

The three robots get a card (WeCom `markdown`, DingTalk `actionCard`, Feishu `interactive`)
read off the rendered notice: the level, the title, a one-line summary and the link, so a
phone shows what matters without the full mail. The generic gateway gets the full text.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

from responder.labels import label
from responder.settings import WebhookSettings

# Robots cut longer text messages; WeCom allows 2,048 bytes, DingTalk and Feishu more.
MAX_TEXT_BYTES = 2000
# Error codes that a retry cannot fix: invalid URL/token, signature or keyword mismatch.
PERMANENT_CODES = {
    "wecom": {93000, 93004, 40001},
    "dingtalk": {300001, 310000, 400101, 400102},
    "feishu": {19001, 19021, 19022, 19024},
}


# Cards carry a few lines; the full text is in the mail.
SUMMARY_CHARS = 120
CARD_ITEMS = 10
_TAGS = re.compile(r"^(?:【[^】]*】)+")
_LEVEL = re.compile(r"\b(I{1,3}|IV)级")
_URL = re.compile(r"https?://\S+")
_ITEM = re.compile(r"^\d+\.\s")
# Feishu header colours by level (its card `template` names).
FEISHU_COLOURS = {"I": "red", "II": "orange", "III": "yellow", "IV": "blue"}
# WeCom markdown knows three font colours.
WECOM_COLOURS = {"I": "warning", "II": "warning", "III": "comment", "IV": "info"}


def _words(code: str) -> str:
    """A card's own words (button titles, field names) from templates/labels.yaml."""
    return label("robot_card", code)


# The report field that says in a sentence what happened (templates/notices/_report.txt.j2).
DETAILS = "事件详情："


@dataclass
class Card:
    """What a robot card shows of a notice."""

    tag: str  # the subject's leading 【…】 (【舆情预警】)
    title: str
    level: str  # I | II | III | IV, or "" when the message names none
    summary: str
    link: str  # where to look and act ("" when the message has no link)
    ack_link: str = ""
    items: list[str] = field(default_factory=list)  # a batch's or digest's entries


def card(subject: str, body: str) -> Card:
    """Read the card off a rendered notice: our templates open with a salutation line, say
    what happened in the next one, put the link to act on after 查看 and the acknowledgement
    link after 确认, and number a batch's entries."""
    tags = _TAGS.match(subject)
    tag = tags.group(0) if tags else ""
    level = _LEVEL.search(subject) or _LEVEL.search(body)
    lines = [line.strip() for line in body.splitlines()]
    if lines and lines[0].endswith("："):  # the salutation
        lines = lines[1:]
    details = [line.split(DETAILS, 1)[1] for line in lines if DETAILS in line]
    prose = [
        line.rstrip("：")
        for line in lines
        if line
        and not _URL.search(line)
        and not _ITEM.match(line)
        and "：" not in line[:-1][:8]  # a field (类别：…, 一、时间：…) names itself early
    ]
    summary = (details[0].strip() if details else "") or (prose[0] if prose else "")
    if len(summary) > SUMMARY_CHARS:
        summary = summary[: SUMMARY_CHARS - 1] + "…"
    link = ack = ""
    for line in lines:
        url = _URL.search(line)
        if url is None:
            continue
        if "确认" in line[: url.start()]:
            ack = ack or url.group(0)
        else:
            link = link or url.group(0)
    items = [_ITEM.sub("", line) for line in lines if _ITEM.match(line)][:CARD_ITEMS]
    return Card(
        tag=tag,
        title=subject[len(tag) :].strip() or subject,
        level=level.group(1) if level else "",
        summary=summary,
        link=link or ack,
        ack_link=ack if link else "",
        items=items,
    )


def _markdown(c: Card, colour: dict[str, str] | None = None) -> str:
    lines = [f"**{c.tag}{c.title}**"]
    if c.level:
        level = f"{c.level}级"
        if colour is not None:
            level = f'<font color="{colour.get(c.level, "comment")}">{level}</font>'
        lines.append(f"> {_words('level')}：{level}")
    if c.summary:
        lines.append(f"> {c.summary}")
    lines += [f"- {item}" for item in c.items]
    if c.link:
        lines.append(f"[{_words('open')}]({c.link})")
    if c.ack_link:
        lines.append(f"[{_words('ack')}]({c.ack_link})")
    return _cut("\n".join(lines))


def _cut(text: str) -> str:
    data = text.encode("utf-8")
    if len(data) <= MAX_TEXT_BYTES:
        return text
    return data[: MAX_TEXT_BYTES - 9].decode("utf-8", "ignore") + "\n……（略）"


def wecom_card(c: Card) -> dict[str, Any]:
    return {"msgtype": "markdown", "markdown": {"content": _markdown(c, WECOM_COLOURS)}}


def dingtalk_card(c: Card) -> dict[str, Any]:
    text = _markdown(c)
    if not c.link:
        return {"msgtype": "markdown", "markdown": {"title": c.title, "text": text}}
    buttons = [{"title": _words("open"), "actionURL": c.link}]
    if c.ack_link:
        buttons.append({"title": _words("ack"), "actionURL": c.ack_link})
    # The buttons carry the links; the text need not repeat them.
    text = "\n".join(line for line in text.split("\n") if not line.startswith("["))
    return {
        "msgtype": "actionCard",
        "actionCard": {
            "title": f"{c.tag}{c.title}",
            "text": text,
            "btnOrientation": "1",
            "btns": buttons,
        },
    }


def feishu_card(c: Card) -> dict[str, Any]:
    lines = []
    if c.level:
        lines.append(f"**{_words('level')}**：{c.level}级")
    if c.summary:
        lines.append(c.summary)
    lines += [f"- {item}" for item in c.items]
    elements: list[dict[str, Any]] = [
        {"tag": "div", "text": {"tag": "lark_md", "content": _cut("\n".join(lines))}}
    ]
    buttons = []
    if c.link:
        buttons.append(
            {
                "tag": "button",
                "text": {"tag": "plain_text", "content": _words("open")},
                "type": "primary",
                "url": c.link,
            }
        )
    if c.ack_link:
        buttons.append(
            {
                "tag": "button",
                "text": {"tag": "plain_text", "content": _words("ack")},
                "type": "default",
                "url": c.ack_link,
            }
        )
    if buttons:
        elements.append({"tag": "action", "actions": buttons})
    return {
        "msg_type": "interactive",
        "card": {
            "config": {"wide_screen_mode": True},
            "header": {
                "title": {"tag": "plain_text", "content": f"{c.tag}{c.title}"},
                "template": FEISHU_COLOURS.get(c.level, "grey"),
            },
            "elements": elements,
        },
    }


class DeliveryFailure(Exception):
    """The robot or gateway did not take the message; try again later."""


class PermanentFailure(DeliveryFailure):
    """The robot refused the message for a reason retrying cannot fix."""


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk 加签: base64(HMAC-SHA256(secret, "<ms>\\n<secret>")), URL-encoded."""
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return quote_plus(base64.b64encode(digest))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu 签名校验: base64(HMAC-SHA256(key="<s>\\n<secret>", message=b""))."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def request_for(
    hook: WebhookSettings, subject: str, body: str, fields: dict[str, Any], now: float
) -> tuple[str, dict[str, Any]]:
    """The URL and JSON payload for one message: a card for the robots; `fields` go into the
    generic JSON as is."""
    if hook.kind == "wecom":
        return hook.url, wecom_card(card(subject, body))
    if hook.kind == "dingtalk":
        url = hook.url
        if hook.secret:
            ms = int(now * 1000)
            url += f"&timestamp={ms}&sign={dingtalk_sign(hook.secret, ms)}"
        return url, dingtalk_card(card(subject, body))
    if hook.kind == "feishu":
        payload = feishu_card(card(subject, body))
        if hook.secret:
            seconds = int(now)
            payload |= {"timestamp": str(seconds), "sign": feishu_sign(hook.secret, seconds)}
        return hook.url, payload
    return hook.url, {"subject": subject, "body": body, **fields}


def deliver(
    name: str,
    hook: WebhookSettings,
    subject: str,
    body: str,
    fields: dict[str, Any] | None = None,
) -> None:
    """POST the message; raise DeliveryFailure or PermanentFailure when it was not taken."""
    url, payload = request_for(hook, subject, body, fields or {}, time.time())
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=hook.timeout) as response:  # noqa: S310
            answer = response.read()
    except urllib.error.HTTPError as exc:
        failure = PermanentFailure if 400 <= exc.code < 500 and exc.code != 429 else DeliveryFailure
        raise failure(f"webhook {name}: HTTP {exc.code}") from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryFailure(f"webhook {name}: {type(exc).__name__}: {reason}") from None
    if hook.kind == "json":
        return
    try:
        reply = json.loads(answer or b"{}")
    except ValueError:
        raise DeliveryFailure(f"webhook {name}: answer is not JSON") from None
    code = reply.get("errcode", reply.get("code", reply.get("StatusCode", 0)))
    if code:
        message = reply.get("errmsg") or reply.get("msg") or reply.get("StatusMessage") or ""
        failure = PermanentFailure if code in PERMANENT_CODES[hook.kind] else DeliveryFailure
        raise failure(f"webhook {name}: error {code} {message}".strip())
