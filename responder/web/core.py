"""What every page shares: the signed session, who is logged in, roles, CSRF, rendering.

Endpoints are module-level functions; the app's `Web` (settings, database, templates) hangs on
the Starlette app (`app.state.web`, Starlette's place for application state) and an endpoint
reaches it with `web_of(request)`.

Every route goes through `guard`: it sends a visitor who is not logged in to /login, refuses
another role's page with 403, and refuses a POST whose CSRF token does not match the session's
(403), before the endpoint runs. A session names the user and the user's `session_epoch`;
disabling the user or changing the password raises the epoch, which ends the session on its
next request.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

from jinja2.sandbox import ImmutableSandboxedEnvironment
from starlette.convertors import Convertor, register_url_convertor
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from responder import clock
from responder.db import Database
from responder.errors import DomainError
from responder.models import User
from responder.settings import Settings

Endpoint = Callable[[Request, User], Awaitable[Response]]
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
CSRF_FIELD = "csrf_token"
T = TypeVar("T")


@dataclass
class Web:
    settings: Settings
    db: Database
    env: ImmutableSandboxedEnvironment

    def render(
        self, request: Request, template_name: str, status: int = 200, **context: Any
    ) -> HTMLResponse:
        html = self.env.get_template(template_name).render(
            request=request,
            path=request.url.path,
            csrf_token=csrf_token(request),
            csp_nonce=getattr(request.state, "csp_nonce", ""),
            flashes=request.session.pop("flash", []),
            **context,
        )
        return HTMLResponse(html, status_code=status)

    def error(
        self, request: Request, status: int, detail: str, user: User | None = None
    ) -> HTMLResponse:
        return self.render(request, "error.html", status=status, detail=detail, user=user)


def web_of(request: Request) -> Web:
    """The app's `Web`, which `create_app` put on the application's state."""
    web = request.app.state.web
    assert isinstance(web, Web)
    return web


class BadForm(DomainError, ValueError):
    """A form field or query parameter the page cannot read (a number that is no number, a
    date that is no date); its message says which and why."""


def parsed(text: str, parse: Callable[[str], T]) -> T | None:
    """`parse(text)` (`date.fromisoformat`, `datetime.fromisoformat`), or None when the text is
    not what it parses: the callers say in Chinese what was expected."""
    try:
        return parse(text)
    except ValueError:
        return None


# The largest id a database column holds (a signed 64-bit integer): a larger one in a URL or a
# form would raise in the driver instead of finding nothing.
MAX_ID = 2**63 - 1


def whole_number(text: str, minimum: int = 1) -> int | None:
    """A whole number written in ASCII digits within [minimum, MAX_ID], else None.

    `str.isdigit` alone lets through "①" and "²", which `int` then refuses."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if minimum <= value <= MAX_ID else None


class IdConvertor(Convertor[int]):
    """`{name:id}` in a route: 1 to 18 digits, so every match fits a database id; a longer
    number is no route (404) rather than an overflow in the driver (500)."""

    regex = "[0-9]{1,18}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", IdConvertor())


class SecurityHeaders:
    """Headers on every response: the app loads nothing from elsewhere and is never framed.

    The one inline script and stylesheet carry a per-response nonce (`csp_nonce` in every
    template), so an injected script or style has none and does not run."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        policy = (
            f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
            "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'"
        )

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", policy.encode()),
                    (b"x-frame-options", b"DENY"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def csrf_token(request: Request) -> str:
    """The session's token, made on first use (the login form needs one too)."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def csrf_ok(request: Request, form: FormData) -> bool:
    sent = form.get(CSRF_FIELD) or request.headers.get("x-csrf-token") or ""
    expected = request.session.get("csrf") or ""
    return bool(expected) and hmac.compare_digest(str(sent), str(expected))


def flash(request: Request, message: str, kind: str = "ok") -> None:
    request.session.setdefault("flash", []).append({"kind": kind, "text": message})


def refused_returns_to(request: Request, back: str) -> None:
    """Where a refusal of this request (a `DomainError`) sends the person: the app's one
    handler flashes the message there. Without it the refusal is an error page with the
    error's status (400)."""
    request.state.back = back


def refused_back(request: Request) -> str | None:
    back = getattr(request.state, "back", None)
    return back if isinstance(back, str) else None


def log_in(request: Request, user: User) -> None:
    request.session.clear()
    request.session.update(
        {"uid": user.id, "epoch": user.session_epoch, "at": int(clock.timestamp())}
    )
    csrf_token(request)  # a fresh token for the new session


def current_user(request: Request) -> User | None:
    web = web_of(request)
    uid = request.session.get("uid")
    if uid is None:
        return None
    with web.db.sessions() as session:
        user = session.get(User, uid)
    expired = (
        clock.timestamp() - float(request.session.get("at", 0))
        > web.settings.web.session_hours * 3600
    )
    if (
        user is None
        or user.disabled
        or user.session_epoch != request.session.get("epoch")
        or expired
    ):
        request.session.clear()
        return None
    return user


class BodyLimit:
    """Refuses a request body larger than `max_bytes` (413) while it arrives: Starlette parses a
    form, spooling each uploaded file to disk whole, before an endpoint can look at a file's
    size. A declared Content-Length over the limit is refused before anything is read; a body
    sent without one is counted as it comes and refused once it passes the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _refusal(self) -> str:
        return f"提交的内容超过 {self.max_bytes / 1_000_000:g} MB 的上限，未保存。"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await PlainTextResponse(self._refusal(), status_code=413)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Raised inside the endpoint's form parsing: the app's HTTPException
                    # handler answers with its error page.
                    raise HTTPException(413, self._refusal())
            return message

        await self.app(scope, counted, send)


def guard(
    endpoint: Endpoint, roles: Iterable[str] | None = None
) -> Callable[[Request], Awaitable[Response]]:
    allowed = set(roles) if roles is not None else None

    async def guarded(request: Request) -> Response:
        web = web_of(request)
        user = current_user(request)
        if user is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
        if allowed is not None and user.role not in allowed:
            return web.error(request, 403, "您的角色无权访问此页面或执行此操作", user)
        if request.method in UNSAFE and not csrf_ok(request, await request.form()):
            return web.error(
                request, 403, "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试", user
            )
        return await endpoint(request, user)

    return guarded
