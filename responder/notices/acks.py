"""Acknowledgement of notices: signed, expiring links, and recording who acknowledged.

A link names one notice and one recipient, signed with the office's key (itsdangerous), so a
forwarded or guessed URL cannot acknowledge another notice and an old one stops working after
`web.ack_link_hours`. Opening the link only shows the notice; acknowledging is a POST, because
mail scanners and link previews fetch every URL in a message.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import datetime

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from responder import audit, clock
from responder.accounts import ACKNOWLEDGE, require_role
from responder.audit import AuditAction
from responder.errors import DomainError
from responder.labels import label
from responder.models import Notice
from responder.settings import Settings

SALT = "notice-ack"


class AckLinkError(DomainError, ValueError):
    """The link is not one yuqing signed, or it has expired."""


class NotPermitted(DomainError, ValueError):
    """Acknowledging in the web or the CLI: the person is no enabled account whose role may
    acknowledge notices."""


def signing_key(settings: Settings) -> str:
    """`web.secret_key`, or a random key made once and kept in the data directory."""
    if settings.web.secret_key:
        return settings.web.secret_key
    path = settings.data_dir / "secret_key"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
        try:
            # A link replaces nothing: the first process to make the key wins, others use it.
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


class _ClockSigner(TimestampSigner):
    """Signs and expires links by yuqing's clock, so a pinned clock governs expiry too."""

    def get_timestamp(self) -> int:
        return int(clock.timestamp())


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(signing_key(settings), salt=SALT, signer=_ClockSigner)


def ack_token(settings: Settings, notice_id: int, recipient: str) -> str:
    return _serializer(settings).dumps({"n": notice_id, "r": recipient})


def ack_link(settings: Settings, notice_id: int, recipient: str) -> str:
    base = settings.web.base_url.rstrip("/")
    return f"{base}/ack/{ack_token(settings, notice_id, recipient)}"


@dataclass(frozen=True)
class AckClaim:
    notice_id: int
    recipient: str


def read_ack_token(settings: Settings, token: str) -> AckClaim:
    max_age = int(settings.web.ack_link_hours * 3600)
    try:
        data = _serializer(settings).loads(token, max_age=max_age)
    except SignatureExpired:
        raise AckLinkError("确认链接已过期，请登录系统或联系值班人员确认") from None
    except BadSignature:
        raise AckLinkError("确认链接无效") from None
    if not isinstance(data, dict) or not isinstance(data.get("n"), int):
        raise AckLinkError("确认链接无效")
    return AckClaim(notice_id=data["n"], recipient=str(data.get("r", "")))


def acknowledge(session: Session, notice: Notice, by: str, now: datetime, via: str) -> bool:
    """Record the acknowledgement (audited) and stop the notice's repeats and escalation;
    False when it was acknowledged already.

    Through a signed link (`via="link"`) `by` is the recipient the link was made for, who needs
    no account; otherwise `by` must be an enabled account whose role may acknowledge
    (accounts.ACKNOWLEDGE), else `NotPermitted`.
    """
    if via != "link":
        require_role(session, by, ACKNOWLEDGE, "确认通知", NotPermitted)
    if notice.acknowledged_at is not None:
        return False
    notice.acknowledged_at, notice.acknowledged_by = now, by
    pending_step = notice.next_step_at
    notice.next_step_at = None
    audit.record(
        session,
        by,
        AuditAction.NOTICE_ACK,
        "notice",
        notice.id,
        before={"step": notice.step, "next_step_at": pending_step and pending_step.isoformat()},
        after={"acknowledged_by": by, "via": via},
        detail=(
            f"事件 #{notice.incident_id} {label('stages', notice.stage)}"
            f" {label('levels', notice.level)}"
        ),
    )
    return True
