"""The outbox delays mail while SMTP is down and never loses or duplicates it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from responder import clock
from responder.delivery.outbox import drain, enqueue
from responder.demo.mailsink import MailSink
from responder.models import OutboxMessage


def add(db, key: str = "incident:1:initial:II:a@example.org") -> bool:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        return enqueue(session, key, "a@example.org", "甲", "【舆情初报】测试", "正文", "initial")


def test_enqueueing_the_same_key_twice_keeps_one_message(db):
    assert add(db) is True
    assert add(db) is False
    with db.sessions() as session:
        assert len(session.scalars(select(OutboxMessage)).all()) == 1


def test_smtp_down_defers_the_message_and_it_arrives_once_when_smtp_is_back(settings, db):
    add(db)

    down = drain(db.sessions, settings.mail)

    assert (down.sent, down.deferred) == (0, 1)
    with db.sessions() as session:
        message = session.scalars(select(OutboxMessage)).one()
        assert message.status == "pending" and message.attempts == 1
        assert "ConnectionRefused" in (message.last_error or "")
        retry_at = message.next_attempt_at
    assert retry_at > clock.now()
    assert drain(db.sessions, settings.mail).sent == 0  # not due yet

    sink = MailSink(settings.data_dir / "mailbox", port=settings.mail.smtp_port).start()
    try:
        up = drain(db.sessions, settings.mail, now=retry_at + timedelta(seconds=1))
        again = drain(db.sessions, settings.mail, now=retry_at + timedelta(hours=2))
    finally:
        sink.stop()

    assert up.sent == 1 and again.sent == 0
    assert len(sink.messages()) == 1
    body = sink.messages()[0].read_bytes()
    assert b"X-Yuqing-Key: incident:1:initial:II:a@example.org" in body
    with db.sessions() as session:
        message = session.scalars(select(OutboxMessage)).one()
        assert message.status == "sent" and message.sent_at is not None


def test_retry_delays_double_up_to_the_maximum(settings):
    from responder.delivery.outbox import backoff

    mail = settings.mail
    delays = [backoff(n, mail).total_seconds() for n in range(1, 12)]
    assert delays[0] == mail.retry_base_seconds
    assert delays[1] == 2 * mail.retry_base_seconds
    assert max(delays) == mail.retry_max_seconds
