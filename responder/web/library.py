"""The 应答口径 library pages: every category with its version in force and any proposal
waiting, one category's versions with diffs, and the press office's propose / approve /
reject / withdraw forms. The rules live in `responder.replies.library`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from responder.labels import labels
from responder.models import TemplateVersion, User
from responder.replies import library
from responder.replies.approved import seed_templates
from responder.replies.diffs import diff_lines
from responder.web.core import Web, flash, guard, refused_returns_to, web_of

PRESS = ("press",)


async def index(request: Request, user: User) -> Response:
    web = web_of(request)
    with web.db.transaction() as session:
        # Idempotent: the packaged templates become v1 the first time anyone looks.
        seed_templates(session)
        rows = library.overview(session)
        return web.render(request, "library.html", user=user, rows=rows)


def _show(
    request: Request, user: User, category: str, status: int = 200, body: str | None = None
) -> Response:
    if category not in labels()["categories"]:
        raise HTTPException(404, "没有这个类别的应答口径")
    web = web_of(request)
    with web.db.transaction() as session:
        seed_templates(session)
        template = library.entry(session, category)
        versions = list(template.versions) if template else []
        current = library.in_force(template) if template else None
        pending = library.waiting(template) if template else None
        previous = [None, *versions[:-1]]
        # Newest first, each with what it changed against the version before it.
        history = [
            (v, diff_lines(library.version_diff(p, v)))
            for p, v in zip(previous, versions, strict=True)
        ][::-1]
        preview, preview_error = "", ""
        if pending is not None:
            # Local: a proposal that does not render is shown with the reason, not refused.
            try:
                preview = library.check(web.settings, category, pending.body)
            except library.InvalidTemplate as exc:
                preview_error = str(exc)
        context: dict[str, Any] = {
            "category": category,
            "template": template,
            "current": current,
            "pending": pending,
            "pending_diff": diff_lines(library.version_diff(current, pending)) if pending else [],
            "preview": preview,
            "preview_error": preview_error,
            "history": history,
            "decisions": library.decisions(session, template) if template else {},
            "body": body if body is not None else (current.body if current else ""),
            "names": library.NAMES,
            "can_write": user.role in library.AUTHORS,
            "can_approve": user.role in library.APPROVERS,
        }
        return web.render(request, "template.html", status=status, user=user, **context)


async def detail(request: Request, user: User) -> Response:
    # The pending proposal is rendered for its preview: off the event loop, like every
    # sandboxed render a person's text can make slow.
    return await run_in_threadpool(_show, request, user, request.path_params["category"])


def _store(web: Web, category: str, body: str, actor: str) -> int:
    with web.db.transaction() as session:
        return library.propose(session, web.settings, category, body, actor).version


async def propose(request: Request, user: User) -> Response:
    category = request.path_params["category"]
    body = str((await request.form()).get("body", ""))
    try:
        number = await run_in_threadpool(_store, web_of(request), category, body, user.name)
    except library.TemplateLibraryError as exc:
        # Local, not the app's handler: shown again with the text as typed, so a syntax error
        # costs no rewriting.
        flash(request, str(exc), "error")
        return await run_in_threadpool(_show, request, user, category, 400, body)
    flash(request, f"已提交 v{number}，须由另一位宣传/审核人员批准后生效")
    return _back(category)


def _decide(request: Request, change: Callable[[Session], object], done: str) -> RedirectResponse:
    category = request.path_params["category"]
    version_id = request.path_params["version_id"]
    refused_returns_to(request, f"/templates/{category}")
    with web_of(request).db.transaction() as session:
        version = session.get(TemplateVersion, version_id)
        if version is None or version.template.category != category:
            raise HTTPException(404, "没有这个模板版本")
        change(session)
    flash(request, done)
    return _back(category)


async def approve(request: Request, user: User) -> Response:
    version_id = request.path_params["version_id"]
    return _decide(
        request,
        lambda s: library.approve(s, version_id, user.name),
        "已批准，新生成的草稿将使用此版本",
    )


async def reject(request: Request, user: User) -> Response:
    version_id = request.path_params["version_id"]
    comment = str((await request.form()).get("comment", ""))
    return _decide(request, lambda s: library.reject(s, version_id, user.name, comment), "已退回")


async def withdraw(request: Request, user: User) -> Response:
    version_id = request.path_params["version_id"]
    return _decide(request, lambda s: library.withdraw(s, version_id, user.name), "已撤回")


BASE = "/templates/{category:str}"
routes = [
    Route("/templates", guard(index)),
    Route(BASE, guard(detail)),
    Route(f"{BASE}/propose", guard(propose, PRESS), methods=["POST"]),
    Route(
        f"{BASE}/versions/{{version_id:id}}/approve",
        guard(approve, library.APPROVERS),
        methods=["POST"],
    ),
    Route(
        f"{BASE}/versions/{{version_id:id}}/reject",
        guard(reject, library.APPROVERS),
        methods=["POST"],
    ),
    Route(
        f"{BASE}/versions/{{version_id:id}}/withdraw",
        guard(withdraw, PRESS),
        methods=["POST"],
    ),
]


def _back(category: str) -> RedirectResponse:
    return RedirectResponse(f"/templates/{category}", status_code=303)
