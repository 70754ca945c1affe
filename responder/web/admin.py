"""The administrator's page: accounts and roles. Disabling an account ends its sessions at once."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from responder.accounts import (
    ROLES,
    AccountError,
    add_user,
    roster,
    set_disabled,
    set_password,
    set_role,
)
from responder.models import User
from responder.web.core import flash, guard, refused_returns_to, web_of

ADMIN = ("admin",)


async def users(request: Request, user: User) -> Response:
    web = web_of(request)
    with web.db.sessions() as session:
        rows = roster(session)
    return web.render(request, "admin_users.html", user=user, users=rows, roles=ROLES)


async def change(request: Request, user: User) -> Response:
    form = await request.form()
    action = str(form.get("action", ""))
    name = str(form.get("name", "")).strip()
    refused_returns_to(request, "/admin/users")
    with web_of(request).db.transaction() as session:
        if action == "add":
            add_user(
                session,
                name,
                str(form.get("role", "")),
                str(form.get("email", "")),
                str(form.get("password", "")),
                user.name,
            )
            done = f"已添加用户 {name}"
        elif action in ("disable", "enable"):
            if name == user.name:
                raise AccountError("不能停用自己的账号")
            set_disabled(session, name, action == "disable", user.name)
            done = f"已{'停用' if action == 'disable' else '启用'}用户 {name}"
        elif action == "password":
            set_password(session, name, str(form.get("password", "")), user.name)
            done = f"已重设 {name} 的密码"
        elif action == "role":
            set_role(session, name, str(form.get("role", "")), user.name)
            done = f"已将 {name} 的角色改为 {form.get('role')}"
        else:
            raise AccountError(f"未知操作 {action!r}")
    flash(request, done)
    return RedirectResponse("/admin/users", status_code=303)


routes = [
    Route("/admin/users", guard(users, ADMIN)),
    Route("/admin/users", guard(change, ADMIN), methods=["POST"]),
]
