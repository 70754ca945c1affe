"""Reading one letter of the office's mailbox: subject, sender, date and text from the raw
message, however the mail client that wrote it encoded them.

Real letters to a 局长信箱 come from every client there is: GB2312-labelled subjects that hold
GBK characters, bodies in quoted-printable or base64, HTML-only mail from webmail forms, and
now and then a MIME tree a broken client cut short. A letter that cannot be read says why
(`Letter.problem`), so the crawl records it and goes on with the next.
"""

from __future__ import annotations

import email
import email.errors
import re
from dataclasses import dataclass
from datetime import datetime
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from urllib.parse import quote

from crawlers.extract import html_to_text

# A label names a smaller charset than the text uses more often than not: Chinese mail labelled
# gb2312 is routinely GBK, and GB18030 is a superset of both.
_CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "x-euc-cn": "gb18030",
    "ascii": "utf-8",
    "us-ascii": "utf-8",
}
# The defects that mean the tree itself is broken (no boundary, a multipart that is not), as
# opposed to ones Python repairs while parsing (bad base64 padding, a missing header space).
_BROKEN_TREE = (
    email.errors.NoBoundaryInMultipartDefect,
    email.errors.StartBoundaryNotFoundDefect,
    email.errors.MultipartInvariantViolationDefect,
)
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n\s*\n+")
# Webmail sends whole documents; their style sheets and scripts are not the letter.
_NOT_TEXT = re.compile(r"<(style|script|head)\b.*?</\1\s*>", re.S | re.I)


@dataclass
class Letter:
    url: str  # mid:<Message-ID>, or the IMAP URL of the message when it has none
    subject: str = ""
    sender: str = ""  # the display name only: the address is personal data we do not keep
    date: str = ""  # the Date header as written
    published_at: datetime | None = None
    text: str = ""
    problem: str | None = None  # why the letter cannot be read; None when it can


def message_url(message_id: str) -> str:
    """The `mid:` URL (RFC 2392) a letter is stored and de-duplicated under."""
    bare = message_id.strip().strip("<>").strip()
    return "mid:" + quote(bare, safe="@.!$&'*+=^_`{|}~-") if bare else ""


def _decode(data: bytes, charset: str | None) -> str:
    name = (charset or "utf-8").strip().lower()
    name = _CHARSET_ALIASES.get(name, name)
    try:
        return data.decode(name)
    except LookupError:  # an unknown label: try what Chinese mail most often is
        pass
    except UnicodeDecodeError:
        if name != "utf-8":
            return data.decode(name, errors="replace")
    for fallback in ("utf-8", "gb18030"):
        try:
            return data.decode(fallback)
        except UnicodeDecodeError:
            continue
    return data.decode("gb18030", errors="replace")


def header_text(value: str | None) -> str:
    """An RFC 2047 header (=?GB2312?B?...?=) as text, in whatever charset each word names."""
    if not value:
        return ""
    try:
        parts = decode_header(str(value))
    except (ValueError, email.errors.HeaderParseError):
        return str(value)
    words = [
        _decode(chunk, charset) if isinstance(chunk, bytes) else chunk for chunk, charset in parts
    ]
    return _SPACES.sub(" ", "".join(words)).strip()


def _sender(message: Message) -> str:
    addresses = getaddresses([header_text(message.get("From"))])
    return addresses[0][0].strip() if addresses else ""


def _published(value: str) -> datetime | None:
    if not value:
        return None
    try:
        published = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return published if published.tzinfo is not None else None


def _broken(message: Message) -> str | None:
    for part in message.walk():
        for defect in part.defects:
            if isinstance(defect, _BROKEN_TREE):
                return f"MIME 结构损坏（{type(defect).__name__}）"
    return None


def _body(message: Message) -> str:
    """The letter's text: its text/plain part, else its HTML as text. Attachments (a part with
    a file name or `Content-Disposition: attachment`) are not the letter."""
    plain: list[str] = []
    html: list[str] = []
    for part in message.walk():
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        if part.get_filename() or part.get_content_disposition() == "attachment":
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        text = _decode(payload, part.get_content_charset())
        (html if part.get_content_subtype() == "html" else plain).append(text)
    if any(t.strip() for t in plain):
        text = "\n\n".join(plain)
    else:
        text = "\n\n".join(html_to_text(_NOT_TEXT.sub(" ", h)) for h in html)
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.replace("\r", "").split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()


def read_letter(raw: bytes, fallback_url: str) -> Letter:
    """The letter in `raw`; `fallback_url` names it when it carries no Message-ID."""
    message = email.message_from_bytes(raw)
    letter = Letter(url=message_url(header_text(message.get("Message-ID"))) or fallback_url)
    letter.subject = header_text(message.get("Subject"))
    letter.sender = _sender(message)
    letter.date = header_text(message.get("Date"))
    letter.published_at = _published(letter.date)
    letter.problem = _broken(message)
    if letter.problem is None:
        letter.text = _body(message)
        if not letter.text and not letter.subject:
            letter.problem = "没有可读的正文"
    return letter
