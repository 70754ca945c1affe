"""The acknowledgement link of a notice, which needs no login (the signed link is the
permission)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from responder import clock
from responder.models import Notice
from responder.notices.acks import acknowledge, read_ack_token
from responder.notices.recipients import known_people
from responder.web.core import web_of


async def ack(request: Request) -> HTMLResponse:
    """Show the notice an acknowledgement link names; a POST acknowledges it. A link yuqing
    did not sign, or one expired, is refused (AckLinkError, 400) by the app's one handler."""
    web = web_of(request)
    claim = read_ack_token(web.settings, request.path_params["token"])
    with web.db.sessions() as session, session.begin():
        notice = session.get(Notice, claim.notice_id)
        if notice is None:
            raise HTTPException(404, "没有这条通知")
        names = {p.email: p.name for p in known_people(web.settings).values()}
        recipient = names.get(claim.recipient, claim.recipient)
        if request.method == "POST":
            acknowledge(session, notice, recipient, clock.now(), via="link")
        return web.render(
            request, "ack.html", notice=notice, incident=notice.incident, recipient=recipient
        )


routes = [
    # No login: the signed link is the permission, and leaders may have no account.
    Route("/ack/{token}", ack, methods=["GET", "POST"]),
]
