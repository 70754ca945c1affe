"""The web UI, in Simplified Chinese: one Starlette application over the database."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from responder.acks import signing_key
from responder.db import Database
from responder.rendering import local_time, web_environment
from responder.settings import Settings
from responder.web import admin, auth, pages
from responder.web.core import Web, current_user

__all__ = ["create_app"]


def create_app(settings: Settings, db: Database | None = None) -> Starlette:
    env = web_environment()
    env.filters["local"] = lambda value, fmt="%Y-%m-%d %H:%M": local_time(value, settings.tz, fmt)
    env.globals["office"] = settings.office_name
    web = Web(settings=settings, db=db or Database(settings), env=env)

    async def healthz(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    async def error(request: Request, exc: Exception) -> Response:
        detail = getattr(exc, "detail", None) or "页面不存在"
        status = getattr(exc, "status_code", 404)
        return web.error(request, status, detail, current_user(web, request))

    routes = [
        *auth.routes(web),
        *pages.routes(web),
        *admin.routes(web),
        Route("/healthz", healthz),
    ]
    middleware = [
        Middleware(
            SessionMiddleware,
            secret_key=signing_key(settings),
            session_cookie="yuqing_session",
            max_age=int(settings.web.session_hours * 3600),
            same_site="lax",
            https_only=settings.web.secure_cookies,
        )
    ]
    return Starlette(
        routes=routes, middleware=middleware, exception_handlers={HTTPException: error}
    )
