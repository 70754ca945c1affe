"""The email side of delivery: an outbox row as a threaded email, and an SMTP connection
with the configured security and login (AUTH PLAIN by hand for non-ASCII credentials)."""

from __future__ import annotations

import base64
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from sqlalchemy import select
from sqlalchemy.orm import Session

from responder.models import OutboxMessage
from responder.plaintext import one_line
from responder.settings import MailSettings


def thread_root(session: Session, message: OutboxMessage) -> OutboxMessage | None:
    """The first email of the message's thread to the same recipient (itself if first)."""
    if message.thread is None:
        return None
    return session.scalar(
        select(OutboxMessage)
        .where(
            OutboxMessage.thread == message.thread,
            OutboxMessage.recipient == message.recipient,
            OutboxMessage.channel == "email",
        )
        .order_by(OutboxMessage.id)
        .limit(1)
    )


def build_email(
    message: OutboxMessage, mail: MailSettings, root: OutboxMessage | None = None
) -> EmailMessage:
    """The message as an email; with `root` (see `thread_root`), threaded under it: the root
    has a Message-ID its later messages can name, and they keep its subject."""
    email = EmailMessage()
    email["From"] = mail.sender
    # Header values cleaned again here: a row written before titles were cleaned on entry
    # (or by a future path that forgets) must not make the message unbuildable.
    email["To"] = formataddr((one_line(message.recipient_name), one_line(message.recipient)))
    domain = mail.sender.rpartition("@")[2] or "yuqing.local"
    if root is None:
        email["Subject"] = one_line(message.subject)
        email["Message-ID"] = make_msgid(idstring=f"outbox-{message.id}", domain=domain)
    else:
        root_id = f"<yuqing-thread-{root.id}@{domain}>"
        email["Subject"] = one_line(root.subject)
        if root.id == message.id:
            email["Message-ID"] = root_id
        else:
            email["Message-ID"] = make_msgid(idstring=f"outbox-{message.id}", domain=domain)
            email["In-Reply-To"] = email["References"] = root_id
    email["X-Yuqing-Key"] = message.dedupe_key
    email.set_content(message.body)
    if message.html is not None:
        email.add_alternative(message.html, subtype="html")
        html_part = email.get_body(preferencelist=("html",))
        assert isinstance(html_part, EmailMessage)
        for image in message.attachments:
            maintype, _, subtype = image.content_type.partition("/")
            html_part.add_related(
                image.data,
                maintype=maintype,
                subtype=subtype,
                cid=f"<{image.cid}>",
                filename=image.filename,
            )
    return email


def open_smtp(mail: MailSettings) -> smtplib.SMTP:
    context = ssl.create_default_context(cafile=mail.ca_file or None)
    if mail.security == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            mail.smtp_host, mail.smtp_port, timeout=mail.timeout, context=context
        )
    else:
        smtp = smtplib.SMTP(mail.smtp_host, mail.smtp_port, timeout=mail.timeout)
    try:
        if mail.security == "starttls":
            smtp.starttls(context=context)
        if mail.username:
            _login(smtp, mail.username, mail.password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def _login(smtp: smtplib.SMTP, username: str, password: str) -> None:
    if (username + password).isascii():
        smtp.login(username, password)
        return
    # smtplib encodes credentials as ASCII; AUTH PLAIN is UTF-8 (RFC 4616), so a password
    # with Chinese characters is sent that way by hand.
    smtp.ehlo_or_helo_if_needed()
    if "plain" not in smtp.esmtp_features.get("auth", "").lower():
        raise smtplib.SMTPException("the server offers no AUTH PLAIN for a non-ASCII login")
    token = base64.b64encode(f"\0{username}\0{password}".encode()).decode()
    code, reply = smtp.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)
