"""The sender killed (SIGKILL) in the middle of a batch and restarted: every notice arrives
exactly once, and the delivery log says what happened to the one in flight."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import select

from responder.delivery.outbox import enqueue
from responder.demo.mailsink import MailboxHandler
from responder.models import DeliveryAttempt, OutboxMessage

BATCH = 8
STALL_AT = 4


class StallingHandler(MailboxHandler):
    """Holds the reply to one message until the client goes away, as a slow server would. A
    client that dies before the reply never got "250", so the message was not accepted:
    aiosmtpd cancels the handler when the connection drops, and nothing is stored."""

    def __init__(self, mailbox: Path, stall_at: int) -> None:
        super().__init__(mailbox)
        self.stall_at = stall_at
        self.received = 0
        self.stalled = threading.Event()
        self.cancelled = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.received += 1
        if self.received == self.stall_at:
            self.stalled.set()
            try:
                await asyncio.sleep(120)
            except asyncio.CancelledError:
                self.cancelled.set()
                raise
        return await super().handle_DATA(server, session, envelope)


def send(log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "responder.cli", "send"],
            env=dict(os.environ),
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def test_a_sender_killed_mid_batch_delivers_every_notice_exactly_once_after_restart(settings, db):
    keys = [f"incident:{n}:initial:II:0:step0:leader@example.org" for n in range(BATCH)]
    with db.transaction() as session:
        for key in keys:
            enqueue(
                session,
                key,
                "leader@example.org",
                "陈局长",
                f"【舆情初报】{key}",
                "正文",
                "initial",
            )
    mailbox = settings.data_dir / "mailbox"
    handler = StallingHandler(mailbox, stall_at=STALL_AT)
    server = Controller(handler, hostname="127.0.0.1", port=settings.mail.smtp_port)
    server.start()
    try:
        first = send(settings.data_dir / "first.log")
        assert handler.stalled.wait(60), (settings.data_dir / "first.log").read_text()
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        assert handler.cancelled.wait(10)
        assert len(list(mailbox.glob("*.eml"))) == STALL_AT - 1
        with db.sessions() as session:
            statuses = [m.status for m in session.scalars(select(OutboxMessage))]
        assert statuses.count("sent") == STALL_AT - 1 and statuses.count("sending") == 1

        second = send(settings.data_dir / "second.log")
        assert second.wait(timeout=120) == 0, (settings.data_dir / "second.log").read_text()
    finally:
        server.stop()

    delivered = [
        message_from_bytes(p.read_bytes(), policy=policy.default)["X-Yuqing-Key"]
        for p in mailbox.glob("*.eml")
    ]
    assert sorted(delivered) == sorted(keys)  # each once, none lost
    with db.sessions() as session:
        assert {m.status for m in session.scalars(select(OutboxMessage))} == {"sent"}
        in_flight = session.scalars(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == keys[STALL_AT - 1])
        ).one()
        log = session.scalars(
            select(DeliveryAttempt.outcome)
            .where(DeliveryAttempt.message_id == in_flight.id)
            .order_by(DeliveryAttempt.id)
        ).all()
    assert log == ["in_doubt", "sent"]
