"""Files attached to a registered mention (登记舆情): a photo of a letter, a recording of a
call, a scanned PDF. Checked before anything is stored, kept in the database
(`MentionAttachment`), each addition audited.

An attachment's type is what its first bytes say, never the name or the browser's claim, and
only the kinds a duty officer has in hand are taken (images, PDF, the audio formats phones
record). It is always served as a download of that type, so a file cannot become a page of
the web UI. Its name is kept for people only: reduced to one plain line, without any path.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from responder import audit
from responder.audit import AuditAction
from responder.models import MentionAttachment

MAX_FILES = 5
MAX_NAME = 100
# (content type, extension, the bytes the file holds at these offsets).
_KINDS: tuple[tuple[str, str, tuple[tuple[int, bytes], ...]], ...] = (
    ("image/jpeg", ".jpg", ((0, b"\xff\xd8\xff"),)),
    ("image/png", ".png", ((0, b"\x89PNG\r\n\x1a\n"),)),
    ("image/gif", ".gif", ((0, b"GIF8"),)),
    ("image/webp", ".webp", ((0, b"RIFF"), (8, b"WEBP"))),
    ("application/pdf", ".pdf", ((0, b"%PDF-"),)),
    ("audio/wav", ".wav", ((0, b"RIFF"), (8, b"WAVE"))),
    ("audio/amr", ".amr", ((0, b"#!AMR"),)),
    ("audio/ogg", ".ogg", ((0, b"OggS"),)),
    ("audio/mpeg", ".mp3", ((0, b"ID3"),)),
    ("audio/mp4", ".m4a", ((4, b"ftypM4A"),)),
)
CONTENT_TYPES = tuple(content_type for content_type, _, _ in _KINDS)
_MP3_FRAME = re.compile(rb"\A\xff[\xe2-\xff]")
ALLOWED = "图片（JPG、PNG、GIF、WEBP）、PDF、录音（MP3、M4A、WAV、AMR、OGG）"


class AttachmentError(ValueError):
    """An attachment that cannot be kept, and why, in Chinese (the page) and English (the
    command line); nothing of the registration is stored."""

    def __init__(self, chinese: str, english: str) -> None:
        super().__init__(chinese)
        self.chinese = chinese
        self.english = english


@dataclass(frozen=True)
class Upload:
    """A file as it arrived: its name as given and its bytes (read up to the limit plus one
    byte, so an oversized file is known without reading all of it)."""

    name: str
    data: bytes


@dataclass(frozen=True)
class Checked:
    filename: str
    content_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def byte_limit(megabytes: float) -> int:
    """`limits.attachment_mb` in bytes."""
    return int(megabytes * 1_000_000)


def sniff(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) of an allowed kind of file, from its first bytes."""
    for content_type, extension, marks in _KINDS:
        if all(data[at : at + len(mark)] == mark for at, mark in marks):
            return content_type, extension
    if _MP3_FRAME.match(data):  # an MP3 without an ID3 tag starts with a frame header
        return "audio/mpeg", ".mp3"
    return None


def safe_name(raw: str, extension: str) -> str:
    """The file name to show and offer for download: the last path part, control and
    formatting characters removed, at most MAX_NAME characters, ending in the extension its
    bytes call for."""
    base = _plain(raw) or "附件"
    stem, dot, ending = base.rpartition(".")
    if dot and f".{ending.lower()}" in {e for _, e, _ in _KINDS} | {".jpeg"}:
        base = stem.strip(" .") or "附件"
    return base[: MAX_NAME - len(extension)] + extension


def _plain(raw: str) -> str:
    """The last part of a path, without control, formatting or separator characters (a
    right-to-left mark turns "gpj.exe" into what reads as "exe.jpg"), nor leading dots."""
    base = re.split(r"[\\/]", raw)[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] not in "CZ" or c == " ")
    return base.strip(" .")[:MAX_NAME]


def check(uploads: Sequence[Upload], max_bytes: int) -> list[Checked]:
    """The uploads as they will be kept, or `AttachmentError` for the first that cannot be.
    Empty uploads (a file field left blank) are left out."""
    files = [u for u in uploads if u.data or u.name]
    if len(files) > MAX_FILES:
        raise AttachmentError(
            f"附件最多 {MAX_FILES} 个", f"at most {MAX_FILES} attachments per registration"
        )
    checked = []
    megabytes = f"{max_bytes / 1_000_000:g}"
    for upload in files:
        shown = _plain(upload.name) or "附件"
        if not upload.data:
            raise AttachmentError(f"附件“{shown}”是空文件", f"attachment {shown!r} is empty")
        if len(upload.data) > max_bytes:
            raise AttachmentError(
                f"附件“{shown}”超过 {megabytes} MB 的上限",
                f"attachment {shown!r} is larger than {megabytes} MB",
            )
        kind = sniff(upload.data)
        if kind is None:
            raise AttachmentError(
                f"附件“{shown}”的类型不支持；可上传{ALLOWED}",
                f"attachment {shown!r} is not an image, a PDF or a sound recording",
            )
        content_type, extension = kind
        checked.append(Checked(safe_name(upload.name, extension), content_type, upload.data))
    return checked


def attach(session: Session, mention_id: int, files: Sequence[Checked], actor: str) -> int:
    """Keep the checked files with the mention (a file it already has is not kept twice), each
    with its audit row; how many were added."""
    held = set(
        session.scalars(
            select(MentionAttachment.sha256).where(MentionAttachment.mention_id == mention_id)
        )
    )
    added = 0
    for file in files:
        if file.sha256 in held:
            continue
        held.add(file.sha256)
        row = MentionAttachment(
            mention_id=mention_id,
            filename=file.filename,
            content_type=file.content_type,
            size=len(file.data),
            sha256=file.sha256,
            data=file.data,
            added_by=actor,
        )
        session.add(row)
        session.flush()
        audit.record(
            session,
            actor,
            AuditAction.MENTION_ATTACH,
            "mention",
            mention_id,
            after={
                "attachment": row.id,
                "filename": row.filename,
                "content_type": row.content_type,
                "size": row.size,
                "sha256": row.sha256,
            },
            detail=f"添加附件“{row.filename}”",
        )
        added += 1
    return added


def attachments_of(session: Session, mention_id: int) -> list[MentionAttachment]:
    """The mention's attachments without their bytes loaded, oldest first."""
    return list(
        session.scalars(
            select(MentionAttachment)
            .where(MentionAttachment.mention_id == mention_id)
            .order_by(MentionAttachment.id)
            .options(defer(MentionAttachment.data))
        )
    )


def download(
    session: Session, mention_id: int, attachment_id: int, actor: str
) -> MentionAttachment | None:
    """One attachment with its bytes, the download audited; None when the mention has no such
    attachment."""
    row = session.scalar(
        select(MentionAttachment).where(
            MentionAttachment.id == attachment_id, MentionAttachment.mention_id == mention_id
        )
    )
    if row is None:
        return None
    audit.record(
        session,
        actor,
        AuditAction.ATTACHMENT_DOWNLOAD,
        "mention",
        mention_id,
        after={"attachment": row.id, "filename": row.filename},
        detail=f"下载附件“{row.filename}”",
    )
    return row
