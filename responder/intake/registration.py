"""登记舆情: mentions that reach the office by phone, a visit, the mailbox or otherwise, recorded
by a person in the web UI or with `yuqing add`.

A registered mention is stored as a crawled one is (`mentions.clean` masks personal data,
`mentions.store` de-duplicates), under one `Source` of kind "manual" per channel, so the next
cycle judges and triages it like any other. Its URL is `manual:<content hash>`: the same words
recorded twice are one mention. Who recorded it is the actor of its `mention.register` audit
row, written in the same transaction. Files attached to it (`responder.intake.attachments`) are
checked before anything is stored and kept in that transaction too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session

import nlp
from responder import accounts, audit, clock
from responder.audit import AuditAction
from responder.intake.attachments import AttachmentError, Upload, attach, byte_limit, check
from responder.intake.dates import parse_time
from responder.intake.mentions import (
    MIN_TEXT_CHARS,
    MentionRecord,
    aside_title,
    canonical_url,
    clean,
    content_hash,
    is_stored,
    source_for,
    store,
)
from responder.labels import label
from responder.models import AuditEntry, Mention, Source
from responder.plaintext import one_line
from responder.settings import Settings

SOURCE_KIND = "manual"
CHANNELS = ("phone", "visit", "mailbox", "other")
ACTION = AuditAction.MENTION_REGISTER
MAX_NAME = 200  # Mention.author's column width
MAX_TITLE = 300
MAX_TEXT = 20_000
# A clock a few minutes fast on the officer's computer is not a time in the future.
FUTURE_SLACK = timedelta(minutes=10)


class RegistrationError(ValueError):
    """A registration that cannot be stored, and why, in Chinese (the page) and English (the
    command line); nothing was stored."""

    def __init__(self, chinese: str, english: str) -> None:
        super().__init__(chinese)
        self.chinese = chinese
        self.english = english


@dataclass(frozen=True)
class Registration:
    """What the duty officer wrote down, as typed."""

    channel: str
    text: str
    who: str = ""  # the caller, visitor or outlet
    time: str = ""  # when it was received; empty means now
    title: str = ""
    attachments: tuple[Upload, ...] = ()


@dataclass(frozen=True)
class Registered:
    mention_id: int
    duplicate: bool  # the same words were recorded (or crawled) before; nothing new stored
    attached: int = 0  # files added to the mention (also to the stored one it repeats)


def channel_label(channel: str) -> str:
    return label("channels", channel)


def source_name(channel: str) -> str:
    return f"{channel_label(channel)}登记"


def received_at(raw: str, settings: Settings) -> datetime:
    """When the call or visit was received: `raw` in the office's time zone, else now."""
    now = clock.now()
    if not raw.strip():
        return now
    at = parse_time(raw, settings.tz, now)
    if at is None:
        raise RegistrationError(
            f"无法识别时间“{one_line(raw)[:40]}”，请按“2026-11-20 09:30”的格式填写",
            f"unreadable time {raw!r}: write it as 2026-11-20 09:30",
        )
    if at > now + FUTURE_SLACK:
        raise RegistrationError("时间不能晚于现在", f"time {raw!r} is in the future")
    return at


def _check(form: Registration) -> None:
    if form.channel not in CHANNELS:
        names = "、".join(channel_label(c) for c in CHANNELS)
        raise RegistrationError(
            f"请选择渠道：{names}",
            f"unknown channel {form.channel!r}; choose one of {', '.join(CHANNELS)}",
        )
    if not form.text.strip():
        raise RegistrationError("请填写内容", "the text is empty")
    if len(form.text) > MAX_TEXT:
        raise RegistrationError(
            f"内容过长，最多 {MAX_TEXT} 个字", f"the text is longer than {MAX_TEXT} characters"
        )
    if len(form.title) > MAX_TITLE:
        raise RegistrationError(
            f"标题过长，最多 {MAX_TITLE} 个字", f"the title is longer than {MAX_TITLE} characters"
        )
    if len(one_line(form.who)) > MAX_NAME:
        raise RegistrationError(
            f"来电人或媒体过长，最多 {MAX_NAME} 个字",
            f"the caller or outlet is longer than {MAX_NAME} characters",
        )


def register(session: Session, settings: Settings, form: Registration, recorder: str) -> Registered:
    """Store what `recorder` (an enabled account of `accounts.REGISTER_ROLES`) wrote down, or
    find the mention it repeats; raises `RegistrationError` and stores nothing when it cannot."""
    user = accounts.find(session, recorder)
    if user is None or user.disabled or user.role not in accounts.REGISTER_ROLES:
        allowed = "、".join(label("roles", r) for r in accounts.REGISTER_ROLES)
        raise RegistrationError(
            f"只有{allowed}可以登记舆情",
            f"{recorder!r} is not an enabled account allowed to register mentions"
            f" ({', '.join(accounts.REGISTER_ROLES)})",
        )
    _check(form)
    at = received_at(form.time, settings)
    try:
        files = check(form.attachments, byte_limit(settings.limits.attachment_mb))
    except AttachmentError as exc:
        raise RegistrationError(exc.chinese, exc.english) from None
    record = clean(
        MentionRecord(
            url="",
            title=form.title,
            text=form.text,
            # The caller's name or number is personal data, masked as the text is.
            author=aside_title(form.who, settings.privacy),
            published_at=at,
        ),
        settings.tz,
        settings.privacy,
    )
    if record is None:
        raise RegistrationError(
            f"内容太短，至少 {MIN_TEXT_CHARS} 个字",
            f"the text is shorter than {MIN_TEXT_CHARS} characters",
        )
    digest = content_hash(record.title, record.text)
    record.url = f"{SOURCE_KIND}:{digest}"
    if is_stored(session, canonical_url(record.url), digest):
        found = _stored_id(session, record.url, digest)
        return Registered(found, duplicate=True, attached=attach(session, found, files, recorder))
    record.keywords_matched = nlp.match_keywords(
        f"{record.title}\n{record.text}", settings.keywords
    )
    source = source_for(session, source_name(form.channel), SOURCE_KIND, f"manual:{form.channel}")
    mention = store(session, record, source.id)
    if mention is None:  # stored by someone else between the check and the insert
        found = _stored_id(session, record.url, digest)
        return Registered(found, duplicate=True, attached=attach(session, found, files, recorder))
    session.flush()
    audit.record(
        session,
        recorder,
        AuditAction.MENTION_REGISTER,
        "mention",
        mention.id,
        after={
            "channel": form.channel,
            "source": source.name,
            "published_at": at.isoformat(),
        },
        detail=f"登记{channel_label(form.channel)}舆情",
    )
    return Registered(
        mention.id, duplicate=False, attached=attach(session, mention.id, files, recorder)
    )


def _stored_id(session: Session, url: str, digest: str) -> int:
    found = session.scalar(
        select(Mention.id)
        .where((Mention.canonical_url == canonical_url(url)) | (Mention.content_hash == digest))
        .order_by(Mention.id)
        .limit(1)
    )
    assert found is not None
    return found


@dataclass(frozen=True)
class RecentRegistration:
    mention: Mention
    recorder: str
    channel: str


def recent(session: Session, limit: int = 20) -> list[RecentRegistration]:
    """The latest registered mentions with who recorded them, newest first."""
    rows = session.execute(
        select(Mention, AuditEntry.actor, AuditEntry.after)
        .join(Source, Mention.source_id == Source.id)
        .join(
            AuditEntry,
            (AuditEntry.action == ACTION)
            & (AuditEntry.object_type == "mention")
            & (AuditEntry.object_id == cast(Mention.id, String)),
        )
        .where(Source.kind == SOURCE_KIND)
        .order_by(Mention.id.desc())
        .limit(limit)
    ).all()
    return [
        RecentRegistration(mention, actor, str((after or {}).get("channel", "")))
        for mention, actor, after in rows
    ]
