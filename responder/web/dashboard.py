"""The duty officer's dashboard (工作台), read by `responder.running.overview`, with charts of
the last seven days drawn by the app itself as SVG in the page (templates/web/_week_chart.html,
_bar_chart.html), each part linking to the mentions it counts; the intranet has no internet,
so no CDN and no chart library (the reports' emails carry their own PNG charts).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from responder import clock
from responder.incidents.tasks import open_tasks
from responder.models import User
from responder.running.day import COUNT_LIMIT, day
from responder.running.overview import DAYS, WeekCache, overview
from responder.web.core import guard, web_of


def _weeks(request: Request) -> WeekCache:
    """The app's week, which the dashboard's charts share (create_app keeps it)."""
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


routes = [
    Route("/", guard(index)),
]
