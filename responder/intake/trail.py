"""How a source's crawls are read: its recent crawl runs, and the page trail (`SeenPage`) of
what its crawls read and set aside, each with the reason (不相关, 过旧, 重复, 无正文).

Reading only; the crawler's save pipeline writes the trail through the intake handover.
Redirects of a listed URL to its article are recorded too, but are no page set aside and are
not shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from responder.models import SEEN_OUTCOMES, CrawlRun, SeenPage

# The outcomes the trail shows, in the order of the filter tabs.
SHOWN_OUTCOMES = tuple(o for o in SEEN_OUTCOMES if o != "redirect")


@dataclass
class Trail:
    """One page of a source's set-aside pages, newest first, with the count of each reason."""

    pages: list[SeenPage]
    counts: dict[str, int]
    outcome: str  # "" for every reason
    page: int
    page_count: int

    @property
    def total(self) -> int:
        return self.counts.get(self.outcome, 0) if self.outcome else sum(self.counts.values())

    def link(self, page: int | None = None, outcome: str | None = None) -> str:
        chosen = self.outcome if outcome is None else outcome
        query = [f"outcome={chosen}"] if chosen else []
        if page and page > 1:
            query.append(f"page={page}")
        return "?" + "&".join(query) if query else "?"


def trail(session: Session, source_id: int, outcome: str, page: int, page_size: int) -> Trail:
    """Page `page` (the last one when past it) of the source's pages set aside for `outcome`
    ("" for every reason)."""
    counts: dict[str, int] = {
        outcome: count
        for outcome, count in session.execute(
            select(SeenPage.outcome, func.count())
            .where(SeenPage.source_id == source_id, SeenPage.outcome.in_(SHOWN_OUTCOMES))
            .group_by(SeenPage.outcome)
        )
    }
    wanted = [outcome] if outcome else list(SHOWN_OUTCOMES)
    total = sum(counts.get(o, 0) for o in wanted)
    page_count = max(1, math.ceil(total / page_size))
    page = min(page, page_count)
    pages = list(
        session.scalars(
            select(SeenPage)
            .where(SeenPage.source_id == source_id, SeenPage.outcome.in_(wanted))
            .order_by(SeenPage.seen_at.desc(), SeenPage.id.desc())
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
    )
    return Trail(pages=pages, counts=counts, outcome=outcome, page=page, page_count=page_count)


def recent_runs(session: Session, source_id: int, limit: int) -> list[CrawlRun]:
    """The source's last `limit` crawl runs, newest first."""
    return list(
        session.scalars(
            select(CrawlRun)
            .where(CrawlRun.source_id == source_id)
            .order_by(CrawlRun.id.desc())
            .limit(limit)
        )
    )
