"""The duty officer's dashboard (工作台), read by `responder.running.overview`, with charts of
the last seven days drawn by the app itself as SVG in the page (templates/web/_week_chart.html,
_bar_chart.html), each part linking to the mentions it counts; the intranet has no internet,
so no CDN and no chart library. The PNGs of the same charts are still served.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from responder import clock
from responder.incidents.tasks import open_tasks
from responder.models import User
from responder.reports import charts
from responder.reports.build import SENTIMENTS, TOP_SOURCES
from responder.running.day import COUNT_LIMIT, day
from responder.running.overview import DAYS, Week, WeekCache, overview
from responder.web.core import guard, web_of

# Charts change with every crawl; a minute of browser caching spares redrawing them when the
# officer moves between pages, and is short enough that a reload shows new data soon.
CHART_CACHE = "private, max-age=60"


def _weeks(request: Request) -> WeekCache:
    """The app's week, which the dashboard's three charts share (create_app keeps it)."""
    weeks = request.app.state.weeks
    assert isinstance(weeks, WeekCache)
    return weeks


async def index(request: Request, user: User) -> Response:
    web = web_of(request)
    with web.db.sessions() as session:
        now = clock.now()
        summary = overview(session, web.settings, now)
        today = day(session, web.settings, now, down=summary.problems)
        seven = _weeks(request).get(session, web.settings, now)
        return web.render(
            request,
            "index.html",
            user=user,
            o=summary,
            day=today,
            week=seven,
            days=DAYS,
            count_limit=COUNT_LIMIT,
            tasks=open_tasks(session),
        )


async def _png(request: Request, draw: Callable[[Week], bytes]) -> Response:
    """One chart of the week as PNG."""
    web = web_of(request)
    with web.db.sessions() as session:
        data = _weeks(request).get(session, web.settings, clock.now())
    # Drawing takes a while; off the event loop, other requests are not held up.
    png = await run_in_threadpool(draw, data)
    return Response(png, media_type="image/png", headers={"Cache-Control": CHART_CACHE})


async def sentiment_chart(request: Request, user: User) -> Response:
    return await _png(request, lambda w: charts.trend_chart("weekly", w.days, SENTIMENTS))


async def sources_chart(request: Request, user: User) -> Response:
    return await _png(
        request, lambda w: charts.sources_chart(w.sources, w.source_count > TOP_SOURCES)
    )


async def categories_chart(request: Request, user: User) -> Response:
    return await _png(request, lambda w: charts.categories_chart(w.categories))


routes = [
    Route("/", guard(index)),
    Route("/charts/sentiment.png", guard(sentiment_chart)),
    Route("/charts/sources.png", guard(sources_chart)),
    Route("/charts/categories.png", guard(categories_chart)),
]
