"""The IMAP side of a `mailbox` source: log in, list the folder's letters since a date by
Message-ID, fetch one letter at a time. Blocking (imaplib); the spider runs it in a thread.

It changes nothing on the server unless the source says `mark_seen: true`: the folder is
opened read-only (EXAMINE) and bodies are fetched with BODY.PEEK, which leaves the \\Seen flag
alone, so the office's staff still see the letters as unread in their own client. Nothing is
ever deleted or moved.

Letters are fetched one by one and handed over as they arrive: if the server goes away midway
(a restart, a dropped connection) what was fetched is stored and the rest, being unknown, is
listed and fetched again by the next run; the Message-ID (`crawlers.letters.message_url`)
keeps any letter from being stored twice.
"""

from __future__ import annotations

import imaplib
import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote, unquote, urlsplit

from crawlers.letters import header_text, message_url
from responder.settings import Source

_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
_UID = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


class MailboxError(Exception):
    """The server could not be reached or answered with an error; the message says which,
    never with the password."""


@dataclass(frozen=True)
class Listed:
    uid: int
    url: str  # what the letter is stored under (mid:…), see `crawlers.letters.message_url`
    size: int


class MailboxReader:
    def __init__(self, source: Source, password: str, timeout: float) -> None:
        parts = urlsplit(source.url)
        self.source = source
        self.scheme = parts.scheme
        self.host = parts.hostname or ""
        self.port = parts.port or (993 if self.scheme == "imaps" else 143)
        self.folder = unquote(parts.path.lstrip("/")) or "INBOX"
        self.password = password
        self.timeout = timeout
        self.uidvalidity = ""
        self.imap: imaplib.IMAP4 | None = None

    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.source.ca_file or None)

    def open(self) -> None:
        """Connect, log in and select the folder (read-only unless `mark_seen`)."""
        try:
            if self.scheme == "imaps":
                imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    self.host, self.port, ssl_context=self._tls(), timeout=self.timeout
                )
            else:
                imap = imaplib.IMAP4(self.host, self.port, timeout=self.timeout)
                if self.scheme == "imap":
                    imap.starttls(ssl_context=self._tls())
            self.imap = imap
            imap.login(self.source.username, self.password)
            status, data = imap.select(_quoted(self.folder), readonly=not self.source.mark_seen)
            if status != "OK":
                raise MailboxError(f"文件夹 {self.folder} 无法打开：{_said(data)}")
            validity = imap.response("UIDVALIDITY")[1]
            self.uidvalidity = _said(validity) if validity and validity[0] else ""
        except imaplib.IMAP4.error as exc:
            raise MailboxError(f"IMAP 服务器拒绝：{_reason(exc)}") from None
        except (OSError, ssl.SSLError, EOFError) as exc:
            raise MailboxError(f"无法连接 IMAP 服务器 {self.host}:{self.port}：{exc}") from None

    def list_since(self, since: date) -> list[Listed]:
        """The folder's letters that arrived on or after `since`, oldest first."""
        imap = self._imap()
        day = f"{since.day}-{_MONTHS[since.month - 1]}-{since.year}"
        try:
            status, data = imap.uid("SEARCH", "SINCE", day)
            if status != "OK":
                raise MailboxError(f"IMAP SEARCH 失败：{_said(data)}")
            uids = [int(u) for u in (data[0] or b"").split()]
            if not uids:
                return []
            status, data = imap.uid(
                "FETCH",
                ",".join(map(str, uids)),
                "(RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])",
            )
            if status != "OK":
                raise MailboxError(f"IMAP FETCH 失败：{_said(data)}")
        except (imaplib.IMAP4.abort, OSError, EOFError) as exc:
            raise MailboxError(f"与 IMAP 服务器的连接中断：{_reason(exc)}") from None
        except imaplib.IMAP4.error as exc:
            raise MailboxError(f"IMAP 服务器拒绝：{_reason(exc)}") from None
        listed: list[Listed] = []
        for index, entry in enumerate(data):
            if not isinstance(entry, tuple):
                continue
            # Servers order a FETCH answer's items as they like: dovecot names the UID before
            # the header's literal, pymap after it (the bytes that close the entry).
            after = data[index + 1] if index + 1 < len(data) else b""
            rest = entry[0] + (after if isinstance(after, bytes) else b"")
            uid, size = _UID.search(rest), _SIZE.search(rest)
            if uid is None:
                continue
            header = entry[1].decode("ascii", errors="replace").partition(":")[2]
            number = int(uid.group(1))
            url = message_url(header_text(header)) or self.uid_url(number)
            listed.append(Listed(number, url, int(size.group(1)) if size else 0))
        return sorted(listed, key=lambda item: item.uid)

    def fetch(self, uid: int) -> bytes:
        """The whole raw letter; BODY.PEEK leaves it unread unless the source marks seen."""
        part = "BODY[]" if self.source.mark_seen else "BODY.PEEK[]"
        try:
            status, data = self._imap().uid("FETCH", str(uid), f"({part})")
        except (imaplib.IMAP4.abort, OSError, EOFError) as exc:
            raise MailboxError(f"与 IMAP 服务器的连接中断：{_reason(exc)}") from None
        except imaplib.IMAP4.error as exc:
            raise MailboxError(f"IMAP 服务器拒绝：{_reason(exc)}") from None
        if status != "OK":
            raise MailboxError(f"IMAP FETCH 失败：{_said(data)}")
        for entry in data:
            if isinstance(entry, tuple):
                return bytes(entry[1])
        raise MailboxError(f"信件 UID {uid} 已不在文件夹中")

    def uid_url(self, uid: int) -> str:
        """An IMAP URL (RFC 5092) for a letter without a Message-ID; stable while the folder's
        UIDVALIDITY is."""
        folder = quote(self.folder, safe="")
        return f"imap://{self.host}:{self.port}/{folder};UIDVALIDITY={self.uidvalidity}/;UID={uid}"

    def close(self) -> None:
        if self.imap is None:
            return
        imap, self.imap = self.imap, None
        try:
            if imap.state == "SELECTED":
                imap.close()  # read-only: CLOSE expunges nothing
            imap.logout()
        except (imaplib.IMAP4.error, OSError, EOFError):
            # The server went away mid-read: nothing to say goodbye to.
            try:
                imap.shutdown()
            except OSError:
                pass

    def _imap(self) -> imaplib.IMAP4:
        if self.imap is None:
            raise MailboxError("not connected")
        return self.imap


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _said(data: Sequence[object] | None) -> str:
    first = data[0] if data else b""
    return first.decode("utf-8", errors="replace") if isinstance(first, bytes) else str(first)


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
