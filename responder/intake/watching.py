"""What `hotlist` and `watch` sources keep between crawls besides mentions: each sighting of a
relevant hot-list entry (rank and heat, `HotRank`), and each watched page's last main text
(`WatchedPage`), which the next crawl diffs against. Written only through
`responder.intake.handover`, in the transaction that stores the crawl's mentions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from responder import clock
from responder.intake.mentions import canonical_url
from responder.models import HotRank, WatchedPage


@dataclass(frozen=True)
class Sighting:
    """A relevant entry as one read of a hot-list board found it."""

    url: str
    title: str
    board: str
    rank: int
    heat: int = 0


@dataclass(frozen=True)
class PageText:
    """A watched page's main text as read now, whether or not it made a mention: the next
    read is compared with it (`changed_at` moves only when the text differs)."""

    url: str
    text: str


def record_sightings(session: Session, sightings: Sequence[Sighting], source_id: int) -> None:
    now = clock.now()
    session.add_all(
        HotRank(
            source_id=source_id,
            board=s.board,
            canonical_url=canonical_url(s.url),
            title=s.title,
            rank=s.rank,
            heat=s.heat,
            seen_at=now,
        )
        for s in sightings
    )


def last_text(session: Session, url: str) -> str | None:
    """The watched page's text as last read; None before its first read."""
    return session.scalar(
        select(WatchedPage.text).where(WatchedPage.canonical_url == canonical_url(url))
    )


def remember_texts(session: Session, pages: Sequence[PageText], source_id: int) -> None:
    now = clock.now()
    for page in pages:
        canonical = canonical_url(page.url)
        row = session.scalar(select(WatchedPage).where(WatchedPage.canonical_url == canonical))
        if row is None:
            session.add(
                WatchedPage(
                    source_id=source_id,
                    canonical_url=canonical,
                    text=page.text,
                    checked_at=now,
                    changed_at=now,
                )
            )
            continue
        row.checked_at = now
        if row.text != page.text:
            row.text, row.changed_at = page.text, now
