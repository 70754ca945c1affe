"""The web UI (read-only for now): mentions, incidents and drafts, in Simplified Chinese."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import Route

from responder.acks import AckLinkError, acknowledge, read_ack_token
from responder.db import Database
from responder.duty import on_duty
from responder.incident_actions import history
from responder.models import (
    DeliveryAttempt,
    Draft,
    Incident,
    Mention,
    Notice,
    OutboxMessage,
    utcnow,
)
from responder.notices import known_people
from responder.rendering import local_time, web_environment
from responder.settings import Settings
from responder.spread import spread

PAGE_SIZE = 50


def create_app(settings: Settings, db: Database | None = None) -> Starlette:
    db = db or Database(settings)
    env = web_environment()
    env.filters["local"] = lambda value, fmt="%Y-%m-%d %H:%M": local_time(value, settings.tz, fmt)
    env.globals["office"] = settings.office_name

    def page(name: str, request: Request, **context: Any) -> HTMLResponse:
        html = env.get_template(name).render(request=request, path=request.url.path, **context)
        return HTMLResponse(html)

    async def index(request: Request) -> HTMLResponse:
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
            return page("index.html", request, counts=counts, incidents=incidents, duty=duty)

    async def mentions(request: Request) -> HTMLResponse:
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
            return page("mentions.html", request, mentions=rows, reprints=reprints)

    async def incidents(request: Request) -> HTMLResponse:
        with db.sessions() as session:
            rows = session.scalars(
                select(Incident).order_by(Incident.last_seen.desc()).limit(PAGE_SIZE)
            ).all()
            return page("incidents.html", request, incidents=rows)

    async def incident(request: Request) -> HTMLResponse:
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
                incident=found,
                mentions=rows,
                drafts=drafts,
                notices=notices,
                messages=messages,
                attempts=attempts,
                spread=spread(rows, settings.severity, utcnow()),
                history=history(session, found.id),
            )

    async def drafts(request: Request) -> HTMLResponse:
        with db.sessions() as session:
            rows = session.scalars(
                select(Draft)
                .options(selectinload(Draft.incident), selectinload(Draft.template_version))
                .order_by(Draft.id.desc())
                .limit(PAGE_SIZE)
            ).all()
            return page("drafts.html", request, drafts=rows)

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

    async def healthz(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    async def not_found(request: Request, exc: Exception) -> HTMLResponse:
        detail = getattr(exc, "detail", "页面不存在")
        status = getattr(exc, "status_code", 404)
        html = env.get_template("error.html").render(
            request=request, path=request.url.path, detail=detail
        )
        return HTMLResponse(html, status_code=status)

    routes = [
        Route("/", index),
        Route("/mentions", mentions),
        Route("/incidents", incidents),
        Route("/incidents/{incident_id:int}", incident),
        Route("/drafts", drafts),
        Route("/ack/{token}", ack, methods=["GET", "POST"]),
        Route("/healthz", healthz),
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: not_found})
