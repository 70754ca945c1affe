"""Storing mentions: canonical URLs, content hashes and de-duplication.

The crawler's save pipeline and `yuqing import` both store through `store()`, so every way in
applies the same rules.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import nlp
from nlp import pii
from responder import clock
from responder.db import begin_writes
from responder.intake import search
from responder.intake.dates import parse_time
from responder.models import RETRIED_OUTCOMES, Mention, SeenPage, Source
from responder.plaintext import multi_line, one_line
from responder.settings import PrivacySettings

TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|spm|from|share_token|share_from|isappinstalled|scene|clicktime|wxshare_count|"
    r"fbclid|gclid|_hsenc|_hsmi|mkt_tok|vd_source|share_source|share_medium|timestamp)$",
    re.IGNORECASE,
)
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


# A crawl asks for a page's canonical URL and content hash at each step (listed, de-duplicated,
# stored, remembered): remembered for the pages in flight, they are worked out once.
@lru_cache(maxsize=4096)
def canonical_url(url: str) -> str:
    """Lower-case scheme and host, no fragment, tracking parameters removed, others sorted."""
    parts = urlsplit(url.strip())
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not TRACKING_PARAMS.match(k)
    )
    path = parts.path or "/"
    host = (parts.hostname or "").lower()
    if parts.port and (parts.scheme, parts.port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme.lower(), host, path, urlencode(query), ""))


@lru_cache(maxsize=1024)
def match_text(title: str, text: str) -> str:
    """A mention's title and text as matching sees them (`nlp.normalise`: full-width,
    traditional, emoji), a line apart: relevance rules match it and the content hash is taken
    from it. Remembered for the pages in flight: normalising is a tenth of a crawl's work, and a
    crawled page needs it at three steps (relevant?, duplicate?, stored)."""
    return nlp.normalise(f"{title}\n{text}")


@lru_cache(maxsize=1024)
def content_hash(title: str, text: str) -> str:
    """Hash of the words only, so whitespace and punctuation changes do not make a new mention.
    The key is normalised (`match_text`), the stored text never is, so a copy differing only in
    those still hashes alike. The line between title and text is not a word, so the hash is the
    one of the title and text run together (as stored hashes were taken before `match_text`)."""
    words = _NON_WORD.sub("", match_text(title, text)).lower()
    return hashlib.sha256(words.encode("utf-8")).hexdigest()


@dataclass
class MentionRecord:
    """A mention as handed over by a crawler or an import, before it is stored."""

    url: str
    text: str
    title: str = ""
    author: str = ""
    outlet: str = ""
    published: str = ""  # as written at the source; `clean` parses it into published_at
    published_at: datetime | None = None
    reposts: int = 0
    comments: int = 0
    likes: int = 0
    keywords_matched: list[str] = field(default_factory=list)
    # Before masking; set by `clean` only when masking changed something and
    # `privacy.keep_original` is on.
    original_title: str | None = None
    original_text: str | None = None


MIN_TEXT_CHARS = 10
_SPACE = re.compile(r"\s+")


def tidy(text: str, keep_lines: bool = False) -> str:
    """Whitespace collapsed (within each line with `keep_lines`, empty lines dropped); every
    other character kept as it is."""
    if keep_lines:
        lines = (_SPACE.sub(" ", line).strip() for line in text.splitlines())
        return "\n".join(line for line in lines if line)
    return _SPACE.sub(" ", text).strip()


def clean(
    record: MentionRecord, tz: ZoneInfo, privacy: PrivacySettings | None = None
) -> MentionRecord | None:
    """Text fields with whitespace tidied (nothing else: the stored title and text are the
    page's own characters, full-width punctuation included, since drafts and notices quote
    them) and personal identifiers masked (as `privacy` says; masked by
    default) and a parsed publication time; None when there is no text.

    Masking here, before the content hash, means everything downstream (de-duplication,
    reprints, notices, drafts, exports, the web) only ever sees the mask; the mask is
    deterministic, so the same story still hashes and groups the same."""
    privacy = privacy or PrivacySettings()
    text = tidy(multi_line(record.text), keep_lines=True)
    if len(text) < MIN_TEXT_CHARS:
        return None
    title = tidy(one_line(record.title))
    original_title = original_text = None
    if privacy.mask:
        masked_title, masked_text = pii.mask(title, privacy.kinds), pii.mask(text, privacy.kinds)
        if privacy.keep_original and (masked_title, masked_text) != (title, text):
            original_title, original_text = title, text
        title, text = masked_title, masked_text
    published_at = record.published_at or parse_time(record.published, tz)
    return replace(
        record,
        title=title,
        text=text,
        author=one_line(record.author),
        outlet=one_line(record.outlet),
        published_at=published_at,
        original_title=original_title,
        original_text=original_text,
    )


@dataclass(frozen=True)
class AsidePage:
    """A page a crawl read and did not store: its URL, why (`models.SEEN_OUTCOMES`) and its
    title as extracted, masked like a mention's (`aside_title`)."""

    url: str
    outcome: str
    title: str = ""


def aside_title(title: str, privacy: PrivacySettings | None = None) -> str:
    """A set-aside page's title as the trail keeps it: whitespace tidied, personal identifiers
    masked as in a stored mention (the title of a page with no text never went through
    `clean`)."""
    privacy = privacy or PrivacySettings()
    title = tidy(title)
    return pii.mask(title, privacy.kinds) if privacy.mask else title


def remember_pages(session: Session, pages: Iterable[AsidePage], source_id: int | None) -> None:
    """Record pages that were read and set aside, so crawls skip them from now on (all but
    `RETRIED_OUTCOMES`) and the source's page shows why. A page seen again (an empty page
    fetched anew) gets its latest reason, title and time."""
    wanted = {canonical_url(page.url): page for page in pages}
    if not wanted:
        return
    known = {
        row.canonical_url: row
        for row in session.scalars(select(SeenPage).where(SeenPage.canonical_url.in_(wanted)))
    }
    now = clock.now()
    for canonical, page in wanted.items():
        row = known.get(canonical)
        if row is None:
            row = SeenPage(canonical_url=canonical)
            session.add(row)
        row.source_id, row.outcome, row.seen_at = source_id, page.outcome, now
        row.url, row.title = page.url, page.title or None


def forget_retried(session: Session, urls: Iterable[str]) -> None:
    """Remove the retried outcomes ("empty") of pages now stored: the trail no longer says a
    stored page had no text."""
    canonical = {canonical_url(url) for url in urls}
    if canonical:
        session.execute(
            delete(SeenPage).where(
                SeenPage.canonical_url.in_(canonical), SeenPage.outcome.in_(RETRIED_OUTCOMES)
            )
        )


def source_for(session: Session, name: str, kind: str, url: str) -> Source:
    source = session.scalar(select(Source).where(Source.name == name))
    if source is None:
        source = Source(name=name, kind=kind, url=url)
        session.add(source)
        session.flush()
    return source


def is_stored(session: Session, canonical: str, digest: str) -> bool:
    return (
        session.scalar(
            select(Mention.id)
            .where((Mention.canonical_url == canonical) | (Mention.content_hash == digest))
            .limit(1)
        )
        is not None
    )


def store_many(
    session: Session,
    records: Sequence[MentionRecord],
    source_id: int | None = None,
    crawl_run_id: int | None = None,
) -> tuple[int, list[MentionRecord]]:
    """Insert the records whose canonical URL and content are not stored yet, with one lookup
    and one multi-row INSERT (per-row inserts were a third of a crawl's time); returns how
    many were stored and the duplicates."""
    fresh: dict[str, tuple[str, MentionRecord]] = {}
    duplicates: list[MentionRecord] = []
    digests: set[str] = set()
    for record in records:
        canonical = canonical_url(record.url)
        digest = content_hash(record.title, record.text)
        if canonical in fresh or digest in digests:
            duplicates.append(record)
        else:
            fresh[canonical] = (digest, record)
            digests.add(digest)
    stored = session.execute(
        select(Mention.canonical_url, Mention.content_hash).where(
            or_(Mention.canonical_url.in_(fresh), Mention.content_hash.in_(digests))
        )
    ).all()
    taken = {url for url, _ in stored} | {digest for _, digest in stored}
    rows = []
    for canonical, (digest, record) in fresh.items():
        if canonical in taken or digest in taken:
            duplicates.append(record)
        else:
            rows.append(_row(record, canonical, digest, source_id, crawl_run_id))
    if not rows:
        return 0, duplicates
    begin_writes(session)
    try:
        with session.begin_nested():
            # Core, not ORM, insert: the rows need no objects back, and it halves the cost.
            # The ids come back for the search index, written in the same transaction, with
            # their canonical URLs: asked for in the rows' order, SQLite inserts one row per
            # statement.
            ids = dict(
                session.execute(
                    insert(Mention.metadata.tables[Mention.__tablename__]).returning(
                        Mention.canonical_url, Mention.id
                    ),
                    rows,
                ).all()
            )
            search.index_rows(
                session.connection(),
                [(ids[r["canonical_url"]], r["title"], r["text"]) for r in rows],
            )
    except IntegrityError:
        # A concurrent writer (another crawl worker) stored some of them since the lookup.
        added = 0
        for _, record in (fresh[r["canonical_url"]] for r in rows):
            if store(session, record, source_id, crawl_run_id) is None:
                duplicates.append(record)
            else:
                added += 1
        return added, duplicates
    return len(rows), duplicates


def _row(
    record: MentionRecord,
    canonical: str,
    digest: str,
    source_id: int | None,
    crawl_run_id: int | None,
) -> dict[str, Any]:
    return {
        "source_id": source_id,
        "crawl_run_id": crawl_run_id,
        "url": record.url,
        "canonical_url": canonical,
        "content_hash": digest,
        "title": record.title,
        "text": record.text,
        "author": record.author,
        "outlet": record.outlet,
        "published_at": record.published_at,
        "reposts": record.reposts,
        "comments": record.comments,
        "likes": record.likes,
        "keywords_matched": record.keywords_matched,
        "original_title": record.original_title,
        "original_text": record.original_text,
    }


def store(
    session: Session,
    record: MentionRecord,
    source_id: int | None = None,
    crawl_run_id: int | None = None,
) -> Mention | None:
    """Insert the mention unless its canonical URL or content is stored already."""
    canonical = canonical_url(record.url)
    digest = content_hash(record.title, record.text)
    if is_stored(session, canonical, digest):
        return None
    mention = Mention(**_row(record, canonical, digest, source_id, crawl_run_id))
    try:
        # A concurrent writer may have stored the same URL since the check above.
        with session.begin_nested():
            session.add(mention)
    except IntegrityError:
        return None
    return mention
