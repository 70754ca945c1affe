"""The email outbox: notices are rows first, delivered by a sender that retries with backoff.

A row is marked sent in its own transaction right after the SMTP server accepts it, so a crash
or an SMTP outage delays a notice but never loses it; the dedupe key stops it being enqueued
twice, and a stable Message-ID lets receivers drop the rare resend after a crash.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from sqlalchemy import select
from sqlalchemy.orm import Session

from responder.models import OutboxMessage, utcnow
from responder.settings import DutyPerson, MailSettings, WebhookSettings
from responder.webhooks import DeliveryFailure, PermanentFailure, deliver

log = logging.getLogger(__name__)
# Permanent SMTP refusals (bad address, policy): retrying cannot help.
PERMANENT = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused)


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
) -> bool:
    """Add a message unless one with this key exists; True when added. For channel "webhook"
    the recipient is the name of a `[webhooks.NAME]` entry."""
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)):
        return False
    session.add(
        OutboxMessage(
            dedupe_key=key,
            channel=channel,
            recipient=recipient,
            recipient_name=recipient_name,
            subject=subject,
            body=body,
            stage=stage,
            incident_id=incident_id,
        )
    )
    session.flush()
    return True


def enqueue_for_person(
    session: Session,
    person: DutyPerson,
    key: str,
    subject: str,
    body: str,
    stage: str,
    incident_id: int | None = None,
) -> int:
    """Email the person and, when they have one, post to their webhook; returns how many
    messages are new."""
    added = int(enqueue(session, key, person.email, person.name, subject, body, stage, incident_id))
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
        )
    return added


def build_email(message: OutboxMessage, mail: MailSettings) -> EmailMessage:
    email = EmailMessage()
    email["From"] = mail.sender
    email["To"] = formataddr((message.recipient_name, message.recipient))
    email["Subject"] = message.subject
    domain = mail.sender.rpartition("@")[2] or "yuqing.local"
    email["Message-ID"] = make_msgid(idstring=f"outbox-{message.id}", domain=domain)
    email["X-Yuqing-Key"] = message.dedupe_key
    email.set_content(message.body)
    return email


def open_smtp(mail: MailSettings) -> smtplib.SMTP:
    if mail.security == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            mail.smtp_host,
            mail.smtp_port,
            timeout=mail.timeout,
            context=ssl.create_default_context(),
        )
    else:
        smtp = smtplib.SMTP(mail.smtp_host, mail.smtp_port, timeout=mail.timeout)
        if mail.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
    if mail.username:
        smtp.login(mail.username, mail.password)
    return smtp


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


def drain(
    sessions: Callable[[], Session],
    mail: MailSettings,
    now: datetime | None = None,
    limit: int = 500,
    webhooks: Mapping[str, WebhookSettings] | None = None,
) -> SendResult:
    """Deliver due messages, email over one SMTP connection; each outcome is committed at
    once."""
    now = now or utcnow()
    result = SendResult()
    with sessions() as session:
        due = list(
            session.scalars(
                select(OutboxMessage.id)
                .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
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
                message = session.get(OutboxMessage, message_id)
                if message is None or message.status != "pending":
                    continue
                message.attempts += 1
                try:
                    if message.channel == "webhook":
                        post_webhook(message, webhooks or {})
                    else:
                        if smtp is None:
                            smtp = open_smtp(mail)
                        smtp.send_message(build_email(message, mail))
                except (*PERMANENT, PermanentFailure) as exc:
                    message.status, message.last_error = "failed", str(exc)
                    result.failed += 1
                    log.error("outbox %d to %s refused: %s", message.id, message.recipient, exc)
                except (OSError, smtplib.SMTPException, DeliveryFailure) as exc:
                    message.last_error = f"{type(exc).__name__}: {exc}"
                    message.next_attempt_at = utcnow() + backoff(message.attempts, mail)
                    result.deferred += 1
                    log.warning(
                        "outbox %d to %s deferred: %s",
                        message.id,
                        message.recipient,
                        message.last_error,
                    )
                    if message.channel != "webhook":
                        smtp = None  # reconnect for the next message
                else:
                    message.status, message.sent_at = "sent", utcnow()
                    result.sent += 1
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException) as exc:
                # Every outcome is committed already; a failed QUIT changes nothing.
                log.debug("SMTP QUIT failed: %s", exc)
    return result
