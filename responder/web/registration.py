"""登记舆情: the page where a duty officer records a mention received by phone, a visit, the
mailbox or otherwise (responder/intake/registration.py stores it). A refused form is shown
again with what was typed and the reason, and nothing is stored."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from responder import clock
from responder.accounts import REGISTER_ROLES
from responder.intake.registration import (
    CHANNELS,
    Registration,
    RegistrationError,
    recent,
    register,
)
from responder.models import User
from responder.web.core import flash, guard, web_of

FIELDS = ("channel", "who", "time", "title", "text")


def _page(
    request: Request, user: User, values: dict[str, str], error: str = "", status: int = 200
) -> Response:
    web = web_of(request)
    with web.db.sessions() as session:
        return web.render(
            request,
            "register.html",
            status=status,
            user=user,
            values=values,
            error=error,
            channels=CHANNELS,
            recent=recent(session),
        )


async def form(request: Request, user: User) -> Response:
    now = clock.now().astimezone(web_of(request).settings.tz).strftime("%Y-%m-%dT%H:%M")
    return _page(request, user, {"channel": "phone", "time": now})


async def submit(request: Request, user: User) -> Response:
    web = web_of(request)
    data = await request.form()
    values = {name: str(data.get(name, "")) for name in FIELDS}
    # The browser's datetime-local sends "2026-11-20T09:30", in the office's time zone.
    time = values["time"].replace("T", " ")
    try:
        with web.db.transaction() as session:
            done = register(
                session,
                web.settings,
                Registration(
                    channel=values["channel"],
                    text=values["text"],
                    who=values["who"],
                    time=time,
                    title=values["title"],
                ),
                user.name,
            )
    except RegistrationError as exc:
        # Local, not the app's handler: the form again with what was typed and the reason.
        return _page(request, user, values, exc.chinese, status=400)
    if done.duplicate:
        flash(request, f"这条内容已经登记或采集过（信息 #{done.mention_id}），未重复保存")
    else:
        flash(request, "已登记，下一轮巡检将自动研判、归入事件并按级别通知")
    return RedirectResponse(f"/mentions/{done.mention_id}", status_code=303)


routes = [
    Route("/register", guard(form, REGISTER_ROLES)),
    Route("/register", guard(submit, REGISTER_ROLES), methods=["POST"]),
]
