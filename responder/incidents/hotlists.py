"""How high and how long an incident's mentions stood on hot lists (热榜): from the sightings
`hotlist` crawls record (`HotRank`), one line per board for the incident page
("上榜：微博热搜第7位，持续3小时", worded in templates/web/incident.html), and each mention's
best place, which the reprint chain weighs (`responder.incidents.chain`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from responder.models import HotRank, Mention


@dataclass(frozen=True)
class HotListing:
    board: str
    best_rank: int
    first_seen: datetime
    last_seen: datetime
    top_heat: int

    @property
    def hours(self) -> int:
        """Whole hours between the first and the last sighting (0: seen in one crawl only,
        or within the hour)."""
        return int((self.last_seen - self.first_seen).total_seconds() // 3600)

    @property
    def minutes(self) -> int:
        return int((self.last_seen - self.first_seen).total_seconds() // 60)


def hot_listings(session: Session, mentions: Iterable[Mention]) -> list[HotListing]:
    """One listing per board any of the mentions was seen on, best rank first."""
    urls = {m.canonical_url for m in mentions}
    if not urls:
        return []
    rows = session.execute(
        select(
            HotRank.board,
            func.min(HotRank.rank),
            func.min(HotRank.seen_at),
            func.max(HotRank.seen_at),
            func.max(HotRank.heat),
        )
        .where(HotRank.canonical_url.in_(urls))
        .group_by(HotRank.board)
    ).all()
    # min/max keep the column's type, so the times come back aware (UTC) like any other.
    listings = [
        HotListing(board, rank, first, last, heat or 0) for board, rank, first, last, heat in rows
    ]
    return sorted(listings, key=lambda listing: (listing.best_rank, listing.board))


def best_rank(session: Session, mentions: Iterable[Mention]) -> int | None:
    """The highest place (smallest number) any of the mentions reached on any board."""
    listings = hot_listings(session, mentions)
    return listings[0].best_rank if listings else None


@dataclass(frozen=True)
class HotPlace:
    board: str
    rank: int


def best_places(session: Session, mentions: Iterable[Mention]) -> dict[str, HotPlace]:
    """Each mention's best place on any hot list, by its canonical URL (absent: never listed).
    A tie between boards goes to the board named first, so the page does not flicker."""
    urls = {m.canonical_url for m in mentions}
    if not urls:
        return {}
    rows = session.execute(
        select(HotRank.canonical_url, HotRank.board, func.min(HotRank.rank))
        .where(HotRank.canonical_url.in_(urls))
        .group_by(HotRank.canonical_url, HotRank.board)
    ).all()
    places: dict[str, HotPlace] = {}
    for url, board, rank in sorted(rows, key=lambda row: (row[2], row[1])):
        places.setdefault(url, HotPlace(board, rank))
    return places
