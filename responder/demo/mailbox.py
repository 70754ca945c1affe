"""The demo's public mailbox (局长信箱): a real IMAP server on 127.0.0.1, pymap's in-memory
backend in a thread of its own, holding the demo world's letters.

pymap speaks IMAP4rev1 as dovecot does, so the `mailbox` source reads it exactly as it reads an
office's server: it logs in, EXAMINEs the folder, SEARCHes by date and fetches with
BODY.PEEK. Nothing needs installing as root. Plaintext login without TLS, which the source
accepts for loopback servers only (`imap+plain://127.0.0.1:PORT/INBOX`). The demo mailbox has
one user, `MAILBOX_USER`, whose password is empty, so the demo needs no secrets file.
"""

from __future__ import annotations

import asyncio
import threading
from argparse import Namespace
from collections.abc import Sequence
from contextlib import AsyncExitStack
from datetime import datetime

from pymap.backend.dict import DictBackend
from pymap.backend.dict.filter import FilterSet
from pymap.backend.dict.mailbox import MailboxSet
from pymap.imap import IMAPService
from pymap.parsing.message import AppendMessage

from responder.demo.mailsink import free_port

MAILBOX_USER = "jzxx"
START_SECONDS = 30


class DemoMailbox:
    """`port=0` picks a free port."""

    def __init__(
        self, letters: Sequence[tuple[datetime, bytes]], port: int = 0, host: str = "127.0.0.1"
    ) -> None:
        self.letters = list(letters)
        self.host = host
        self.port = port or free_port(host)
        self._ready = threading.Event()
        self._failed: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="demo-imap", daemon=True)

    @property
    def url(self) -> str:
        return f"imap+plain://{self.host}:{self.port}/INBOX"

    def start(self) -> DemoMailbox:
        self._thread.start()
        self._ready.wait(START_SECONDS)
        if self._failed is not None:
            raise self._failed
        if not self._ready.is_set():
            raise OSError(f"the demo IMAP server did not start on {self.host}:{self.port}")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # handed to start(), which raises it in the caller
            self._failed = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        # What pymap's command line would parse; TLS off, plaintext login allowed (loopback).
        args = Namespace(
            host=[self.host],
            port=self.port,
            debug=False,
            cert=None,
            key=None,
            tls=False,
            demo_data=False,
            demo_user=MAILBOX_USER,
            demo_password="",
            passlib_cfg=None,
            inherited_sockets=None,
            proxy_protocol=None,
        )
        backend, config = await DictBackend.init(args, secure_auth=False)
        config.apply_context()
        folders = MailboxSet()
        inbox = await folders.get_mailbox("INBOX")
        for received, raw in self.letters:
            await inbox.append(AppendMessage(raw, received, frozenset()))
        # The user's folders as pymap would make them at the first login, already filled.
        config.set_cache[MAILBOX_USER] = (folders, FilterSet())
        async with AsyncExitStack() as stack:
            await backend.start(stack)
            await IMAPService(backend, config).start(stack)
            self._ready.set()
            await self._stop.wait()
