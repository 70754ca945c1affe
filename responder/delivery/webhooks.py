"""Delivering a notice to a group robot or gateway: WeCom (企业微信), DingTalk (钉钉), Feishu
(飞书), or a generic JSON webhook (an SMS gateway, say).

Written here because no maintained library covers the three robots' formats and signing. The
robots answer HTTP 200 with an error code in the body; a code that retrying cannot fix (a bad
token or signature) is a `PermanentFailure`, anything else a `DeliveryFailure` to retry.
Webhook URLs hold access tokens, so they never appear in errors or logs: only the name does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote_plus

from responder.settings import WebhookSettings

# Robots cut longer text messages; WeCom allows 2,048 bytes, DingTalk and Feishu more.
MAX_TEXT_BYTES = 2000
# Error codes that a retry cannot fix: invalid URL/token, signature or keyword mismatch.
PERMANENT_CODES = {
    "wecom": {93000, 93004, 40001},
    "dingtalk": {300001, 310000, 400101, 400102},
    "feishu": {19001, 19021, 19022, 19024},
}


class DeliveryFailure(Exception):
    """The robot or gateway did not take the message; try again later."""


class PermanentFailure(DeliveryFailure):
    """The robot refused the message for a reason retrying cannot fix."""


def _text(subject: str, body: str) -> str:
    text = f"{subject}\n\n{body}".strip()
    data = text.encode("utf-8")
    if len(data) <= MAX_TEXT_BYTES:
        return text
    return data[: MAX_TEXT_BYTES - 9].decode("utf-8", "ignore") + "\n……（略）"


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
    """The URL and JSON payload for one message; `fields` go into the generic JSON as is."""
    text = _text(subject, body)
    if hook.kind == "wecom":
        return hook.url, {"msgtype": "text", "text": {"content": text}}
    if hook.kind == "dingtalk":
        url = hook.url
        if hook.secret:
            ms = int(now * 1000)
            url += f"&timestamp={ms}&sign={dingtalk_sign(hook.secret, ms)}"
        return url, {"msgtype": "text", "text": {"content": text}}
    if hook.kind == "feishu":
        payload: dict[str, Any] = {"msg_type": "text", "content": {"text": text}}
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
