"""The outbox: notices are rows first, delivered by a sender that retries with backoff.

Delivery of one message goes: claim it (status "sending", committed), deliver, then commit the
outcome together with a `delivery_attempts` row. A crash or an SMTP outage therefore delays a
message but never loses it; the dedupe key stops it being enqueued twice, and the claim stops
two senders delivering it at once. A claim left by a sender that died is taken over — at once
when the dead process was on this host, else after `STALE_CLAIM` — and the message is sent
again under the same Message-ID (and webhook key), logged as "in_doubt": the only case where a
receiver may see it twice is a sender killed between the server's acceptance and the commit.
"""

from __future__ import annotations

import logging
import smtplib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, CursorResult, and_, or_, select, update
from sqlalchemy.orm import Session

from responder import clock
from responder.delivery.smtp import build_email, open_smtp, thread_root
from responder.delivery.webhooks import DeliveryFailure, PermanentFailure, deliver
from responder.models import DeliveryAttempt, OutboxAttachment, OutboxMessage
from responder.processes import HOST, is_dead, this_process
from responder.settings import MailSettings, Recipient, WebhookSettings
from responder.statuses import AttemptOutcome, OutboxStatus

log = logging.getLogger(__name__)
# Permanent SMTP refusals (bad address, policy): retrying cannot help.
PERMANENT = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused)
# A claim older than this is taken over even when its sender may be alive on another host.
STALE_CLAIM = timedelta(minutes=10)


def enqueue(
    session: Session,
    key: str,
    recipient: str,
    recipient_name: str,
    subject: str,
    body: str,
    stage: str,
    incident_id: int | None = None,
    channel: str = "email",
    html: str | None = None,
    images: Mapping[str, bytes] | None = None,
    notice_id: int | None = None,
    step: int = 0,
    thread: str | None = None,
) -> bool:
    """Add a message unless one with this key exists; True when added. For channel "webhook"
    the recipient is the name of a `[webhooks.NAME]` entry. An email may carry an HTML
    alternative whose PNG `images` ({cid: bytes}) it shows as `<img src="cid:...">`."""
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)):
        return False
    message = OutboxMessage(
        dedupe_key=key,
        channel=channel,
        recipient=recipient,
        recipient_name=recipient_name,
        subject=subject,
        body=body,
        stage=stage,
        incident_id=incident_id,
        html=html if channel == "email" else None,
        notice_id=notice_id,
        step=step,
        thread=thread,
    )
    session.add(message)
    if channel == "email":
        for cid, data in (images or {}).items():
            message.attachments.append(
                OutboxAttachment(
                    cid=cid, filename=f"{cid}.png", content_type="image/png", data=data
                )
            )
    session.flush()
    return True


def enqueue_for_person(
    session: Session,
    person: Recipient,
    key: str,
    subject: str,
    body: str,
    stage: str,
    incident_id: int | None = None,
    html: str | None = None,
    images: Mapping[str, bytes] | None = None,
    notice_id: int | None = None,
    step: int = 0,
    thread: str | None = None,
) -> int:
    """Email the person and, when they have one, post to their webhook (text only); returns
    how many messages are new."""
    added = int(
        enqueue(
            session,
            key,
            person.email,
            person.name,
            subject,
            body,
            stage,
            incident_id,
            html=html,
            images=images,
            notice_id=notice_id,
            step=step,
            thread=thread,
        )
    )
    if person.webhook:
        added += enqueue(
            session,
            f"{key}:webhook:{person.webhook}",
            person.webhook,
            person.name,
            subject,
            body,
            stage,
            incident_id,
            channel="webhook",
            notice_id=notice_id,
            step=step,
        )
    return added


@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0
    deferred: int = 0


def backoff(attempts: int, mail: MailSettings) -> timedelta:
    return timedelta(
        seconds=min(mail.retry_base_seconds * 2 ** (attempts - 1), mail.retry_max_seconds)
    )


def post_webhook(message: OutboxMessage, hooks: Mapping[str, WebhookSettings]) -> None:
    hook = hooks.get(message.recipient)
    if hook is None:
        raise PermanentFailure(f"webhook {message.recipient} is no longer configured")
    deliver(
        message.recipient,
        hook,
        message.subject,
        message.body,
        {
            "key": message.dedupe_key,
            "recipient": message.recipient_name,
            "stage": message.stage,
            "incident_id": message.incident_id,
        },
    )


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now),
        and_(
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.claimed_at < now - STALE_CLAIM,
        ),
    )


def _dead_local_claims(session: Session) -> list[int]:
    """Messages claimed by a sender process on this host that no longer runs."""
    return [
        message_id
        for message_id, claimed_by in session.execute(
            select(OutboxMessage.id, OutboxMessage.claimed_by).where(
                OutboxMessage.status == OutboxStatus.SENDING,
                OutboxMessage.claimed_by.like(f"{HOST}:%"),
            )
        )
        if is_dead(claimed_by)
    ]


def _claim(session: Session, message_id: int, now: datetime, dead: set[int]) -> str | None:
    """Claim a message for this process; returns its previous status, None when another
    sender has it or it is done."""
    previous = session.scalar(select(OutboxMessage.status).where(OutboxMessage.id == message_id))
    condition = _claimable(now)
    if message_id in dead:
        condition = or_(condition, OutboxMessage.status == OutboxStatus.SENDING)
    claimed: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, condition)
        .values(
            status=OutboxStatus.SENDING,
            claimed_at=clock.now(),
            claimed_by=this_process(),
            attempts=OutboxMessage.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return previous if claimed.rowcount == 1 else None


def drain(
    sessions: Callable[[], Session],
    mail: MailSettings,
    now: datetime | None = None,
    limit: int = 500,
    webhooks: Mapping[str, WebhookSettings] | None = None,
) -> SendResult:
    """Deliver due messages, email over one SMTP connection; each outcome is committed at
    once with its attempt."""
    now = now or clock.now()
    result = SendResult()
    with sessions() as session:
        dead = set(_dead_local_claims(session))
        due = list(
            session.scalars(
                select(OutboxMessage.id)
                .where(or_(_claimable(now), OutboxMessage.id.in_(dead)))
                .order_by(OutboxMessage.id)
                .limit(limit)
            )
        )
    if not due:
        return result
    smtp: smtplib.SMTP | None = None
    try:
        for message_id in due:
            with sessions() as session, session.begin():
                previous = _claim(session, message_id, now, dead)
                if previous is None:
                    continue
                if previous == OutboxStatus.SENDING:
                    session.add(
                        DeliveryAttempt(
                            message_id=message_id,
                            outcome=AttemptOutcome.IN_DOUBT,
                            error="发送进程在投递中途停止，以相同 Message-ID 重新发送",
                        )
                    )
            with sessions() as session:
                message = session.get(OutboxMessage, message_id)
                assert message is not None
                started = time.monotonic()
                outcome, error = AttemptOutcome.SENT, None
                try:
                    if message.channel == "webhook":
                        post_webhook(message, webhooks or {})
                    else:
                        try:
                            email = build_email(message, mail, thread_root(session, message))
                        except (ValueError, TypeError) as exc:
                            # Retrying cannot help a message that cannot be built: fail it
                            # now, so `yuqing status` shows it, instead of deferring for ever.
                            raise PermanentFailure(f"邮件无法生成：{exc}") from exc
                        if smtp is None:
                            smtp = open_smtp(mail)
                        smtp.send_message(email)
                except (*PERMANENT, PermanentFailure) as exc:
                    outcome, error = AttemptOutcome.FAILED, str(exc)
                except (OSError, smtplib.SMTPException, DeliveryFailure) as exc:
                    outcome, error = AttemptOutcome.DEFERRED, f"{type(exc).__name__}: {exc}"
                    if message.channel != "webhook" and smtp is not None:
                        smtp.close()  # reconnect for the next message
                        smtp = None
                except Exception as exc:
                    # A fault in one message must not hold up the others; it is retried.
                    log.exception("outbox %d: unexpected delivery error", message_id)
                    outcome, error = AttemptOutcome.DEFERRED, f"{type(exc).__name__}: {exc}"
                    if smtp is not None:
                        smtp.close()
                        smtp = None
                seconds = time.monotonic() - started
            with sessions() as session, session.begin():
                message = session.get(OutboxMessage, message_id)
                assert message is not None
                session.add(
                    DeliveryAttempt(
                        message_id=message_id, outcome=outcome, error=error, seconds=seconds
                    )
                )
                message.claimed_at = message.claimed_by = None
                if outcome == AttemptOutcome.SENT:
                    message.status, message.sent_at = OutboxStatus.SENT, clock.now()
                    result.sent += 1
                elif outcome == AttemptOutcome.FAILED:
                    message.status, message.last_error = OutboxStatus.FAILED, error
                    result.failed += 1
                    log.error("outbox %d to %s refused: %s", message.id, message.recipient, error)
                else:
                    message.status, message.last_error = OutboxStatus.PENDING, error
                    message.next_attempt_at = clock.now() + backoff(message.attempts, mail)
                    result.deferred += 1
                    log.warning(
                        "outbox %d to %s deferred: %s", message.id, message.recipient, error
                    )
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException) as exc:
                # Every outcome is committed already; a failed QUIT changes nothing.
                log.debug("SMTP QUIT failed: %s", exc)
    return result
