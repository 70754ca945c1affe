"""Logging in and out. The login form has a CSRF token too, so another site cannot log a
browser into an account of its choosing.

Checking a password is deliberately slow (argon2), so it runs in a worker thread: a flood of
logins must not stall every other page on the event loop. Failed logins are limited per
account (`accounts.authenticate`) and per client address (`AddressThrottle`), so guessing many
names from one machine is refused too. Logging out raises the account's session epoch: the
cookie of that session (and of the account's other sessions) no longer works, even replayed."""

from __future__ import annotations

import threading
import time
from collections import deque
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from responder import clock
from responder.accounts import LoginResult, authenticate, log_out
from responder.models import User
from responder.settings import Settings
from responder.web.core import Web, csrf_ok, current_user, guard, log_in, web_of

TOO_MANY = "此地址登录失败次数过多，请稍后再试"


class AddressThrottle:
    """Failed logins per client address in a sliding window, in this process's memory (yuqing
    serves from one process; a restart forgets, which only ever lets a person back in)."""

    def __init__(self, limit: int, window_seconds: float) -> None:
        self.limit, self.window = limit, window_seconds
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> deque[float]:
        times = self._failures.setdefault(address, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def blocked(self, address: str) -> bool:
        with self._lock:
            return len(self._recent(address, time.monotonic())) >= self.limit

    def failed(self, address: str) -> None:
        with self._lock:
            now = time.monotonic()
            self._recent(address, now).append(now)
            # Forget addresses whose failures all lie outside the window, so the table stays
            # as small as the set of addresses failing now.
            for key in [
                k for k, v in self._failures.items() if not v or v[-1] <= now - self.window
            ]:
                del self._failures[key]


def _safe_next(target: str) -> str:
    """Only a path on this site: a login must not redirect to another one."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def login_throttle(settings: Settings) -> AddressThrottle:
    """The throttle of one app (create_app keeps it on the app's state)."""
    return AddressThrottle(settings.web.address_login_attempts, settings.web.lockout_minutes * 60)


def _throttle(request: Request) -> AddressThrottle:
    throttle = request.app.state.login_throttle
    assert isinstance(throttle, AddressThrottle)
    return throttle


def _check(web: Web, name: str, password: str) -> LoginResult:
    with web.db.transaction() as session:
        return authenticate(session, name, password, clock.now(), web.settings.web)


async def login(request: Request) -> Response:
    web = web_of(request)
    next_page = _safe_next(request.query_params.get("next", "/"))
    if request.method == "GET":
        if current_user(request) is not None:
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
    address = request.client.host if request.client else ""
    throttle = _throttle(request)
    if throttle.blocked(address):
        return web.render(
            request, "login.html", status=429, next=next_page, user=None, error=TOO_MANY
        )
    result = await run_in_threadpool(_check, web, name, str(form.get("password", "")))
    if result.user is None:
        throttle.failed(address)
        return web.render(
            request,
            "login.html",
            status=401,
            next=next_page,
            user=None,
            name=name,
            error=result.message,
        )
    log_in(request, result.user)
    return RedirectResponse(_safe_next(str(form.get("next", "/"))), status_code=303)


async def logout(request: Request, user: User) -> Response:
    with web_of(request).db.transaction() as session:
        log_out(session, user.id)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


routes = [
    Route("/login", login, methods=["GET", "POST"]),
    Route("/logout", guard(logout), methods=["POST"]),
]
