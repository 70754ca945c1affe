"""The demo mail sink: a real SMTP server (aiosmtpd) on 127.0.0.1 that stores every delivered
message as an .eml file in a mailbox directory."""

from __future__ import annotations

import itertools
import socket
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session


class MailboxHandler:
    def __init__(self, mailbox: Path) -> None:
        self.mailbox = mailbox
        self.mailbox.mkdir(parents=True, exist_ok=True)
        self._counter = itertools.count()

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:  # noqa: N802
        content = envelope.original_content or b""
        for rcpt in envelope.rcpt_tos:
            name = f"{time.time_ns()}-{next(self._counter):05d}.eml"
            path = self.mailbox / name
            tmp = path.with_suffix(".tmp")
            # Written under a temporary name first, so a reader never sees half a message.
            tmp.write_bytes(f"X-Envelope-To: {rcpt}\r\n".encode() + content)
            tmp.replace(path)
        return "250 Message accepted for delivery"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class MailSink:
    """`port=0` picks a free port (aiosmtpd's controller cannot start on port 0 itself)."""

    def __init__(self, mailbox: Path, port: int = 0, host: str = "127.0.0.1") -> None:
        self.handler = MailboxHandler(mailbox)
        self.port = port or free_port(host)
        self.controller = Controller(self.handler, hostname=host, port=self.port)

    def start(self) -> MailSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def messages(self) -> list[Path]:
        return sorted(self.handler.mailbox.glob("*.eml"))
