"""The read-only pages: dashboard, mentions, incidents and drafts; and the acknowledgement
link of a notice, which needs no login (the signed link is the permission)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from responder.acks import AckLinkError, acknowledge, read_ack_token
from responder.duty import on_duty
from responder.incident_actions import history
from responder.models import (
    DeliveryAttempt,
    Draft,
    Incident,
    Mention,
    Notice,
    OutboxMessage,
    User,
    utcnow,
)
from responder.notices import known_people
from responder.spread import spread
from responder.web.core import Web, guard

PAGE_SIZE = 50


def routes(web: Web) -> list[Route]:
    settings, db = web.settings, web.db

    def page(name: str, request: Request, **context: Any) -> HTMLResponse:
        return web.render(request, name, **context)

    async def index(request: Request, user: User) -> HTMLResponse:
        with db.sessions() as session:
            counts = {
                "mentions": session.scalar(select(func.count(Mention.id))),
                "incidents": session.scalar(
                    select(func.count(Incident.id)).where(Incident.status == "open")
                ),
                "drafts": session.scalar(
                    select(func.count(Draft.id)).where(Draft.status == "pending")
                ),
                "outbox": session.scalar(
                    select(func.count(OutboxMessage.id)).where(OutboxMessage.status == "sent")
                ),
            }
            incidents = session.scalars(
                select(Incident)
                .where(Incident.status == "open")
                .order_by(Incident.score.desc())
                .limit(10)
            ).all()
            duty = on_duty(session, settings, utcnow().astimezone(settings.tz).date())
            return page(
                "index.html", request, user=user, counts=counts, incidents=incidents, duty=duty
            )

    async def mentions(request: Request, user: User) -> HTMLResponse:
        with db.sessions() as session:
            rows = session.scalars(
                select(Mention)
                .options(selectinload(Mention.judgements), selectinload(Mention.source))
                .order_by(Mention.published_at.desc(), Mention.id.desc())
                .limit(PAGE_SIZE)
            ).all()
            reprints = dict(
                session.execute(
                    select(Mention.reprint_of, func.count(Mention.id))
                    .where(Mention.reprint_of.in_([m.id for m in rows]))
                    .group_by(Mention.reprint_of)
                ).all()
            )
            return page("mentions.html", request, user=user, mentions=rows, reprints=reprints)

    async def incidents(request: Request, user: User) -> HTMLResponse:
        with db.sessions() as session:
            rows = session.scalars(
                select(Incident).order_by(Incident.last_seen.desc()).limit(PAGE_SIZE)
            ).all()
            return page("incidents.html", request, user=user, incidents=rows)

    async def incident(request: Request, user: User) -> HTMLResponse:
        with db.sessions() as session:
            found = session.get(Incident, int(request.path_params["incident_id"]))
            if found is None:
                raise HTTPException(404, "没有这个事件")
            rows = session.scalars(
                select(Mention)
                .where(Mention.incident_id == found.id)
                .options(selectinload(Mention.judgements))
                .order_by(Mention.published_at)
            ).all()
            drafts = session.scalars(select(Draft).where(Draft.incident_id == found.id)).all()
            notices = session.scalars(
                select(Notice).where(Notice.incident_id == found.id).order_by(Notice.id)
            ).all()
            messages = session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.incident_id == found.id)
                .order_by(OutboxMessage.id)
            ).all()
            attempts = dict(
                session.execute(
                    select(DeliveryAttempt.message_id, func.count(DeliveryAttempt.id))
                    .where(DeliveryAttempt.message_id.in_([m.id for m in messages]))
                    .group_by(DeliveryAttempt.message_id)
                ).all()
            )
            return page(
                "incident.html",
                request,
                user=user,
                incident=found,
                mentions=rows,
                drafts=drafts,
                notices=notices,
                messages=messages,
                attempts=attempts,
                spread=spread(rows, settings.severity, utcnow()),
                history=history(session, found.id),
            )

    async def drafts(request: Request, user: User) -> HTMLResponse:
        with db.sessions() as session:
            rows = session.scalars(
                select(Draft)
                .options(selectinload(Draft.incident), selectinload(Draft.template_version))
                .order_by(Draft.id.desc())
                .limit(PAGE_SIZE)
            ).all()
            return page("drafts.html", request, user=user, drafts=rows)

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
                acknowledge(session, notice, recipient, utcnow(), via="link")
            return page(
                "ack.html", request, notice=notice, incident=notice.incident, recipient=recipient
            )

    return [
        Route("/", guard(web, index)),
        Route("/mentions", guard(web, mentions)),
        Route("/incidents", guard(web, incidents)),
        Route("/incidents/{incident_id:int}", guard(web, incident)),
        Route("/drafts", guard(web, drafts)),
        # No login: the signed link is the permission, and leaders may have no account.
        Route("/ack/{token}", ack, methods=["GET", "POST"]),
    ]
