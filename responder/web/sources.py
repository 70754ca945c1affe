"""The sources (信息源) pages: every source with how its last crawl went, and one source's page
with its recent crawl runs and the pages its crawls read and set aside, each with the reason
(不相关, 过旧, 重复, 无正文), so an office sees what it missed and can fix the source (a
selector, a keyword rule, the look-back window). Any logged-in user may read them.

The trail is read by `responder.intake.trail`.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from responder.intake.trail import SHOWN_OUTCOMES, recent_runs, trail
from responder.models import Source, User
from responder.ops.health import SourceHealth, source_health
from responder.running.day import sources_down
from responder.web.core import guard, web_of

RUNS_SHOWN = 20
PAGE_SIZE = 50


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    if not raw.isdigit() or int(raw) < 1:
        raise HTTPException(400, f"页码“{raw}”无效，应为正整数")
    return int(raw)


async def index(request: Request, user: User) -> Response:
    web = web_of(request)
    trouble = request.query_params.get("trouble", "")
    if trouble not in ("", "yes"):
        raise HTTPException(400, f"未知的筛选“{trouble}”，可选：yes（仅异常信息源）")
    with web.db.sessions() as session:
        # With the filter, the same sources the dashboard counts as down.
        health = (sources_down if trouble else source_health)(session, web.settings)
    return web.render(request, "sources.html", user=user, sources=health, trouble=trouble)


async def detail(request: Request, user: User) -> Response:
    web = web_of(request)
    source_id: int = request.path_params["source_id"]
    outcome = request.query_params.get("outcome", "")
    if outcome and outcome not in SHOWN_OUTCOMES:
        raise HTTPException(400, f"未知的处理结果“{outcome}”")
    page = _page_number(request)
    with web.db.sessions() as session:
        source = session.get(Source, source_id)
        if source is None:
            raise HTTPException(404, "信息源不存在")
        health: SourceHealth | None = next(
            (h for h in source_health(session, web.settings) if h.source_id == source_id), None
        )
        config = next((s for s in web.settings.sources if s.name == source.name), None)
        return web.render(
            request,
            "source.html",
            user=user,
            source=source,
            health=health,
            config=config,
            runs=recent_runs(session, source_id, RUNS_SHOWN),
            trail=trail(session, source_id, outcome, page, PAGE_SIZE),
            outcomes=SHOWN_OUTCOMES,
        )


routes = [
    Route("/sources", guard(index)),
    Route("/sources/{source_id:id}", guard(detail)),
]
