"""Logging in and out. The login form has a CSRF token too, so another site cannot log a
browser into an account of its choosing."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from responder import clock
from responder.accounts import authenticate
from responder.models import User
from responder.web.core import Web, csrf_ok, current_user, guard, log_in


def _safe_next(target: str) -> str:
    """Only a path on this site: a login must not redirect to another one."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def routes(web: Web) -> list[Route]:
    async def login(request: Request) -> Response:
        next_page = _safe_next(request.query_params.get("next", "/"))
        if request.method == "GET":
            if current_user(web, request) is not None:
                return RedirectResponse(next_page, status_code=303)
            return web.render(request, "login.html", next=next_page, user=None)
        form = await request.form()
        if not csrf_ok(request, form):
            return web.render(
                request,
                "login.html",
                status=403,
                next=next_page,
                user=None,
                error="页面已过期，请重新输入",
            )
        name = str(form.get("name", ""))
        with web.db.transaction() as session:
            result = authenticate(
                session, name, str(form.get("password", "")), clock.now(), web.settings.web
            )
            if result.user is not None:
                log_in(request, result.user)
        if result.user is None:
            return web.render(
                request,
                "login.html",
                status=401,
                next=next_page,
                user=None,
                name=name,
                error=result.message,
            )
        return RedirectResponse(_safe_next(str(form.get("next", "/"))), status_code=303)

    async def logout(request: Request, user: User) -> Response:
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    return [
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", guard(web, logout), methods=["POST"]),
    ]
