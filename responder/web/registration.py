"""登记舆情: the page where a duty officer records a mention received by phone, a visit, the
mailbox or otherwise (responder/intake/registration.py stores it). A refused form is shown
again with what was typed and the reason, and nothing is stored."""

from __future__ import annotations

from urllib.parse import quote

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from responder import clock
from responder.accounts import REGISTER_ROLES
from responder.intake.attachments import MAX_FILES, Upload, byte_limit, download
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
            max_files=MAX_FILES,
            max_mb=f"{web.settings.limits.attachment_mb:g}",
        )


async def form(request: Request, user: User) -> Response:
    now = clock.now().astimezone(web_of(request).settings.tz).strftime("%Y-%m-%dT%H:%M")
    return _page(request, user, {"channel": "phone", "time": now})


async def submit(request: Request, user: User) -> Response:
    web = web_of(request)
    data = await request.form()
    values = {name: str(data.get(name, "")) for name in FIELDS}
    # Read one byte past the limit: enough to refuse an oversized file (intake says so).
    limit = byte_limit(web.settings.limits.attachment_mb) + 1
    files = [f for f in data.getlist("attachments") if isinstance(f, UploadFile)]
    uploads = tuple([Upload(f.filename or "", await f.read(limit)) for f in files])
    for file in files:  # the spooled temporary files, now read
        await file.close()
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
                    attachments=uploads,
                ),
                user.name,
            )
    except RegistrationError as exc:
        # Local, not the app's handler: the form again with what was typed and the reason.
        return _page(request, user, values, exc.chinese, status=400)
    saved = f"，附件 {done.attached} 个已保存" if done.attached else ""
    if done.duplicate:
        flash(request, f"这条内容已经登记或采集过（信息 #{done.mention_id}），未重复保存{saved}")
    else:
        flash(request, f"已登记{saved}，下一轮巡检将自动研判、归入事件并按级别通知")
    return RedirectResponse(f"/mentions/{done.mention_id}", status_code=303)


async def attachment(request: Request, user: User) -> Response:
    """A registered mention's attached file, for any signed-in role, always as a download of
    the type its bytes are (never shown as a page of this site); audited."""
    with web_of(request).db.transaction() as session:
        row = download(
            session,
            int(request.path_params["mention_id"]),
            int(request.path_params["attachment_id"]),
            user.name,
        )
        if row is None:
            raise HTTPException(404, "没有这个附件")
        body, content_type, name = row.data, row.content_type, row.filename
    return Response(
        body,
        media_type=content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            "Cache-Control": "no-store",
        },
    )


routes = [
    Route("/register", guard(form, REGISTER_ROLES)),
    Route("/register", guard(submit, REGISTER_ROLES), methods=["POST"]),
    Route("/mentions/{mention_id:id}/attachments/{attachment_id:id}", guard(attachment)),
]
