"""The acknowledgement link of a notice, which needs no login (the signed link is the
permission)."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from responder import clock
from responder.models import Notice
from responder.notices.acks import AckLinkError, acknowledge, read_ack_token
from responder.notices.recipients import known_people
from responder.web.core import Web


def routes(web: Web) -> list[Route]:
    settings, db = web.settings, web.db

    def page(name: str, request: Request, **context: Any) -> HTMLResponse:
        return web.render(request, name, **context)

    async def ack(request: Request) -> HTMLResponse:
        """Show the notice an acknowledgement link names; a POST acknowledges it."""
        try:
            claim = read_ack_token(settings, request.path_params["token"])
        except AckLinkError as exc:
            raise HTTPException(400, str(exc)) from None
        with db.sessions() as session, session.begin():
            notice = session.get(Notice, claim.notice_id)
            if notice is None:
                raise HTTPException(404, "没有这条通知")
            names = {p.email: p.name for p in known_people(settings).values()}
            recipient = names.get(claim.recipient, claim.recipient)
            if request.method == "POST":
                acknowledge(session, notice, recipient, clock.now(), via="link")
            return page(
                "ack.html", request, notice=notice, incident=notice.incident, recipient=recipient
            )

    return [
        # No login: the signed link is the permission, and leaders may have no account.
        Route("/ack/{token}", ack, methods=["GET", "POST"]),
    ]
