"""The web UI, in Simplified Chinese: one Starlette application over the database."""

from __future__ import annotations

from http import HTTPStatus

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from responder.db import Database
from responder.errors import DomainError
from responder.intake.attachments import MAX_FILES, byte_limit
from responder.notices.acks import signing_key
from responder.ops.metrics import registry
from responder.rendering import local_time, web_environment
from responder.running.overview import WeekCache
from responder.settings import Settings
from responder.web import (
    ack_links,
    admin,
    audit_log,
    auth,
    dashboard,
    drafts,
    incident_decisions,
    incident_facts,
    incidents,
    library,
    mentions,
    monitoring,
    registration,
    sources,
)
from responder.web.core import (
    BodyLimit,
    SecurityHeaders,
    Web,
    current_user,
    flash,
    refused_back,
    web_of,
)

__all__ = ["create_app"]
STOCK_ERRORS = {404: "页面不存在", 405: "不支持对此页面的这种操作（405）"}


async def error(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 404)
    detail = getattr(exc, "detail", None) or ""
    # Starlette's own errors carry the English reason phrase; ours carry Chinese text.
    if not detail or detail == HTTPStatus(status).phrase:
        detail = STOCK_ERRORS.get(status, f"请求无法处理（{status}）")
    return web_of(request).error(request, status, detail, current_user(request))


async def refused(request: Request, exc: Exception) -> Response:
    """The one answer to a refusal of the domain: flashed where the route said a refusal
    returns to (`refused_returns_to`), else an error page with its message."""
    assert isinstance(exc, DomainError)
    back = refused_back(request)
    if back is not None:
        flash(request, str(exc), "error")
        return RedirectResponse(back, status_code=303)
    return web_of(request).error(request, exc.status_code, str(exc), current_user(request))


def create_app(settings: Settings, db: Database | None = None) -> Starlette:
    env = web_environment()
    env.filters["local"] = lambda value, fmt="%Y-%m-%d %H:%M": local_time(value, settings.tz, fmt)
    env.globals["office"] = settings.office_name
    web = Web(settings=settings, db=db or Database(settings), env=env)
    routes = [
        *auth.routes,
        *dashboard.routes,
        *mentions.routes,
        *ack_links.routes,
        *admin.routes,
        *incidents.routes,
        *incident_decisions.routes,
        *incident_facts.routes,
        *audit_log.routes,
        *drafts.routes,
        *library.routes,
        *monitoring.routes,
        *sources.routes,
        *registration.routes,
    ]
    middleware = [
        Middleware(SecurityHeaders),
        # The largest form is a registration with its most and largest attachments; a
        # megabyte more covers its fields.
        Middleware(
            BodyLimit,
            max_bytes=MAX_FILES * byte_limit(settings.limits.attachment_mb) + 1_000_000,
        ),
        Middleware(
            SessionMiddleware,
            secret_key=signing_key(settings),
            session_cookie="yuqing_session",
            max_age=int(settings.web.session_hours * 3600),
            same_site="lax",
            https_only=settings.web.secure_cookies,
        ),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={HTTPException: error, DomainError: refused},
    )
    # Application state, as Starlette keeps it: every endpoint reaches it from its request.
    app.state.web = web
    app.state.login_throttle = auth.login_throttle(settings)
    app.state.metrics_registry = registry(settings, web.db)
    app.state.weeks = WeekCache()
    return app
