"""The sources (信息源) pages: every source with how its last crawl went, and one source's page
with its recent crawl runs and the pages its crawls read and set aside, each with the reason
(不相关, 过旧, 重复, 无正文), so an office sees what it missed and can fix the source (a
selector, a keyword rule, the look-back window). Any logged-in user may read them.

The trail is `SeenPage`, written by the crawler's save pipeline; redirects of a listed URL to
its article are recorded there too, but are not a page set aside and are not shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from responder.models import SEEN_OUTCOMES, CrawlRun, SeenPage, Source, User
from responder.ops.health import SourceHealth, source_health
from responder.running.day import sources_down
from responder.web.core import Web, guard

RUNS_SHOWN = 20
PAGE_SIZE = 50
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


def trail(session: Session, source_id: int, outcome: str, page: int) -> Trail:
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
    page_count = max(1, math.ceil(total / PAGE_SIZE))
    page = min(page, page_count)
    pages = list(
        session.scalars(
            select(SeenPage)
            .where(SeenPage.source_id == source_id, SeenPage.outcome.in_(wanted))
            .order_by(SeenPage.seen_at.desc(), SeenPage.id.desc())
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        )
    )
    return Trail(pages=pages, counts=counts, outcome=outcome, page=page, page_count=page_count)


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    if not raw.isdigit() or int(raw) < 1:
        raise HTTPException(400, f"页码“{raw}”无效，应为正整数")
    return int(raw)


def routes(web: Web) -> list[Route]:
    settings, db = web.settings, web.db

    async def index(request: Request, user: User) -> Response:
        trouble = request.query_params.get("trouble", "")
        if trouble not in ("", "yes"):
            raise HTTPException(400, f"未知的筛选“{trouble}”，可选：yes（仅异常信息源）")
        with db.sessions() as session:
            # With the filter, the same sources the dashboard counts as down.
            health = (sources_down if trouble else source_health)(session, settings)
        return web.render(request, "sources.html", user=user, sources=health, trouble=trouble)

    async def detail(request: Request, user: User) -> Response:
        source_id: int = request.path_params["source_id"]
        outcome = request.query_params.get("outcome", "")
        if outcome and outcome not in SHOWN_OUTCOMES:
            raise HTTPException(400, f"未知的处理结果“{outcome}”")
        page = _page_number(request)
        with db.sessions() as session:
            source = session.get(Source, source_id)
            if source is None:
                raise HTTPException(404, "信息源不存在")
            health: SourceHealth | None = next(
                (h for h in source_health(session, settings) if h.source_id == source_id), None
            )
            runs = list(
                session.scalars(
                    select(CrawlRun)
                    .where(CrawlRun.source_id == source_id)
                    .order_by(CrawlRun.id.desc())
                    .limit(RUNS_SHOWN)
                )
            )
            config = next((s for s in settings.sources if s.name == source.name), None)
            return web.render(
                request,
                "source.html",
                user=user,
                source=source,
                health=health,
                config=config,
                runs=runs,
                trail=trail(session, source_id, outcome, page),
                outcomes=SHOWN_OUTCOMES,
            )

    return [
        Route("/sources", guard(index)),
        Route("/sources/{source_id:id}", guard(detail)),
    ]
